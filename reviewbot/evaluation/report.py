"""The eval report as text or JSON."""

from __future__ import annotations

import json

from reviewbot.evaluation.aggregate import EvalReport
from reviewbot.evaluation.scoring import Counts, ratios

UNDEFINED = "\u2014"  # an em dash: a ratio with nothing to divide by


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio_text(value: float | None, width: int = 0) -> str:
    return f"{UNDEFINED if value is None else f'{value:.3f}':>{width}}"


def _counts_dict(counts: Counts) -> dict[str, object]:
    precision, recall, f1 = counts.ratios
    return {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn,
            "precision": _r(precision), "recall": _r(recall), "f1": _r(f1)}


def report_to_dict(report: EvalReport) -> dict[str, object]:
    cases = []
    for case in report.cases:
        precision, recall, f1 = ratios(case.tp, case.fp, case.fn)
        row: dict[str, object] = {
            "name": case.name,
            "tp": case.tp,
            "fp": case.fp,
            "fn": case.fn,
            "findings": case.findings,
            "expected": case.expected,
            "precision": _r(precision),
            "recall": _r(recall),
            "f1": _r(f1),
            "loose": _counts_dict(case.loose),
            "blocking": case.blocking,
            "expected_blocking": case.expected_blocking,
            "runs": case.runs,
            "failed": case.failed,
            "per_category": case.per_category,
        }
        if case.judged is not None:
            row["judged"] = _counts_dict(case.judged)
        if report.stability is not None:
            row["verdicts"] = list(report.stability.verdicts.get(case.name, ()))
            row["flips"] = report.stability.flips.get(case.name, 0)
        if case.error:
            row["error"] = case.error
        cases.append(row)
    stability = None
    if report.stability is not None:
        stability = {
            "repeats": report.stability.repeats,
            "flip_rate": _r(report.stability.flip_rate),
            "unstable_cases": list(report.stability.unstable_cases),
            "flips": dict(report.stability.flips),
        }
    return {
        "precision": _r(report.precision),
        "recall": _r(report.recall),
        "f1": _r(report.f1),
        "tp": report.tp,
        "fp": report.fp,
        "fn": report.fn,
        "scoring": {"rule": "strict", "slack": report.slack, "span_margin": report.span_margin},
        "loose": _counts_dict(report.loose),
        "judged": _counts_dict(report.judged) if report.judged is not None else None,
        "judge_unanswered": report.judge_unanswered,
        "model": report.model,
        "agent": report.agent,
        "labels": report.labels,
        "repeats": report.repeats,
        "verdicts": {"correct": report.verdicts_correct, "total": report.verdicts_total},
        "failed_cases": report.failed_cases,
        "failed_runs": report.failed_runs,
        "per_category": {
            category: {k: (_r(v) if isinstance(v, float) or v is None else v) for k, v in counts.items()}
            for category, counts in report.per_category.items()
        },
        "tokens": {"in": report.tokens_in, "out": report.tokens_out, "requests": report.requests},
        "wall_seconds": _r(report.wall_seconds),
        "stability": stability,
        "cases": cases,
    }


def render_json(report: EvalReport) -> str:
    return json.dumps(report_to_dict(report), indent=2) + "\n"


def _score_lines(report: EvalReport) -> list[str]:
    """The totals, one row per scoring rule, and which cases they cover."""
    total, failed = len(report.cases), report.failed_cases
    scored = f"scores over {total - failed} of {total} cases" if failed else f"scores over {total} cases"
    if report.failed_runs and report.repeats > 1:
        scored += f" ({report.failed_runs} of {report.total_runs} runs failed and are left out)"
    rows = [("strict", report.strict), ("loose", report.loose)]
    if report.judged is not None:
        rows.append(("judged", report.judged))
    lines = [scored, f"{'rule':<8}  precision  recall     f1    tp    fp    fn"]
    for name, counts in rows:
        precision, recall, f1 = counts.ratios
        lines.append(
            f"{name:<8}  {_ratio_text(precision, 9)}  {_ratio_text(recall, 6)}  {_ratio_text(f1, 5)}"
            f"  {counts.tp:>4}  {counts.fp:>4}  {counts.fn:>4}"
        )
    lines.append(
        f"strict: the finding's line within {report.slack} lines of the expected range and its span at most "
        f"{report.span_margin} lines wider; loose: the ranges overlap within {report.slack} lines"
        + ("; judged: strict, and the judge says the message describes the defect" if report.judged else "")
    )
    if report.judge_unanswered:
        lines.append(f"the judge gave no answer for {report.judge_unanswered} matches (counted as not describing it)")
    return lines


def render_text(report: EvalReport) -> str:
    lines = []
    setting = ", ".join(
        part
        for part in (
            f"model {report.model}" if report.model else "",
            f"agent {report.agent}" if report.agent else "",
            *(f"{k} {v}" for k, v in report.labels.items()),
            f"{report.repeats} runs per case" if report.repeats > 1 else "",
        )
        if part
    )
    lines.append(f"reviewbot eval: {len(report.cases)} cases" + (f" ({setting})" if setting else ""))
    lines.append("")
    width = max([len("case"), *(len(c.name) for c in report.cases)])
    lines.append(f"{'case':<{width}}  expected  found   tp   fp   fn  verdict")
    for case in report.cases:
        if case.failed:
            lines.append(f"{case.name:<{width}}  {case.expected:>8}  {'-':>5}  {'-':>3}  {'-':>3}  {'-':>3}  failed")
            continue
        if case.runs > 1 and report.stability is not None:
            blocked = sum(report.stability.verdicts.get(case.name, ()))
            verdict = f"block {blocked}/{len(report.stability.verdicts.get(case.name, ()))}"
        else:
            verdict = "block" if case.blocking else "pass"
        if case.blocking != case.expected_blocking and case.runs == 1:
            verdict += " (expected block)" if case.expected_blocking else " (expected pass)"
        lines.append(
            f"{case.name:<{width}}  {case.expected:>8}  {case.findings:>5}  "
            f"{case.tp:>3}  {case.fp:>3}  {case.fn:>3}  {verdict}"
        )
    failed = [c for c in report.cases if c.error]
    if report.failed_cases:
        lines.append("")
        lines.append(f"{report.failed_cases} of {len(report.cases)} cases failed and are left out of the scores:")
    for case in failed:
        lines.append(f"  {case.name}: review failed: {case.error}")
    lines.append("")
    lines.extend(_score_lines(report))
    lines.append(f"blocking verdicts correct: {report.verdicts_correct}/{report.verdicts_total}")
    if report.per_category:
        cat_width = max([len("category"), *(len(c) for c in report.per_category)])
        lines.append("")
        lines.append(f"{'category':<{cat_width}}   tp   fp   fn  precision  recall     f1  (strict)")
        for category, c in report.per_category.items():
            lines.append(
                f"{category:<{cat_width}}  {c['tp']:>3}  {c['fp']:>3}  {c['fn']:>3}"
                f"  {_ratio_text(c['precision'], 9)}  {_ratio_text(c['recall'], 6)}  {_ratio_text(c['f1'], 5)}"
            )
    lines.append("")
    lines.append(
        f"tokens in {report.tokens_in}, out {report.tokens_out}, requests {report.requests}; "
        f"wall time {report.wall_seconds:.1f} s"
    )
    if report.stability is not None:
        unstable = report.stability.unstable_cases
        lines.append(
            f"verdict stability over {report.stability.repeats} runs: {len(unstable)} of {len(report.cases)} "
            f"cases flipped (flip rate {report.stability.flip_rate:.3f})"
            + (": " + ", ".join(f"{n} ({report.stability.flips[n]})" for n in unstable) if unstable else "")
        )
    return "\n".join(lines) + "\n"
