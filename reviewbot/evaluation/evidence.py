"""Evidence recall, measured without a model: do the requests show the lines a reviewer needs?

A case's `evidence` (expected.json) names lines outside the diff that reveal its defect: the blocking helper in
another module, the caller that ignores a changed return value. Each case is planned twice, context on and off,
exactly as `reviewbot diff --staged` would plan it (nothing is sent), and every line the requests show (diff lines and
context lines, read back from the request text) is compared with the evidence:

    recall = evidence lines shown / evidence lines          tokens = estimated prompt tokens of all requests

The token ratio (context on / off) is what the context costs; the answer allowance is left out of both.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.core.errors import ConfigError, ReviewbotError

if TYPE_CHECKING:
    from reviewbot.evaluation.cases import EvalCase
    from reviewbot.pipeline.plan_records import Plan


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    case: str
    evidence_lines: int
    shown_off: int
    shown_on: int
    tokens_off: int
    tokens_on: int
    error: str | None = None


def evidence_lines(case: EvalCase) -> set[tuple[str, int]]:
    return {(e.path, n) for e in case.evidence for n in range(e.start, e.end + 1)}


def plan_case(case: EvalCase, workdir: Path, cli: dict[str, Any], agents: Sequence[str]) -> Plan:
    """The plan `reviewbot diff --staged` makes for a materialized case (sends nothing, caches nothing)."""
    from reviewbot.adapters.git import DiffSpec
    from reviewbot.evaluation.workspace import materialize_case
    from reviewbot.pipeline import planning
    from reviewbot.session import collect_diff, load_agents, model_for_agent, prepare

    repo_dir = workdir / case.name
    if not repo_dir.exists():
        materialize_case(case, workdir)
    ctx = prepare({**cli, "cache": False}, cwd=repo_dir)
    diff = collect_diff(ctx, DiffSpec(staged=True))
    chosen = load_agents(ctx, agents)
    assert ctx.source is not None  # prepare() required a repository, which is where the source reads from
    return planning.plan(diff, ctx.settings, agents=chosen, source=ctx.source,
                       model_for=model_for_agent(ctx.settings), reviewed=ctx.reviewed)


def prompt_tokens(the_plan: Plan) -> int:
    from reviewbot.pipeline.tokens import estimate_tokens

    return sum(estimate_tokens(m["content"]) for r in the_plan.requests for m in r.messages)


def shown_lines(the_plan: Plan) -> set[tuple[str, int]]:
    from reviewbot.pipeline.context import lines_shown

    shown: set[tuple[str, int]] = set()
    for r in the_plan.requests:
        shown |= lines_shown(r.messages)
    return shown


def measure(cases: Iterable[EvalCase], cli: dict[str, Any], agents: Sequence[str]) -> list[EvidenceRow]:
    """One row per case, context off and on; a case that cannot be planned is a row with its error."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="reviewbot-evidence-") as tmp:
        for case in cases:
            wanted = evidence_lines(case)
            try:
                off = plan_case(case, Path(tmp), {**cli, "context": False}, agents)
                on = plan_case(case, Path(tmp), {**cli, "context": True}, agents)
            except ConfigError:
                raise
            except ReviewbotError as exc:
                rows.append(EvidenceRow(case.name, len(wanted), 0, 0, 0, 0, str(exc)))
                continue
            rows.append(EvidenceRow(case.name, len(wanted), len(wanted & shown_lines(off)),
                                    len(wanted & shown_lines(on)), prompt_tokens(off), prompt_tokens(on)))
    return rows


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def totals(rows: Sequence[EvidenceRow]) -> dict[str, Any]:
    with_evidence = [r for r in rows if r.evidence_lines and not r.error]
    wanted = sum(r.evidence_lines for r in with_evidence)
    return {
        "cases": len(rows),
        "cases_with_evidence": len(with_evidence),
        "evidence_lines": wanted,
        "recall_off": round(_ratio(sum(r.shown_off for r in with_evidence), wanted), 3),
        "recall_on": round(_ratio(sum(r.shown_on for r in with_evidence), wanted), 3),
        "tokens_off": sum(r.tokens_off for r in rows),
        "tokens_on": sum(r.tokens_on for r in rows),
        "token_ratio": round(_ratio(sum(r.tokens_on for r in rows), sum(r.tokens_off for r in rows)), 3),
        "token_ratio_evidence_cases": round(_ratio(sum(r.tokens_on for r in with_evidence),
                                                   sum(r.tokens_off for r in with_evidence)), 3),
        "errors": sum(1 for r in rows if r.error),
    }


def render_text(rows: Sequence[EvidenceRow]) -> str:
    out = ["Evidence recall (lines a reviewer needs that the requests show) and prompt tokens, context off / on",
           f"{'case':<36} {'evidence':>8} {'recall off':>10} {'recall on':>9} {'tokens off':>10} {'tokens on':>9} "
           f"{'ratio':>6}"]
    for r in rows:
        if r.error:
            out.append(f"{r.case:<36} error: {r.error}")
            continue
        off = f"{_ratio(r.shown_off, r.evidence_lines):.0%}" if r.evidence_lines else "-"
        on = f"{_ratio(r.shown_on, r.evidence_lines):.0%}" if r.evidence_lines else "-"
        out.append(f"{r.case:<36} {r.evidence_lines:>8} {off:>10} {on:>9} {r.tokens_off:>10} {r.tokens_on:>9} "
                   f"{_ratio(r.tokens_on, r.tokens_off):>6.2f}")
    t = totals(rows)
    if not t["evidence_lines"]:
        out.append(f"overall: no case names evidence; prompt tokens {t['tokens_off']} -> {t['tokens_on']} "
                   f"(x{t['token_ratio']:.2f})")
        return "\n".join(out) + "\n"
    out.append(
        f"overall: recall {t['recall_off']:.1%} off -> {t['recall_on']:.1%} on over {t['evidence_lines']} evidence "
        f"lines in {t['cases_with_evidence']} cases; prompt tokens {t['tokens_off']} -> {t['tokens_on']} "
        f"(x{t['token_ratio']:.2f}; x{t['token_ratio_evidence_cases']:.2f} on the cases with evidence)")
    return "\n".join(out) + "\n"


def render_json(rows: Sequence[EvidenceRow]) -> str:
    return json.dumps({"cases": [asdict(r) for r in rows], "overall": totals(rows)}, indent=2) + "\n"
