"""Rendering the evaluation report as JSON and as text."""

from __future__ import annotations

import json
import re

import pytest

from reviewbot.core.models import Usage
from reviewbot.evaluation.aggregate import aggregate
from reviewbot.evaluation.report import render_json, render_text
from reviewbot.evaluation.scoring import score_case
from tests.evaluation.support import (
    case_of,
    finding,
    issue,
)


def test_json_report_shape():
    scores = [
        score_case(case_of("a", issue("x.py", 3, category="security")), [finding("x.py", 3, category="security")]),
        score_case(case_of("b"), [finding("y.py", 1)]),
    ]
    report = aggregate(
        scores, usage=Usage(requests=2, tokens_in=10, tokens_out=5), wall_seconds=1.25, model="m1", agent="ag"
    )
    data = json.loads(render_json(report))
    assert (data["precision"], data["recall"], data["f1"]) == (0.5, 1.0, pytest.approx(0.6667))
    assert (data["tp"], data["fp"], data["fn"]) == (1, 1, 0)
    assert [(c["name"], c["tp"], c["fp"], c["fn"]) for c in data["cases"]] == [("a", 1, 0, 0), ("b", 0, 1, 0)]
    assert set(data["cases"][0]) >= {"findings", "expected", "blocking", "expected_blocking", "per_category"}
    assert data["per_category"]["security"]["tp"] == 1
    assert data["tokens"] == {"in": 10, "out": 5, "requests": 2}
    assert data["wall_seconds"] == 1.25
    assert (data["model"], data["agent"]) == ("m1", "ag")
    assert data["verdicts"] == {"correct": 1, "total": 2}


def test_text_report_shows_rows_totals_and_categories():
    scores = [
        score_case(case_of("sql-case", issue("x.py", 3, category="security")), [finding("x.py", 3)]),
        score_case(case_of("clean-case"), [finding("y.py", 1, category="style")]),
    ]
    text = render_text(aggregate(scores, usage=Usage(tokens_in=1234, tokens_out=56), wall_seconds=2.0, model="m"))
    assert text.startswith("reviewbot eval: 2 cases (model m)")
    assert re.search(r"^sql-case\s+1\s+1\s+1\s+0\s+0\s+block$", text, re.M)
    assert re.search(r"^clean-case\s+0\s+1\s+0\s+1\s+0\s+block \(expected pass\)$", text, re.M)
    assert re.search(r"^strict\s+0\.500\s+1\.000\s+0\.667\s+1\s+1\s+0$", text, re.M)
    assert "scores over 2 cases" in text and "failed" not in text
    assert re.search(r"^security\s+1\s+0\s+0\s", text, re.M)  # a hit counts under the expected category
    assert re.search(r"^style\s+0\s+1\s+0\s", text, re.M)  # noise counts under the finding's category
    assert not re.search(r"^bug\s", text, re.M)
    assert "tokens in 1234, out 56" in text
