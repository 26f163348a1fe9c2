"""Materializing a case: a reproducible repository with the change staged, whatever git variables surround it."""

from __future__ import annotations

import pytest

from reviewbot.core.errors import ConfigError
from reviewbot.evaluation.cases import load_cases
from reviewbot.evaluation.workspace import materialize_case
from tests.evaluation.support import (
    BUNDLED,
    added_lines_of_staged_diff,
    git,
    make_patch,
    write_case,
)


def test_materialize_builds_a_repo_with_the_change_staged(tmp_path):
    patch = make_patch(tmp_path, {"a.py": "one\ntwo\n"}, {"a.py": "one\nTWO\nthree\n", "b.py": "new\n"})
    case_dir = write_case(tmp_path / "corpus", "c1", {"issues": []}, patch)
    (case_dir / "base").mkdir()
    (case_dir / "base" / "a.py").write_text("one\ntwo\n")
    (case,) = load_cases(case_dir)
    repo = materialize_case(case, tmp_path / "work")
    assert repo == tmp_path / "work" / "c1"
    assert git(repo, "log", "--format=%s") == "base\n"
    assert git(repo, "diff", "--cached", "--name-only").split() == ["a.py", "b.py"]
    assert git(repo, "diff") == ""  # work tree equals the index
    assert (repo / "a.py").read_text() == "one\nTWO\nthree\n"


def test_materialize_is_reproducible(tmp_path):
    patch = make_patch(tmp_path, {}, {"a.py": "x\n"})
    (case,) = load_cases(write_case(tmp_path / "corpus", "c", {"issues": []}, patch))
    first = git(materialize_case(case, tmp_path / "w1"), "rev-parse", "HEAD")
    second = git(materialize_case(case, tmp_path / "w2"), "rev-parse", "HEAD")
    assert first == second


def test_materialize_ignores_git_variables_from_a_surrounding_hook(tmp_path, monkeypatch):
    patch = make_patch(tmp_path, {}, {"a.py": "x\n"})
    (case,) = load_cases(write_case(tmp_path / "corpus", "c", {"issues": []}, patch))
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(outer / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(outer / ".git" / "index"))
    repo = materialize_case(case, tmp_path / "work")
    assert (repo / ".git").is_dir()
    assert not (outer / ".git" / "index").exists()  # nothing was staged in the outer repository
    assert not any((outer / ".git" / "refs" / "heads").iterdir())  # and nothing committed there


def test_a_patch_that_does_not_apply_is_a_config_error(tmp_path):
    patch = make_patch(tmp_path, {"a.py": "one\ntwo\n"}, {"a.py": "one\n2\n"})
    case_dir = write_case(tmp_path / "corpus", "stale", {"issues": []}, patch)
    (case_dir / "base").mkdir()
    (case_dir / "base" / "a.py").write_text("something else entirely\n")
    (case,) = load_cases(case_dir)
    with pytest.raises(ConfigError, match=r"The diff.patch of evaluation case stale does not apply"):
        materialize_case(case, tmp_path / "work")


def test_materialize_refuses_a_non_empty_target(tmp_path):
    patch = make_patch(tmp_path, {}, {"a.py": "x\n"})
    (case,) = load_cases(write_case(tmp_path / "corpus", "c", {"issues": []}, patch))
    (tmp_path / "work" / "c").mkdir(parents=True)
    (tmp_path / "work" / "c" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already exists"):
        materialize_case(case, tmp_path / "work")
    assert (tmp_path / "work" / "c" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("case", BUNDLED, ids=lambda c: c.name)
def test_every_bundled_case_materializes_and_its_expected_lines_are_added_lines(case, tmp_path):
    repo = materialize_case(case, tmp_path)
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert staged, "the patch staged nothing"
    changed = sum(
        1 for line in case.patch.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )
    assert 3 <= changed <= 60, "cases should stay small and realistic"
    added = added_lines_of_staged_diff(repo)
    for expected in case.expected:
        file = repo / expected.path
        assert expected.path in staged and file.is_file()
        length = len(file.read_text().splitlines())
        assert 1 <= expected.start <= expected.end <= length
        # Both ends sit on added lines: the range names code the change introduced.
        assert expected.start in added[expected.path] and expected.end in added[expected.path]
