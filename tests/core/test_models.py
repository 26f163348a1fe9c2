"""reviewbot/core/models.py: the explicit types reports and filters share (issue 14 item 4)."""

from __future__ import annotations

import json

from reviewbot.core.models import DropReason, Finding, FindingSource, ReviewResult, Severity


def test_drop_reasons_are_the_strings_reports_print():
    assert DropReason.OFF_DIFF == "off-diff" and f"{DropReason.LOW_CONFIDENCE}" == "low-confidence"
    assert json.dumps({DropReason.INVALID: 2}) == '{"invalid": 2}'
    assert DropReason("unanchored") is DropReason.UNANCHORED


def test_every_drop_reason_reads_as_a_phrase():
    assert DropReason.REJECTED.phrase == "rejected by verification"
    assert DropReason.BASELINE.phrase == "accepted by the baseline"
    assert DropReason.OFF_DIFF.phrase == "dropped off-diff"  # the reasons without a phrase of their own
    assert all(reason.phrase for reason in DropReason)


def test_dropped_count_sums_one_reason():
    result = ReviewResult(findings=(), dropped=((DropReason.OFF_DIFF, 2), (DropReason.INVALID, 1),
                                                (DropReason.OFF_DIFF, 3)))
    assert result.dropped_count(DropReason.OFF_DIFF) == 5
    assert result.dropped_count(DropReason.REJECTED) == 0


def test_a_finding_comes_from_the_model_unless_said_otherwise():
    finding = Finding(path="a.py", line=1, severity=Severity.ERROR, category="bug", message="m")
    assert finding.source is FindingSource.MODEL
    local = Finding(path="a.py", line=1, severity=Severity.ERROR, category="secrets", message="m",
                    source=FindingSource.SECRETS)
    assert json.dumps({"source": local.source}) == '{"source": "secrets"}'
