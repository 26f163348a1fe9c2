"""The one-line summary: everything counted on one line, singular forms, a capped failed list."""

from __future__ import annotations

from reviewbot.core.models import Severity, Skipped, Usage
from reviewbot.reporters import ReportOptions, summary_line
from tests.reporters.support import (
    finding,
    result,
)


def test_summary_line_counts_everything_on_one_line():
    res = result(
        finding(), finding("b.py", 2, Severity.WARNING),
        files_reviewed=("app/service.py", "b.py", "c.py"),
        skipped=(Skipped("poetry.lock", "lock file"),),
        failed=(Skipped("a.py", "timeout"), Skipped("b\nc.py", "timeout")),
        dropped=(("off-diff", 3), ("unanchored", 1)),
        held_back=(finding("h.py", 9),),
        usage=Usage(2, 1, 1234, 210),
        model="gpt-4o-mini",
    )
    line = summary_line(res, ReportOptions())
    assert line == (
        "reviewbot: 2 findings (1 error, 1 warning) in 3 files reviewed, 1 skipped (poetry.lock: lock file); "
        "2 requests (1 cached), 1,234 tokens in / 210 out; model gpt-4o-mini; "
        "2 blocking (at or above error); 3 dropped off-diff, "
        "1 dropped unanchored; 1 held back by the findings budget; could not review: a.py, b c.py"
    )
    assert "\n" not in line


def test_summary_line_singular_and_clean():
    line = summary_line(result(files_reviewed=("a.py",), usage=Usage(1, 0, 10, 2)), ReportOptions())
    assert line == "reviewbot: no findings in 1 file reviewed; 1 request, 10 tokens in / 2 out"


def test_summary_line_caps_the_failed_list():
    failed = tuple(Skipped(f"f{i}.py", "boom") for i in range(9))
    line = summary_line(result(failed=failed), ReportOptions())
    assert line.endswith("could not review: f0.py, f1.py, f2.py, f3.py, f4.py and 4 more")
