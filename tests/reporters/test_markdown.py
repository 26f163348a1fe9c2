"""The Markdown step summary: model text escaped in the table, its parts, and the size limit."""

from __future__ import annotations

import re

from reviewbot.core.models import Severity
from reviewbot.reporters import ReportOptions, render
from reviewbot.reporters.markdown import SIZE_LIMIT
from tests.reporters.support import (
    finding,
    result,
    sample,
)

_OUR_TAGS = re.compile(r"</?(?:details|summary|br)>")


_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def test_markdown_escapes_model_text_in_the_table():
    res = sample()
    md = render("markdown", res, ReportOptions())
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| Severity")]
    assert len(rows) == len(res.findings)
    for row in rows:
        assert len(_CELL_SPLIT.split(row)) == 7  # 5 cells between the outer pipes: no cell was broken open
    assert "<" not in _OUR_TAGS.sub("", md)  # no HTML of the model's own
    assert not re.search(r"@[\w-]", md)  # no live mentions
    assert "\x1b" not in md and "\u202e" not in md
    assert "](http" not in md  # no live link from model text
    assert "\\`tick\\`" in md and "c\\|d" in md and "&lt;script&gt;" in md


def test_markdown_summary_parts():
    md = render("markdown", sample(), ReportOptions())
    assert md.startswith("## reviewbot review")
    assert "**Blocking:** 2 findings at or above `error`." in md
    assert "- poetry.lock: lock file" in md
    assert "- big.py: model timed out" in md
    assert "Files reviewed (4)" in md and "- clean.py" in md
    assert "Model gpt-4o-mini" in md and "2 requests (1 cached)" in md and "1,234 tokens in / 210 out" in md
    assert "4 dropped (off-diff)" in md
    never = render("markdown", sample(), ReportOptions(fail_on=None))
    assert "never fails the check" in never
    clean = render("markdown", result(finding(severity=Severity.INFO)), ReportOptions())
    assert "**Not blocking:**" in clean


def test_markdown_stays_under_the_step_summary_limit():
    long = "x" * 5000
    findings = [finding(f"src/file_{i}.py", i + 1, message=long) for i in range(3000)]
    res = result(*findings, files_reviewed=tuple(f"pkg/{'d' * 200}/{i}.py" for i in range(20000)))
    md = render("markdown", res, ReportOptions())
    assert len(md.encode("utf-8")) <= SIZE_LIMIT
    assert "more findings not listed here" in md
    assert "Files reviewed (20,000)" in md
    assert md.rstrip().splitlines()[-1].endswith("0 tokens in / 0 out \u00b7 reviewbot 0.1.0")  # footer kept
