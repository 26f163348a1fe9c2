"""Scores over the whole corpus and over repeated runs: totals, per category, stability of verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from reviewbot.core.models import Usage
from reviewbot.evaluation import SPAN_MARGIN
from reviewbot.evaluation.scoring import DEFAULT_SLACK, CaseScore, Counts, ratios


@dataclass(frozen=True, slots=True)
class Stability:
    """How steady the blocking verdict is when each case is reviewed `repeats` times."""

    repeats: int
    verdicts: dict[str, tuple[bool, ...]]  # case -> blocking verdict of each run, in run order
    flips: dict[str, int]  # case -> how many times the verdict changed from one run to the next

    @property
    def unstable_cases(self) -> tuple[str, ...]:
        return tuple(name for name, flips in self.flips.items() if flips)

    @property
    def flip_rate(self) -> float:
        """Flips per chance to flip: 0.0 is perfectly stable, 1.0 alternates every run."""
        chances = len(self.flips) * (self.repeats - 1)
        return sum(self.flips.values()) / chances if chances > 0 else 0.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    cases: tuple[CaseScore, ...]  # one per case; counts summed over repeated runs
    tp: int  # tp/fp/fn and the ratios: the strict rule, over the runs that did not fail
    fp: int
    fn: int
    precision: float | None  # None: undefined (nothing reported / nothing expected)
    recall: float | None
    f1: float | None
    per_category: dict[str, dict[str, float | int | None]]  # category -> tp, fp, fn, precision, recall, f1
    tokens_in: int
    tokens_out: int
    requests: int
    wall_seconds: float
    repeats: int = 1
    verdicts_correct: int = 0  # runs whose blocking verdict matched the case's expectation (failed runs left out)
    verdicts_total: int = 0
    failed_runs: int = 0
    stability: Stability | None = None  # only when repeats > 1
    model: str = ""
    agent: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # free-form settings worth printing (e.g. verify=on)
    loose: Counts = Counts()
    judged: Counts | None = None
    judge_unanswered: int = 0
    slack: int = DEFAULT_SLACK
    span_margin: int = SPAN_MARGIN

    @property
    def strict(self) -> Counts:
        return Counts(self.tp, self.fp, self.fn)

    @property
    def failed_cases(self) -> int:
        return sum(1 for c in self.cases if c.failed)

    @property
    def total_runs(self) -> int:
        return sum(c.runs for c in self.cases)


def count_flips(verdicts: Sequence[bool]) -> int:
    """How many times a sequence of blocking verdicts changes from one run to the next."""
    return sum(1 for a, b in zip(verdicts, verdicts[1:]) if a != b)


def aggregate(
    scores: Sequence[CaseScore],
    *,
    usage: Usage | None = None,
    wall_seconds: float = 0.0,
    verdict_flips: Mapping[str, int] | None = None,
    repeats: int = 1,
    model: str = "",
    agent: str = "",
    labels: Mapping[str, str] | None = None,
    slack: int = DEFAULT_SLACK,
    span_margin: int = SPAN_MARGIN,
) -> EvalReport:
    """Combine per-run scores into one report.

    With `--repeat N`, pass every run's CaseScore (in run order); runs of the same case are merged into one
    row and their verdicts feed the stability figures. `verdict_flips` overrides the computed flip counts.
    Failed runs add nothing to the totals, the verdict counts or the stability figures.
    """
    usage = usage or Usage()
    runs_by_name: dict[str, list[CaseScore]] = {}
    for score in scores:
        runs_by_name.setdefault(score.name, []).append(score)
    repeats = max([repeats, *(len(runs) for runs in runs_by_name.values())])

    merged = tuple(_merge_runs(runs) for runs in runs_by_name.values())
    strict = sum((c.strict for c in merged), Counts())
    loose = sum((c.loose for c in merged), Counts())
    judged = sum((c.judged for c in merged if c.judged is not None), Counts()) \
        if any(c.judged is not None for c in merged) else None
    precision, recall, f1 = strict.ratios
    reviewed = [s for s in scores if not s.error]

    stability = None
    if repeats > 1:
        verdicts = {name: tuple(s.blocking for s in runs if not s.error) for name, runs in runs_by_name.items()}
        flips = {name: count_flips(v) for name, v in verdicts.items()}
        if verdict_flips is not None:
            flips.update({name: int(n) for name, n in verdict_flips.items()})
        stability = Stability(repeats=repeats, verdicts=verdicts, flips=flips)

    return EvalReport(
        cases=merged,
        tp=strict.tp,
        fp=strict.fp,
        fn=strict.fn,
        precision=precision,
        recall=recall,
        f1=f1,
        per_category=_category_table(merged),
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        requests=usage.requests,
        wall_seconds=wall_seconds,
        repeats=repeats,
        verdicts_correct=sum(1 for s in reviewed if s.blocking == s.expected_blocking),
        verdicts_total=len(reviewed),
        failed_runs=sum(1 for s in scores if s.error),
        stability=stability,
        model=model,
        agent=agent,
        labels=dict(labels or {}),
        loose=loose,
        judged=judged,
        judge_unanswered=sum(c.judge_unanswered for c in merged),
        slack=slack,
        span_margin=span_margin,
    )


def _merge_runs(runs: Sequence[CaseScore]) -> CaseScore:
    if len(runs) == 1:
        return runs[0]
    per_category: dict[str, dict[str, int]] = {}
    for run in runs:
        for category, counts in run.per_category.items():
            total = per_category.setdefault(category, {"tp": 0, "fp": 0, "fn": 0})
            for key, value in counts.items():
                total[key] += value
    errors = [r.error for r in runs if r.error]
    reviewed = [r for r in runs if not r.error]
    judged = [r.judged for r in runs if r.judged is not None]
    return replace(
        runs[0],
        tp=sum(r.tp for r in runs),
        fp=sum(r.fp for r in runs),
        fn=sum(r.fn for r in runs),
        findings=sum(r.findings for r in runs),
        expected=sum(r.expected for r in runs),
        per_category=dict(sorted(per_category.items())),
        blocking=any(r.blocking for r in reviewed),
        runs=sum(r.runs for r in runs),
        error=f"{len(errors)} of {len(runs)} runs failed: {errors[0]}" if errors else None,
        loose=sum((r.loose for r in runs), Counts()),
        judged=sum(judged, Counts()) if judged else None,
        judge_unanswered=sum(r.judge_unanswered for r in runs),
        matches=tuple(m for r in runs for m in r.matches),
        failed_runs=sum(r.failed_runs for r in runs),
    )


def _category_table(cases: Sequence[CaseScore]) -> dict[str, dict[str, float | int | None]]:
    totals: dict[str, dict[str, int]] = {}
    for case in cases:
        for category, counts in case.per_category.items():
            total = totals.setdefault(category, {"tp": 0, "fp": 0, "fn": 0})
            for key, value in counts.items():
                total[key] += value
    table: dict[str, dict[str, float | int | None]] = {}
    for category, counts in sorted(totals.items()):
        precision, recall, f1 = ratios(counts["tp"], counts["fp"], counts["fn"])
        table[category] = {**counts, "precision": precision, "recall": recall, "f1": f1}
    return table
