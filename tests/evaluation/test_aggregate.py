"""Aggregating case scores over repeated runs: merged per case, with verdict flips reported."""

from __future__ import annotations

import json

import pytest

from reviewbot.evaluation.aggregate import aggregate, count_flips
from reviewbot.evaluation.report import render_json, render_text
from reviewbot.evaluation.scoring import score_case
from tests.evaluation.support import (
    case_of,
    finding,
    issue,
)


def test_count_flips():
    assert count_flips([True, True, True]) == 0
    assert count_flips([True, False, True]) == 2
    assert count_flips([False, False, True]) == 1
    assert count_flips([]) == 0


def test_repeated_runs_merge_per_case_and_report_verdict_flips():
    case = case_of("c", issue("a.py", 10))
    clean = case_of("clean")
    runs = [
        score_case(case, [finding("a.py", 10)]),
        score_case(clean, []),
        score_case(case, []),
        score_case(clean, []),
        score_case(case, [finding("a.py", 11)]),
        score_case(clean, []),
    ]
    report = aggregate(runs, repeats=3)
    assert [c.name for c in report.cases] == ["c", "clean"]
    merged = report.cases[0]
    assert (merged.tp, merged.fp, merged.fn, merged.runs, merged.expected) == (2, 0, 1, 3, 3)
    assert report.stability is not None
    assert report.stability.verdicts == {"c": (True, False, True), "clean": (False, False, False)}
    assert report.stability.flips == {"c": 2, "clean": 0}
    assert report.stability.unstable_cases == ("c",)
    assert report.stability.flip_rate == pytest.approx(2 / 4)
    data = json.loads(render_json(report))
    assert data["repeats"] == 3
    assert data["stability"]["unstable_cases"] == ["c"]
    assert data["cases"][0]["verdicts"] == [True, False, True] and data["cases"][0]["flips"] == 2
    assert "block 2/3" in render_text(report)
    # Given flip counts replace the computed ones.
    assert aggregate(runs, repeats=3, verdict_flips={"c": 1}).stability.flips["c"] == 1


def test_single_runs_have_no_stability_section():
    report = aggregate([score_case(case_of("c"), [])])
    assert report.stability is None and report.repeats == 1
    assert json.loads(render_json(report))["stability"] is None
