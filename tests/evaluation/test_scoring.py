"""Scoring one case: matching findings to expected issues (strict and loose rules), precision, recall and F1,
categories, blocking, failed reviews, and the judge's verdicts on strict matches."""

from __future__ import annotations

import json
import re

import pytest

from reviewbot.core.models import Severity, Usage
from reviewbot.evaluation import SPAN_MARGIN
from reviewbot.evaluation.aggregate import aggregate
from reviewbot.evaluation.report import render_json, render_text
from reviewbot.evaluation.scoring import match_findings, normalise_category, ratios, score_case
from tests.evaluation.support import (
    case_of,
    finding,
    issue,
)


@pytest.mark.parametrize(
    ("line", "matches"),
    [(8, True), (10, True), (12, True), (14, True), (7, False), (15, False)],
)
def test_findings_within_two_lines_of_the_range_match(line, matches):
    expected = [issue("app.py", 10, 12)]
    tp, fp, fn = match_findings(expected, [finding("app.py", line)])
    assert (len(tp), len(fp), len(fn)) == ((1, 0, 0) if matches else (0, 1, 1))


def test_loose_rule_a_finding_range_that_reaches_into_the_widened_range_matches():
    expected = [issue("app.py", 20)]
    assert len(match_findings(expected, [finding("app.py", 10, 18)], rule="loose")[0]) == 1
    assert len(match_findings(expected, [finding("app.py", 10, 17)], rule="loose")[0]) == 0


def test_strict_rule_needs_the_anchored_line_near_the_range_not_just_an_overlap():
    expected = [issue("app.py", 20)]
    # The range reaches line 20, but the finding points at line 10: strict says no, loose says yes.
    assert len(match_findings(expected, [finding("app.py", 10, 20)])[0]) == 0
    assert len(match_findings(expected, [finding("app.py", 10, 20)], rule="loose")[0]) == 1
    assert len(match_findings(expected, [finding("app.py", 18, 19)])[0]) == 1
    assert len(match_findings(expected, [finding("app.py", 23)])[0]) == 0


@pytest.mark.parametrize(("end", "matches"), [(None, True), (23, True), (24, False), (40, False)])
def test_strict_rule_refuses_a_span_wider_than_the_expected_one_plus_the_margin(end, matches):
    # Expected: one line (20). A finding at 20 may cite up to SPAN_MARGIN (3) more lines: 20..23.
    assert SPAN_MARGIN == 3
    tp, fp, fn = match_findings([issue("app.py", 20)], [finding("app.py", 20, end)])
    assert (len(tp), len(fp), len(fn)) == ((1, 0, 0) if matches else (0, 1, 1))
    # The loose rule takes all of them: the whole-function finding is its "hit".
    assert len(match_findings([issue("app.py", 20)], [finding("app.py", 20, end)], rule="loose")[0]) == 1


def test_strict_span_margin_scales_with_the_expected_range():
    expected = [issue("app.py", 20, 25)]  # six lines: a finding may cite nine
    assert len(match_findings(expected, [finding("app.py", 19, 27)])[0]) == 1
    assert len(match_findings(expected, [finding("app.py", 19, 28)])[0]) == 0
    assert len(match_findings(expected, [finding("app.py", 19, 28)], span_margin=4)[0]) == 1


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError):
        match_findings([], [], rule="fuzzy")


def test_slack_can_be_narrowed():
    expected = [issue("app.py", 10)]
    assert len(match_findings(expected, [finding("app.py", 11)], slack=0)[0]) == 0
    assert len(match_findings(expected, [finding("app.py", 10)], slack=0)[0]) == 1


def test_paths_must_agree_after_normalisation():
    expected = [issue("app/x.py", 5)]
    assert len(match_findings(expected, [finding("app/y.py", 5)])[0]) == 0
    assert len(match_findings(expected, [finding("./app/x.py", 5)])[0]) == 1


def test_each_expected_issue_is_matched_at_most_once():
    expected = [issue("app.py", 10)]
    matches, false_positives, false_negatives = match_findings(
        expected, [finding("app.py", 10), finding("app.py", 11)]
    )
    assert [f.line for _, f in matches] == [10]
    assert [f.line for f in false_positives] == [11]
    assert false_negatives == []


def test_a_finding_takes_the_nearest_unmatched_issue():
    near, far = issue("app.py", 14), issue("app.py", 10)
    matches, false_positives, _ = match_findings([far, near], [finding("app.py", 13), finding("app.py", 11)])
    # Findings go in line order: 11 takes 10 (gap 0 vs 3), then 13 takes 14.
    assert {(i.start, f.line) for i, f in matches} == {(10, 11), (14, 13)}
    assert false_positives == []


def test_matching_does_not_depend_on_the_order_findings_arrive_in():
    expected = [issue("a.py", 10), issue("a.py", 12), issue("b.py", 3)]
    found = [finding("a.py", 11), finding("b.py", 4), finding("a.py", 11, category="other"), finding("a.py", 30)]
    forward = match_findings(expected, found)
    backward = match_findings(expected, list(reversed(found)))
    assert forward == backward
    assert len(forward[0]) == 3 and [f.line for f in forward[1]] == [30]


def test_on_a_tie_the_issue_of_the_same_category_wins():
    expected = [issue("a.py", 10, category="security"), issue("a.py", 10, category="async")]
    matches, _, false_negatives = match_findings(expected, [finding("a.py", 10, category="Async")])
    assert matches[0][0].category == "async"
    assert false_negatives[0].category == "security"


def test_ratios_with_nothing_to_divide_by_are_undefined():
    assert ratios(0, 0, 0) == (None, None, None)
    assert ratios(0, 0, 3) == (None, 0.0, 0.0)  # nothing reported: precision undefined, not 1.0
    assert ratios(0, 2, 0) == (0.0, None, 0.0)  # nothing expected: recall undefined
    assert ratios(3, 2, 1) == (pytest.approx(0.6), pytest.approx(0.75), pytest.approx(2 / 3))
    assert ratios(0, 2, 2) == (0.0, 0.0, 0.0)


def test_known_findings_give_hand_computed_precision_recall_f1():
    sql = case_of("sql", issue("db.py", 10, 11, "security"), issue("db.py", 30, category="performance"))
    sleep = case_of("sleep", issue("h.py", 5, category="async"), issue("h.py", 40, category="async"))
    clean = case_of("clean")
    scores = [
        # sql: both found, plus one duplicate on the first issue -> tp 2, fp 1
        score_case(sql, [finding("db.py", 12), finding("db.py", 10), finding("db.py", 31)]),
        # sleep: one found, one missed -> tp 1, fn 1
        score_case(sleep, [finding("h.py", 6)]),
        # clean: anything reported is a false positive -> fp 1
        score_case(clean, [finding("x.py", 1, severity=Severity.WARNING)]),
    ]
    assert [(s.tp, s.fp, s.fn) for s in scores] == [(2, 1, 0), (1, 0, 1), (0, 1, 0)]
    report = aggregate(scores, usage=Usage(requests=3, tokens_in=900, tokens_out=120), wall_seconds=4.5)
    # tp 3, fp 2, fn 1: precision 3/5, recall 3/4, F1 = 2 * 0.6 * 0.75 / 1.35 = 2/3
    assert (report.tp, report.fp, report.fn) == (3, 2, 1)
    assert report.precision == pytest.approx(0.6)
    assert report.recall == pytest.approx(0.75)
    assert report.f1 == pytest.approx(2 / 3)
    assert (report.tokens_in, report.tokens_out, report.requests, report.wall_seconds) == (900, 120, 3, 4.5)
    # Verdicts at fail-on error: sql blocks (expected), sleep blocks (expected), clean passes (a warning).
    assert [(s.blocking, s.expected_blocking) for s in scores] == [(True, True), (True, True), (False, False)]
    assert (report.verdicts_correct, report.verdicts_total) == (3, 3)


def test_every_finding_on_a_clean_case_is_a_false_positive():
    score = score_case(case_of("clean"), [finding("a.py", 1), finding("a.py", 2), finding("b.py", 9)])
    assert (score.tp, score.fp, score.fn, score.findings, score.expected) == (0, 3, 0, 3, 0)
    assert score.blocking and not score.expected_blocking


def test_per_category_counts_expected_category_for_hits_and_misses_and_finding_category_for_noise():
    case = case_of(
        "c",
        issue("a.py", 10, category="security"),
        issue("a.py", 50, category="data_integrity"),
    )
    score = score_case(
        case,
        [finding("a.py", 10, category="Injection"), finding("a.py", 90, category="Security ")],
    )
    assert score.per_category == {
        "data-integrity": {"tp": 0, "fp": 0, "fn": 1},
        "security": {"tp": 1, "fp": 1, "fn": 0},
    }
    report = aggregate([score, score_case(case_of("clean"), [finding("z.py", 1, category="style")])])
    assert report.per_category["security"] == {
        "tp": 1, "fp": 1, "fn": 0, "precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)
    }  # fmt: skip
    assert report.per_category["style"]["fp"] == 1 and report.per_category["style"]["precision"] == 0.0
    assert report.per_category["data-integrity"]["recall"] == 0.0


def test_category_names_are_normalised():
    assert normalise_category(" Data_Integrity ") == "data-integrity"
    assert normalise_category("error handling") == "error-handling"
    assert normalise_category("") == "uncategorised"


def test_blocking_follows_the_threshold():
    case = case_of("c", issue("a.py", 1, severity=Severity.WARNING))
    warning_only = [finding("a.py", 1, severity=Severity.WARNING)]
    assert not score_case(case, warning_only).blocking
    assert not score_case(case, warning_only).expected_blocking
    strict = score_case(case, warning_only, fail_on=Severity.WARNING)
    assert strict.blocking and strict.expected_blocking
    assert not score_case(case, [finding("a.py", 1)], fail_on=None).blocking


def test_a_failed_review_is_left_out_of_the_scores_and_counted():
    failed = score_case(case_of("c", issue("a.py", 1)), [], error="the model timed out")
    clean_failed = score_case(case_of("clean"), [], error="answer cut off")
    found = score_case(case_of("d", issue("b.py", 4)), [finding("b.py", 4)])
    report = aggregate([failed, clean_failed, found])
    # Neither failure counts: not as a miss, and the clean one not as a correct "pass" verdict.
    assert (report.tp, report.fp, report.fn, report.failed_runs, report.failed_cases) == (1, 0, 0, 2, 2)
    assert (report.precision, report.recall) == (1.0, 1.0)
    assert (report.verdicts_correct, report.verdicts_total) == (1, 1)
    data = json.loads(render_json(report))
    assert data["cases"][0]["error"] == "the model timed out" and data["cases"][0]["failed"] is True
    assert data["failed_cases"] == 2
    text = render_text(report)
    assert "review failed: the model timed out" in text
    assert "2 of 3 cases failed and are left out of the scores" in text
    assert "scores over 1 of 3 cases" in text
    assert re.search(r"^c\s+1\s+-\s+-\s+-\s+-\s+failed$", text, re.M)


def test_only_failures_give_undefined_scores_not_perfect_ones():
    report = aggregate([score_case(case_of("clean"), [], error="HTTP 500")])
    assert (report.precision, report.recall, report.f1) == (None, None, None)
    assert (report.verdicts_correct, report.verdicts_total) == (0, 0)
    assert json.loads(render_json(report))["precision"] is None
    assert re.search(r"^strict\s+—\s+—\s+—\s+0\s+0\s+0$", render_text(report), re.M)


def test_no_findings_at_all_shows_precision_as_undefined():
    report = aggregate([score_case(case_of("c", issue("a.py", 1)), [])])
    assert (report.precision, report.recall, report.f1) == (None, 0.0, 0.0)
    assert re.search(r"^strict\s+—\s+0\.000\s+0\.000\s+0\s+0\s+1$", render_text(report), re.M)


def test_a_failed_run_among_repeats_leaves_the_others_scored():
    case = case_of("c", issue("a.py", 10))
    runs = [score_case(case, [finding("a.py", 10)]), score_case(case, [], error="HTTP 500"),
            score_case(case, [])]
    report = aggregate(runs, repeats=3)
    row = report.cases[0]
    assert (row.tp, row.fn, row.runs, row.failed_runs, row.failed) == (1, 1, 3, 1, False)
    assert row.error == "1 of 3 runs failed: HTTP 500"
    assert report.stability.verdicts == {"c": (True, False)}
    assert (report.verdicts_correct, report.verdicts_total, report.failed_cases) == (1, 2, 0)
    assert "(1 of 3 runs failed and are left out)" in render_text(report)


def test_strict_and_loose_scores_are_reported_side_by_side():
    case = case_of("c", issue("a.py", 20), issue("a.py", 40))
    whole_function = finding("a.py", 30, 45)  # loose: overlaps 40; strict: points at 30, cites 16 lines
    report = aggregate([score_case(case, [finding("a.py", 20), whole_function])])
    assert (report.tp, report.fp, report.fn) == (1, 1, 1)
    assert (report.loose.tp, report.loose.fp, report.loose.fn) == (2, 0, 0)
    data = json.loads(render_json(report))
    assert data["loose"] == {"tp": 2, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert data["scoring"] == {"rule": "strict", "slack": 2, "span_margin": 3}
    assert data["cases"][0]["loose"]["tp"] == 2 and data["judged"] is None
    text = render_text(report)
    assert re.search(r"^strict\s+0\.500\s+0\.500\s+0\.500\s+1\s+1\s+1$", text, re.M)
    assert re.search(r"^loose\s+1\.000\s+1\.000\s+1\.000\s+2\s+0\s+0$", text, re.M)
    assert "span at most 3 lines wider" in text


def test_a_judge_turns_strict_matches_with_the_wrong_explanation_into_misses():
    case = case_of("c", issue("a.py", 5), issue("a.py", 20), issue("a.py", 40))
    findings = [finding("a.py", 5), finding("a.py", 20), finding("a.py", 40)]
    answers = {5: True, 20: False, 40: None}  # 40: the judge could not answer
    asked = []

    def judge(expected, found):
        asked.append((expected.start, found.line))
        return answers[found.line]

    score = score_case(case, findings, judge=judge)
    assert sorted(asked) == [(5, 5), (20, 20), (40, 40)]
    assert score.strict.tp == 3
    assert (score.judged.tp, score.judged.fp, score.judged.fn) == (1, 2, 2)
    report = aggregate([score])
    assert report.judge_unanswered == 1
    assert json.loads(render_json(report))["judged"]["tp"] == 1
    text = render_text(report)
    assert re.search(r"^judged\s+0\.333\s+0\.333\s+0\.333\s+1\s+2\s+2$", text, re.M)
    assert "the judge gave no answer for 1 matches" in text


def test_the_judge_is_only_asked_about_strict_matches():
    asked = []
    score_case(case_of("c", issue("a.py", 20)), [finding("a.py", 10, 30)], judge=lambda e, f: asked.append(f))
    assert asked == []
