"""GitHub Actions annotations: the toolkit's escaping, hostile text that cannot inject workflow commands, and the
annotation limit."""

from __future__ import annotations

from hypothesis import given, strategies as st

from reviewbot.core.models import Severity
from reviewbot.reporters import ReportOptions, render
from reviewbot.reporters.base import sanitize_terminal
from reviewbot.reporters.github import escape_data, escape_property, unescape_data, unescape_property
from tests.reporters.support import (
    HOSTILE,
    finding,
    parse_workflow_command,
    result,
    sample,
)


def test_github_escaping_matches_the_toolkit():
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("%0A") == "%250A"  # `%` first, so an existing escape survives


@given(st.text())
def test_github_escaping_round_trips(text):
    assert unescape_data(escape_data(text)) == text
    assert unescape_property(escape_property(text)) == text
    assert "\n" not in escape_data(text) and "\r" not in escape_data(text)
    assert not {",", ":"} & set(escape_property(text))


def test_github_annotations_carry_hostile_text_without_injecting_commands():
    res = sample()
    out = render("github", res, ReportOptions())
    lines = out.splitlines()
    assert len(lines) == len(res.findings)  # nothing split a line, nothing extra appeared
    commands = [parse_workflow_command(ln) for ln in lines]
    assert [c[0] for c in commands] == ["error", "warning", "notice", "error"]
    name, props, data = commands[0]
    assert props == {
        "file": "app/service.py", "line": "21", "endLine": "23",
        "title": "reviewbot: blocking-io (senior-backend-engineer)",
    }
    assert data.startswith(sanitize_terminal(HOSTILE).strip())  # the whole message, control chars removed
    assert "::add-mask::hunter2" in data and "::error file=x::fake" in data  # present, but only as data
    assert commands[1][1]["file"] == "a b/\u00fc,x:y.py"  # `,` and `:` survive the property escaping
    assert commands[1][1]["title"] == "reviewbot: SQL Injection"
    assert "endLine" not in commands[1][1]
    assert "\x1b" not in out and "\r" not in out


def test_github_annotation_limit_leaves_a_notice():
    findings = (
        [finding(f"e{i}.py", 1) for i in range(13)]
        + [finding(f"w{i}.py", 1, Severity.WARNING) for i in range(2)]
        + [finding(f"i{i}.py", 1, Severity.INFO) for i in range(12)]
    )
    out = render("github", result(*findings), ReportOptions(annotation_limit=10))
    commands = [parse_workflow_command(ln) for ln in out.splitlines()]
    kinds = [c[0] for c in commands]
    assert kinds.count("error") == 10 and kinds.count("warning") == 2
    assert kinds.count("notice") == 10  # 9 findings + our own notice, within the runner's limit
    notice = commands[-1]
    assert notice[0] == "notice" and "file" not in notice[1]
    assert notice[2].startswith("reviewbot: 6 more findings (3 errors, 3 infos) not shown as annotations")
    assert "job summary" in notice[2]


def test_github_no_notice_when_everything_fits():
    out = render("github", result(*[finding(f"e{i}.py", 1) for i in range(10)]), ReportOptions())
    assert len(out.splitlines()) == 10
    assert "not shown" not in out
    assert render("github", result(), ReportOptions()) == ""
