"""Matching findings to a case's expected issues and scoring one case: precision, recall, F1, the verdict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reviewbot.core.blocking import severity_blocks
from reviewbot.core.models import Finding, Severity
from reviewbot.evaluation import MATCH_RULES, SPAN_MARGIN
from reviewbot.evaluation.cases import EvalCase, ExpectedIssue, _normalise_path

DEFAULT_SLACK = 2


def normalise_category(category: str) -> str:
    """Models write "Security", "security " or "data_integrity"; count them as one category."""
    words = category.strip().lower().replace("_", " ").replace("-", " ").split()
    return "-".join(words) or "uncategorised"


def _gap(first: int, last: int, start: int, end: int) -> int:
    """Lines between two ranges; 0 when they overlap."""
    if last < start:
        return start - last
    if first > end:
        return first - end
    return 0


def _fits(finding: Finding, issue: ExpectedIssue, *, rule: str, slack: int, span_margin: int) -> bool:
    if rule == "loose":
        return not _gap(finding.line, finding.last_line, issue.start - slack, issue.end + slack)
    inside = issue.start - slack <= finding.line <= issue.end + slack
    return inside and finding.last_line - finding.line <= issue.end - issue.start + span_margin


def match_findings(
    expected: Sequence[ExpectedIssue],
    findings: Sequence[Finding],
    *,
    slack: int = DEFAULT_SLACK,
    rule: str = "strict",
    span_margin: int = SPAN_MARGIN,
) -> tuple[list[tuple[ExpectedIssue, Finding]], list[Finding], list[ExpectedIssue]]:
    """Pair findings with expected issues; returns (matches, false positives, false negatives).

    `rule` is "strict" or "loose" (module docstring). Greedy and deterministic: findings are taken in
    (path, line) order and each takes the nearest unmatched issue in the same file that it fits. Ties go to the
    issue of the same category, then the earlier one.
    """
    if rule not in MATCH_RULES:
        raise ValueError(f"unknown match rule {rule!r}")
    unmatched = list(expected)
    matches: list[tuple[ExpectedIssue, Finding]] = []
    false_positives: list[Finding] = []
    ordered = sorted(
        findings,
        key=lambda f: (_normalise_path(f.path), f.line, f.last_line, -int(f.severity), f.category, f.message),
    )
    for finding in ordered:
        path, first, last = _normalise_path(finding.path), finding.line, finding.last_line
        best_index, best_key = None, None
        for index, issue in enumerate(unmatched):
            if issue.path != path or not _fits(finding, issue, rule=rule, slack=slack, span_margin=span_margin):
                continue
            key = (
                _gap(first, last, issue.start, issue.end),
                normalise_category(issue.category) != normalise_category(finding.category),
                issue.start,
                issue.end,
            )
            if best_key is None or key < best_key:
                best_index, best_key = index, key
        if best_index is None:
            false_positives.append(finding)
        else:
            matches.append((unmatched.pop(best_index), finding))
    return matches, false_positives, unmatched


def ratios(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    """(precision, recall, F1); None where undefined (nothing reported, nothing expected, neither)."""
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return precision, recall, f1


@dataclass(frozen=True, slots=True)
class Counts:
    """True positives, false positives and misses under one scoring rule."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def ratios(self) -> tuple[float | None, float | None, float | None]:
        return ratios(self.tp, self.fp, self.fn)


# A judge tells whether a finding's message describes the expected issue: True, False, or None (no answer).
Judge = Callable[[ExpectedIssue, Finding], "bool | None"]


@dataclass(frozen=True, slots=True)
class CaseScore:
    name: str
    tp: int  # tp/fp/fn: the strict rule
    fp: int
    fn: int
    findings: int
    expected: int
    per_category: dict[str, dict[str, int]]  # category -> {"tp", "fp", "fn"} under the strict rule
    blocking: bool  # did the findings reach the fail-on threshold (any run, when merged over repeats)
    expected_blocking: bool = False  # should they have (an expected issue at or above the threshold)
    runs: int = 1
    error: str | None = None  # why the review failed (or "k of n runs failed: ..." when merged)
    loose: Counts = Counts()
    judged: Counts | None = None  # only with a judge
    judge_unanswered: int = 0  # strict matches the judge gave no answer for (counted as not describing it)
    matches: tuple[tuple[ExpectedIssue, Finding], ...] = ()  # the strict matches, for a judge
    failed_runs: int = 0

    @property
    def strict(self) -> Counts:
        return Counts(self.tp, self.fp, self.fn)

    @property
    def failed(self) -> bool:
        """Every run of this case failed: it is not scored."""
        return self.failed_runs >= self.runs


def _blocks(severities: Sequence[Severity], fail_on: Severity | None) -> bool:
    return any(severity_blocks(s, fail_on) for s in severities)


def score_case(
    case: EvalCase,
    findings: Sequence[Finding],
    *,
    slack: int = DEFAULT_SLACK,
    span_margin: int = SPAN_MARGIN,
    fail_on: Severity | None = Severity.ERROR,
    error: str | None = None,
    judge: Judge | None = None,
) -> CaseScore:
    """Score one review of one case. `fail_on=None` means nothing ever blocks (`--fail-on never`).

    A review that failed (`error`) is not scored: all its counts are zero and it is marked failed.
    """
    expected_blocking = _blocks([i.severity for i in case.expected], fail_on)
    if error is not None:
        return CaseScore(
            name=case.name, tp=0, fp=0, fn=0, findings=len(findings), expected=len(case.expected), per_category={},
            blocking=False, expected_blocking=expected_blocking, error=error, failed_runs=1,
            judged=Counts() if judge is not None else None,
        )
    matches, false_positives, false_negatives = match_findings(
        case.expected, findings, slack=slack, rule="strict", span_margin=span_margin
    )
    loose = match_findings(case.expected, findings, slack=slack, rule="loose")
    per_category: dict[str, dict[str, int]] = {}

    def bump(category: str, key: str) -> None:
        counts = per_category.setdefault(normalise_category(category), {"tp": 0, "fp": 0, "fn": 0})
        counts[key] += 1

    for issue, _ in matches:
        bump(issue.category, "tp")
    for finding in false_positives:
        bump(finding.category, "fp")
    for issue in false_negatives:
        bump(issue.category, "fn")
    judged, unanswered = None, 0
    if judge is not None:
        answers = [judge(issue, finding) for issue, finding in matches]
        confirmed = sum(1 for a in answers if a is True)
        unanswered = sum(1 for a in answers if a is None)
        rejected = len(matches) - confirmed
        judged = Counts(confirmed, len(false_positives) + rejected, len(false_negatives) + rejected)
    return CaseScore(
        name=case.name,
        tp=len(matches),
        fp=len(false_positives),
        fn=len(false_negatives),
        findings=len(findings),
        expected=len(case.expected),
        per_category=dict(sorted(per_category.items())),
        blocking=_blocks([f.severity for f in findings], fail_on),
        expected_blocking=expected_blocking,
        loose=Counts(len(loose[0]), len(loose[1]), len(loose[2])),
        judged=judged,
        judge_unanswered=unanswered,
        matches=tuple(matches),
    )
