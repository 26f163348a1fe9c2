"""Evidence recall: the lines a case names as evidence, and totals and reports over rows measured with the context
off and on (failed cases counted apart, cases without evidence left out of recall)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from reviewbot.evaluation.cases import Evidence
from reviewbot.evaluation.evidence import EvidenceRow, evidence_lines, render_json, render_text, totals

ROWS = [
    EvidenceRow("db-injection", evidence_lines=4, shown_off=1, shown_on=4, tokens_off=1000, tokens_on=1500),
    EvidenceRow("race", evidence_lines=6, shown_off=0, shown_on=3, tokens_off=2000, tokens_on=2500),
    EvidenceRow("clean", evidence_lines=0, shown_off=0, shown_on=0, tokens_off=500, tokens_on=500),
    EvidenceRow("broken", evidence_lines=3, shown_off=0, shown_on=0, tokens_off=0, tokens_on=0, error="bad patch"),
]


def test_evidence_lines_expand_each_range():
    case = SimpleNamespace(evidence=(Evidence("app/db.py", 3, 5), Evidence("app/q.py", 9, 9)))
    assert evidence_lines(case) == {("app/db.py", 3), ("app/db.py", 4), ("app/db.py", 5), ("app/q.py", 9)}


def test_totals_count_recall_over_cases_with_evidence_and_tokens_over_all():
    t = totals(ROWS)
    assert (t["cases"], t["cases_with_evidence"], t["evidence_lines"], t["errors"]) == (4, 2, 10, 1)
    assert (t["recall_off"], t["recall_on"]) == (0.1, 0.7)
    assert (t["tokens_off"], t["tokens_on"], t["token_ratio"]) == (3500, 4500, 1.286)
    assert t["token_ratio_evidence_cases"] == 1.333


def test_reports_show_each_row_and_the_overall_line():
    text = render_text(ROWS)
    assert "broken" in text and "error: bad patch" in text
    assert any(line.startswith("db-injection") and "25%" in line and "100%" in line for line in text.splitlines())
    assert text.splitlines()[-1].startswith("overall: recall 10.0% off -> 70.0% on over 10 evidence lines in 2 cases")
    doc = json.loads(render_json(ROWS))
    assert [c["case"] for c in doc["cases"]] == ["db-injection", "race", "clean", "broken"]
    assert doc["overall"] == totals(ROWS)
    assert "no case names evidence" in render_text(ROWS[2:3])
