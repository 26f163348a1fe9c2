"""Fingerprints that survive moved lines and rewording, and where on the diff a finding can be placed."""

from __future__ import annotations

from reviewbot.adapters.github.placement import fingerprints, placement
from reviewbot.core.models import Diff
from tests.adapters.github.support import DIFF, added_file, finding


def test_fingerprint_ignores_line_numbers_and_wording():
    before = Diff(files=(added_file("app/service.py", ["x = 1", "time.sleep(5)"]),))
    after = Diff(files=(added_file("app/service.py", ["import time", "", "x = 1", "   time.sleep(5)  "]),))
    [a] = fingerprints([finding(2, "time.sleep blocks")], before)
    [b] = fingerprints([finding(4, "This call blocks the loop")], after)
    assert a == b
    [c] = fingerprints([finding(4, "x", category="performance")], after)
    [d] = fingerprints([finding(3, "x")], after)
    assert len({a, c, d}) == 3


def test_repeated_findings_get_distinct_fingerprints():
    fps = fingerprints([finding(2, "one"), finding(2, "two")], DIFF)
    assert len(set(fps)) == 2


def test_placement_on_diff_lines_only():
    f = DIFF.files[0]
    assert placement(finding(7), f).line == 7
    spanning = placement(finding(7, end_line=9), f)
    assert (spanning.start_line, spanning.line, spanning.whole_range) == (7, 9, True)
    beyond = placement(finding(40, end_line=45), f)
    assert (beyond.start_line, beyond.line, beyond.whole_range) == (None, 40, False)
    assert placement(finding(41), f) is None
    assert placement(finding(1), None) is None
