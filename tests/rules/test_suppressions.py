"""Inline `reviewbot: ignore` comments: the parser on its own, then end to end through the CLI."""

from __future__ import annotations

import json

import pytest

from reviewbot.core.models import Diff, FileDiff, Finding, Hunk, Line, Severity
from reviewbot.rules.suppressions import LineTexts, directive, is_suppressed

BASE = "".join(f"value_{i} = {i}\n" for i in range(1, 21))  # app/service.py, 20 lines
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _finding(line: int, category: str = "async", path: str = "app/service.py", severity: str = "error") -> dict:
    return {"path": path, "line": line, "severity": severity, "category": category,
            "message": f"{category} problem here"}


def _stage(repo, new_lines: list[str], *, base: str = BASE, path: str = "app/service.py") -> None:
    """Commit `base`, then stage it with `new_lines` appended (they become lines 21, 22, ...)."""
    repo.commit_files({path: base}, "base")
    repo.write(path, base + "".join(ln + "\n" for ln in new_lines))
    repo.add(path)


# -- the directive parser -------------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "x = eval(s)  # reviewbot: ignore",
    "x = eval(s)  # REVIEWBOT: IGNORE",
    "x = eval(s)  #reviewbot:ignore",
    "eval(s); // reviewbot: ignore",
    "SELECT * FROM t; -- reviewbot: ignore",
    "eval(s); /* reviewbot: ignore */",
    "<div onclick=x()></div> <!-- reviewbot: ignore -->",
    "(eval s) ; reviewbot: ignore",
    "x = y % z; % reviewbot: ignore",
    " * reviewbot: ignore",
    "# noqa: E501 reviewbot: ignore -- known",
])
def test_directive_in_any_comment_syntax(line):
    assert directive(line) == frozenset()


@pytest.mark.parametrize("line,expected", [
    ("x  # reviewbot: ignore[async]", {"async"}),
    ("x  // reviewbot: ignore[Security, async]", {"security", "async"}),
    ("x  # reviewbot: ignore [secrets]", {"secrets"}),
    ("x  # reviewbot: ignore[]", set()),
])
def test_directive_categories(line, expected):
    assert directive(line) == frozenset(expected)


@pytest.mark.parametrize("line", [
    'message = "reviewbot: ignore"',  # words in a string, no comment before them
    "x = 1  # reviewbot: ignored on purpose",  # another word
    "x = 1  # reviewbot ignore",
    "",
    None,
])
def test_no_directive(line):
    assert directive(line) is None


def _diff_with(lines: list[tuple[int, str]]) -> Diff:
    hunk = Hunk(old_start=1, old_len=0, new_start=lines[0][0], new_len=len(lines), section="",
                lines=tuple(Line("+", text, None, n) for n, text in lines))
    return Diff(files=(FileDiff("a.py", "a.py", "modified", hunks=(hunk,)),))


def _model_finding(line: int, category: str = "async", source: str = "model") -> Finding:
    return Finding("a.py", line, Severity.ERROR, category, "m", agent="x", source=source)


def test_line_above_counts_only_when_it_is_a_comment_line():
    diff = _diff_with([(1, "    # reviewbot: ignore"), (2, "call()"), (3, "a()  # reviewbot: ignore"), (4, "b()")])
    texts = LineTexts(diff, None)
    assert is_suppressed(_model_finding(2), texts)
    assert is_suppressed(_model_finding(3), texts)
    # A trailing comment on line 3 is about line 3, not about the next line.
    assert not is_suppressed(_model_finding(4), texts)


def test_secret_findings_need_the_explicit_category():
    diff = _diff_with([(1, "k = 'x'  # reviewbot: ignore"), (2, "k = 'y'  # reviewbot: ignore[secrets]")])
    texts = LineTexts(diff, None)
    assert not is_suppressed(_model_finding(1, "secrets", source="secrets"), texts)
    assert is_suppressed(_model_finding(2, "secrets", source="secrets"), texts)
    assert not is_suppressed(_model_finding(2, "async"), texts)


# -- end to end -----------------------------------------------------------------------------------------------

def test_ignore_on_the_flagged_line_suppresses_and_is_counted(repo, model_server, run_cli):
    _stage(repo, ["time.sleep(5)  # reviewbot: ignore", "requests.get(url)"])
    model_server.answer_findings([_finding(21), _finding(22, "timeouts")])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:22: error:" in result.stdout
    assert "app/service.py:21" not in result.stdout
    assert "1 suppressed by comments" in result.stderr


def test_ignore_on_the_line_above(repo, model_server, run_cli):
    _stage(repo, ["# reviewbot: ignore", "time.sleep(5)"])
    model_server.answer_findings([_finding(22)])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "1 suppressed by comments" in result.stderr


def test_categories_limit_what_is_suppressed(repo, model_server, run_cli):
    _stage(repo, ["# reviewbot: ignore[async, style]", "time.sleep(5)", "eval(x)  // reviewbot: ignore[style]"])
    model_server.answer_findings([_finding(22, "async"), _finding(22, "security"), _finding(23, "security")])
    result = run_cli("diff", "--staged", "--format", "json")
    assert result.exit_code == 1
    shown = sorted((f["line"], f["category"]) for f in json.loads(result.stdout)["findings"])
    assert shown == [(22, "security"), (23, "security")]
    assert "1 suppressed by comments" in result.stderr


def test_comment_syntax_of_other_languages(repo, model_server, run_cli):
    base = "".join(f"-- statement {i}\n" for i in range(1, 4))
    _stage(repo, ["DELETE FROM users; -- reviewbot: ignore[data-integrity]"], base=base, path="db/cleanup.sql")
    model_server.answer_findings([_finding(4, "data-integrity", path="db/cleanup.sql")])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stdout
    assert "1 suppressed by comments" in result.stderr


def test_secret_is_suppressed_only_by_naming_secrets(repo, model_server, run_cli):
    _stage(repo, [f'TOKEN = "{GITHUB_TOKEN}"  # reviewbot: ignore'])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 1
    assert "app/service.py:21: error: Secret in staged change" in result.stdout

    repo.write("app/service.py", BASE + f'TOKEN = "{GITHUB_TOKEN}"  # reviewbot: ignore[secrets]\n')
    repo.add("app/service.py")
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stdout
    assert "1 suppressed by comments" in result.stderr
    # The token itself never reached the model.
    assert all(GITHUB_TOKEN not in json.dumps(body) for body in model_server.requests)


def test_line_above_outside_the_diff_is_read_from_the_reviewed_revision(repo, model_server, run_cli):
    base = BASE + "# reviewbot: ignore[async]\n"  # line 21, unchanged
    repo.write(".reviewbot.toml", "context_lines = 0\n")
    _stage(repo, ["time.sleep(5)"], base=base)  # line 22, the only line in the diff
    model_server.default = lambda body: {"findings": [_finding(22)]}
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 suppressed by comments" in result.stderr


def test_unstaged_comment_does_not_suppress_a_staged_review(repo, model_server, run_cli):
    repo.write(".reviewbot.toml", "context_lines = 0\n")
    _stage(repo, ["time.sleep(5)"])  # staged: line 21, with value_20 above it
    # In the work tree only, line 1 is gone and an ignore comment sits right above the same text at line 21.
    repo.write("app/service.py", BASE.split("\n", 1)[1] + "# reviewbot: ignore\ntime.sleep(5)\n")
    model_server.default = lambda body: {"findings": [_finding(21)]}
    result = run_cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:21: error:" in result.stdout
    # Reviewing the work tree instead, the comment is really there.
    repo.add("app/service.py")
    result = run_cli("diff", "--staged", "--no-cache")
    assert result.exit_code == 0, result.stdout


def test_fallback_file_that_disagrees_with_the_diff_is_not_used():
    diff = _diff_with([(3, "call()")])
    agreeing = LineTexts(diff, lambda path: "# reviewbot: ignore\nx\ncall()\n")
    assert agreeing("a.py", 1) == "# reviewbot: ignore"
    disagreeing = LineTexts(diff, lambda path: "# reviewbot: ignore\nx\nsomething else\n")
    assert disagreeing("a.py", 1) is None
    assert agreeing("other.py", 1) is None  # a path the diff does not name is never read
