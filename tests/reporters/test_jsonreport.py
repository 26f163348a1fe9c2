"""The JSON report: shape, key order, exact text, and blocking by --fail-on."""

from __future__ import annotations

import json
from dataclasses import replace

from reviewbot.core.models import Severity
from reviewbot.reporters import ReportOptions, render
from tests.reporters.support import (
    HOSTILE,
    finding,
    result,
    sample,
)


def test_json_report_shape_key_order_and_exact_text():
    res = replace(sample(), held_back=(finding("h.py", 1),))
    doc = json.loads(render("json", res, ReportOptions()))
    assert list(doc) == ["findings", "summary"]
    assert list(doc["findings"][0]) == [
        "path", "line", "end_line", "severity", "category", "message", "suggestion", "agent", "quote",
        "confidence", "reanchored_from", "clipped_from", "source",
    ]
    assert doc["findings"][0]["message"] == HOSTILE  # data formats keep the text; JSON escaping makes it safe
    assert doc["findings"][0]["confidence"] == 0.82
    assert doc["findings"][3]["source"] == "secrets"
    summary = doc["summary"]
    assert summary["findings"] == 4
    assert summary["by_severity"] == {"error": 2, "warning": 1, "info": 1}
    assert summary["blocking"] is True
    assert summary["files_reviewed"] == ["app/service.py", "a b/\u00fc,x:y.py", "docs/x.py", "clean.py"]
    assert summary["skipped"] == [{"path": "poetry.lock", "reason": "lock file"}]
    assert summary["failed"] == [{"path": "big.py", "reason": "model timed out"}]
    assert summary["dropped"] == {"off-diff": 4, "invalid": 1}
    assert summary["held_back"] == 1
    assert summary["usage"] == {"requests": 2, "cached": 1, "tokens_in": 1234, "tokens_out": 210, "failed": 0,
                                "cached_tokens": 0}
    assert summary["model"] == "gpt-4o-mini"
    assert summary["agents"] == ["senior-backend-engineer"]


def test_json_blocking_follows_fail_on_and_counts_held_back():
    res = result(finding(severity=Severity.WARNING), held_back=(finding("h.py", 1, Severity.ERROR),))
    assert json.loads(render("json", res, ReportOptions()))["summary"]["blocking"] is True
    assert json.loads(render("json", res, ReportOptions(fail_on=None)))["summary"]["blocking"] is False
    clean = result(finding(severity=Severity.WARNING))
    assert json.loads(render("json", clean, ReportOptions()))["summary"]["blocking"] is False
