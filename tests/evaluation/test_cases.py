"""Loading evaluation cases: sorted by name, issues read, broken cases named in one sentence, and the bundled corpus."""

from __future__ import annotations

import pytest

from reviewbot.core.errors import ConfigError
from reviewbot.core.models import Severity
from reviewbot.evaluation.cases import ExpectedIssue, load_cases
from tests.evaluation.support import (
    BUNDLED,
    write_case,
)


def test_load_cases_sorts_by_name_and_reads_issues(tmp_path):
    write_case(tmp_path, "b-case", {"issues": []})
    write_case(
        tmp_path,
        "a-case",
        {
            "description": "d",
            "issues": [{"path": "./app/x.py", "lines": [3, 5], "category": "security", "severity": "critical"}],
        },
    )
    (tmp_path / "README.md").write_text("not a case")
    (tmp_path / ".hidden").mkdir()
    cases = load_cases(tmp_path)
    assert [c.name for c in cases] == ["a-case", "b-case"]
    assert cases[0].expected == (ExpectedIssue("app/x.py", 3, 5, "security", Severity.ERROR),)
    assert cases[0].description == "d" and cases[0].base_dir is None
    assert cases[1].is_clean


def test_a_single_case_directory_is_a_corpus_of_one(tmp_path):
    directory = write_case(tmp_path, "only", {"issues": [{"path": "a", "lines": [2], "category": "c"}]})
    (cases,) = load_cases(directory)
    assert cases.expected[0].start == cases.expected[0].end == 2
    assert cases.expected[0].severity is Severity.ERROR


@pytest.mark.parametrize(
    ("expected", "patch", "message"),
    [
        ({"issues": []}, None, "Evaluation case broken has no diff.patch"),
        (None, "x", "Evaluation case broken has an invalid expected.json: the file is missing"),
        ("{not json", "x", "not readable JSON"),
        ({"issue": []}, "x", '"issues" list'),
        ({"issues": [{"path": "a", "lines": [5, 2], "category": "c"}]}, "x", "not 1-based and ordered"),
        ({"issues": [{"path": "a", "lines": "5", "category": "c"}]}, "x", '"lines": [start, end]'),
        ({"issues": [{"path": "", "lines": [1, 1], "category": "c"}]}, "x", '"path"'),
        ({"issues": [{"path": "a", "lines": [1, 1]}]}, "x", '"category"'),
        ({"issues": [{"path": "a", "lines": [1, 1], "category": "c", "severity": "meh"}]}, "x", "severity"),
        ({"issues": []}, "  \n", "empty diff.patch"),
    ],
)
def test_broken_cases_raise_one_sentence_naming_the_case(tmp_path, expected, patch, message):
    write_case(tmp_path, "broken", expected, patch)
    with pytest.raises(ConfigError) as err:
        load_cases(tmp_path)
    assert "broken" in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_or_empty_corpus_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="is not a directory"):
        load_cases(tmp_path / "nope")
    with pytest.raises(ConfigError, match="holds no case directories"):
        load_cases(tmp_path)


def test_bundled_corpus_has_enough_defect_and_clean_cases():
    defects = [c for c in BUNDLED if not c.is_clean]
    clean = [c for c in BUNDLED if c.is_clean]
    assert len(defects) >= 20
    assert len(clean) >= 6
    assert all(c.name.startswith("clean-") for c in clean)
    assert all(c.description for c in BUNDLED)
    assert len({i.category for c in defects for i in c.expected}) >= 6
