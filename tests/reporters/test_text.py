"""The text report: editor-parseable first lines, indented details, colour only when asked."""

from __future__ import annotations

import re

from reviewbot.reporters import ReportOptions, render
from tests.reporters.support import (
    finding,
    result,
    sample,
)

_TEXT_HEAD = re.compile(r"^(?P<path>\S.*?):(?P<line>\d+): (?P<severity>error|warning|info): (?P<rest>.*)$")


def test_text_first_lines_are_editor_parseable_and_details_are_indented():
    res = sample()
    out = render("text", res, ReportOptions())
    heads = [ln for ln in out.splitlines() if not ln.startswith(" ")]
    assert len(heads) == len(res.findings)
    for head, f in zip(heads, res.findings, strict=True):
        m = _TEXT_HEAD.match(head)
        assert m, head
        assert (m["path"], int(m["line"]), m["severity"]) == (f.path, f.line, f.severity.label)
        assert "confidence" not in head and "moved from" not in head
    assert heads[0].endswith("[senior-backend-engineer/blocking-io]")
    assert heads[2].endswith("[style]")  # no agent: just the category
    assert "    (confidence 0.82) (moved from line 18)" in out.splitlines()
    # moved and not Python: not offered as code (tests/reporters/test_suggestion.py)
    assert "    advice:" in out.splitlines()
    assert "        await asyncio.sleep(1)" in out.splitlines()
    assert all(ln.startswith("    ") for ln in out.splitlines() if ln not in heads)


def test_text_colour_only_when_asked_and_model_escapes_never_pass():
    res = sample()
    plain = render("text", res, ReportOptions(color=False))
    assert "\x1b" not in plain and "\r" not in plain and "\u202e" not in plain
    coloured = render("text", res, ReportOptions(color=True))
    assert "\x1b[1;31merror\x1b[0m" in coloured
    own_codes = re.compile(r"\x1b\[(?:0|1|2|33|36|1;31)m")
    assert "\x1b" not in own_codes.sub("", coloured)  # every escape left is one of ours
    assert own_codes.sub("", coloured) == plain


def test_text_is_empty_without_findings():
    assert render("text", result(), ReportOptions()) == ""


def test_text_path_with_newline_stays_on_one_line():
    out = render("text", result(finding("evil\n::error::x.py", 1)), ReportOptions())
    assert len([ln for ln in out.splitlines() if not ln.startswith(" ")]) == 1
    assert out.startswith("evil\\n::error::x.py:1: error: ")
