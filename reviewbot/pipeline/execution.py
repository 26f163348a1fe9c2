"""execute(): send the planned requests in parallel through the result cache, merge the answers in plan order, vote
over samples, filter, verify, and return the result. Prints nothing.

Each step is a function below execute(), in the order it runs; asking one request (with its retries) is
ask_request.py's job, and the models are review_model.LazyModel, built on the first request that is not cached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from reviewbot.core.errors import ModelError
from reviewbot.core.models import DropReason, Finding, ReviewResult, Skipped, Usage
from reviewbot.pipeline import findings as findings_mod
from reviewbot.pipeline.ask_request import RequestOutcome, ask_request, request_key
from reviewbot.pipeline.plan_records import Plan, PlannedRequest
from reviewbot.pipeline.review_model import LazyModel, model_endpoint

if TYPE_CHECKING:
    from reviewbot.adapters.model_client import ChatModel
    from reviewbot.adapters.request_gate import RequestGate
    from reviewbot.adapters.result_cache import ResultCache
    from reviewbot.config import Settings
    from reviewbot.core.models import RequestFlow
    from reviewbot.pipeline.ask_request import AskFn
    from reviewbot.pipeline.model_tools import ToolUse
    from reviewbot.rules.suppressions import Filter


def execute(
    the_plan: Plan,
    settings: Settings,
    *,
    model_factory: Callable[[str], ChatModel],
    cache: ResultCache | None,
    progress: Callable[[int, int], None] | None = None,
    extra_filters: Sequence[Filter] = (),
    tools: ToolUse | None = None,
) -> ReviewResult:
    """Run the plan: every request answered (from `cache` when it holds the answer), the answers voted on, filtered,
    verified when settings.verify says so, and budgeted into one ReviewResult.

    `model_factory(name)` builds a model's client, on its first cache miss; `progress(done, total)` hears of each
    request answered; `extra_filters` run after voting (suppressions, the baseline); `tools`
    (reviewbot.pipeline.model_tools.ToolUse, optional) lets the named agents' models look around the repository.
    """
    from reviewbot.adapters.request_gate import RequestGate

    # Cache first, model later: keys need only the endpoint, so no client exists until the first cache miss.
    endpoint = model_endpoint(settings)
    gate = RequestGate(settings.concurrency)  # adaptive concurrency and the circuit breaker, for the whole run
    models = _lazy_models(the_plan.requests, endpoint, model_factory, gate)
    sending = _Sending(settings, endpoint, models, cache if settings.cache else None, tools)
    answers = _merge(the_plan, _send_all(sending, the_plan.requests, progress), settings.filter_mode)
    standing = _vote_chunks(answers, settings.sample_share)
    standing = _after_voting(standing, the_plan, extra_filters, settings.min_confidence)
    standing = replace(standing, notes=standing.notes + _format_notes(models))
    if settings.verify:
        # After every filter (nothing is verified that would be dropped anyway), before the budget (which
        # should choose among confirmed findings).
        standing = _verified(standing, the_plan.requests, settings, models, sending.cache)
    if tools is not None:
        standing = replace(standing, notes=standing.notes + tools.notes())
    return _result(the_plan, answers, standing, settings, gate.stats())


# -- sending -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sending:
    """What every request of one run is asked with."""

    settings: Settings
    endpoint: str
    models: Mapping[str, LazyModel]
    cache: ResultCache | None  # None when the cache setting is off
    tools: ToolUse | None


def _lazy_models(requests: Sequence[PlannedRequest], endpoint: str, factory: Callable[[str], ChatModel],
                 gate: RequestGate) -> dict[str, LazyModel]:
    """One stand-in per model the plan names; nothing is built yet."""
    return {name: LazyModel(name, endpoint, factory, gate) for name in dict.fromkeys(r.model for r in requests)}


def _send_all(sending: _Sending, requests: Sequence[PlannedRequest],
              progress: Callable[[int, int], None] | None) -> tuple[RequestOutcome, ...]:
    """Every planned request, `concurrency` at a time; the outcomes in plan order, whichever finished first."""
    if not requests:
        return ()
    outcomes: list[RequestOutcome] = []
    with ThreadPoolExecutor(max_workers=max(1, min(sending.settings.concurrency, len(requests)))) as pool:
        for outcome in pool.map(lambda req: _ask_planned(sending, req), requests):
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), len(requests))
    return tuple(outcomes)


def _ask_planned(sending: _Sending, req: PlannedRequest) -> RequestOutcome:
    """One request under its cache key, through the tool loop when its agent may use tools."""
    from reviewbot.pipeline.budget import request_budget

    key = request_key(req, sending.endpoint, sending.settings)
    ask: AskFn | None = None
    if sending.tools is not None and req.agent in sending.tools.agents:
        key, ask = sending.tools.key(key), sending.tools.ask
    try:
        return ask_request(sending.models[req.model], req, sending.cache, key,
                           budget_tokens=request_budget(sending.settings, req.model), ask=ask)
    except ModelError as exc:
        return RequestOutcome(error=str(exc))


# -- merging and voting --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Samples:
    """One agent's answers about one chunk (one per sample), each anchored and filtered."""

    kept: tuple[tuple[Finding, ...], ...]  # the findings each answer kept
    drops: tuple[Counter[DropReason], ...]  # what each answer lost, and why


@dataclass(frozen=True, slots=True)
class _Answers:
    """Every request's outcome, merged in plan order."""

    usage: Usage
    failed: Mapping[str, str]  # path -> why its request failed (the first error that names it)
    summaries: tuple[str, ...]
    notes: tuple[str, ...]
    by_chunk: tuple[_Samples, ...]  # in the order the chunks were first answered


@dataclass(frozen=True, slots=True)
class _Standing:
    """The findings still standing after a step, with what the run has dropped, spent and said so far."""

    findings: tuple[Finding, ...]
    dropped: Counter[DropReason] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    notes: tuple[str, ...] = ()


def _merge(the_plan: Plan, outcomes: Sequence[RequestOutcome], filter_mode: str) -> _Answers:
    """Merge in plan order, so the result does not depend on which request finished first. Each answer is anchored
    and filtered before voting, so samples are compared on corrected lines."""
    aliases = dict(the_plan.path_aliases)
    # The files as the model saw them (redacted), under their real paths: a quote of a redacted line matches.
    sent = {aliases.get(f.path, f.path): f for f in the_plan.reviewable}
    usage = Usage()
    failed: dict[str, str] = {}
    summaries: list[str] = []
    notes: list[str] = []
    kept: dict[tuple[str, int], list[tuple[Finding, ...]]] = {}
    drops: dict[tuple[str, int], list[Counter[DropReason]]] = {}
    for req, out in zip(the_plan.requests, outcomes):
        usage = usage + out.usage
        notes += [n for n in out.notes if n not in notes]
        if out.error:
            for p in out.error_paths or req.chunk.paths:
                failed.setdefault(p, out.error)
            if not out.findings:
                continue
        if out.summary:
            summaries.append(out.summary)
        answered = [replace(f, path=aliases[f.path]) if f.path in aliases else f for f in out.findings]
        filtered = findings_mod.filter_findings(answered, the_plan.diff, filter_mode, sent=sent)
        chunk = (req.agent, id(req.chunk))
        kept.setdefault(chunk, []).append(filtered.kept)
        drops.setdefault(chunk, []).append(
            filtered.dropped + Counter({DropReason.INVALID: out.invalid, DropReason.ECHOED_PROMPT: out.echoed}))
    by_chunk = tuple(_Samples(tuple(kept[c]), tuple(drops[c])) for c in kept)
    return _Answers(usage, failed, tuple(summaries), tuple(notes), by_chunk)


def _vote_chunks(answers: _Answers, share: float) -> _Standing:
    """Each chunk's samples voted on; what the vote lost is counted, and so is what the samples dropped."""
    found: list[Finding] = []
    dropped: Counter[DropReason] = Counter()
    for samples in answers.by_chunk:
        kept, lost = _vote(samples.kept, share)
        dropped[DropReason.OUTVOTED] += lost
        found.extend(kept)
        # Samples of one chunk mostly repeat each other's mistakes: count a chunk's drops as one review's
        # (the largest count among its samples), not once per sample.
        for reason in set().union(*samples.drops):
            dropped[reason] += max(c[reason] for c in samples.drops)
    return _Standing(tuple(found), dropped, answers.usage, answers.notes)


def _vote(per_sample: Sequence[Sequence[Finding]], share: float) -> tuple[list[Finding], int]:
    """Keep findings that at least `share` of the samples report (matched by path, anchored line, category)."""
    if len(per_sample) <= 1:
        return (list(per_sample[0]) if per_sample else []), 0
    votes: Counter[tuple[str, int, str]] = Counter()
    first: dict[tuple[str, int, str], Finding] = {}
    for sample in per_sample:
        for key in {(f.path, f.line, f.category) for f in sample}:
            votes[key] += 1
        for f in sample:
            first.setdefault((f.path, f.line, f.category), f)
    needed = share * len(per_sample)
    kept = [first[k] for k in sorted(first) if votes[k] >= needed - 1e-9]
    return kept, len(first) - len(kept)


# -- after voting --------------------------------------------------------------------------------------------


def _after_voting(standing: _Standing, the_plan: Plan, extra_filters: Sequence[Filter],
                  min_confidence: float | None) -> _Standing:
    """The local findings (secrets) join; then the caller's filters, duplicates and the confidence floor."""
    dropped = Counter(standing.dropped)
    current = [*standing.findings, *the_plan.local_findings]
    for extra in extra_filters:
        current, counts = extra(current, the_plan.diff)
        dropped.update(counts)
    unique, dupes = findings_mod.deduplicate(current)
    dropped[DropReason.DUPLICATE] += dupes
    confident, low = findings_mod.apply_min_confidence(unique, min_confidence)
    dropped[DropReason.LOW_CONFIDENCE] += low
    return replace(standing, findings=confident, dropped=dropped)


def _format_notes(models: Mapping[str, LazyModel]) -> tuple[str, ...]:
    """One note per response format the endpoint refused (the ladder is shared, so each is said once)."""
    said: list[str] = []
    for model in models.values():
        for rejection in model.format_rejections():
            note = (f"the server refused response_format {rejection}; this run used the next format "
                    "(set response_format to the one that works to skip the refusal)")
            if note not in said:
                said.append(note)
    return tuple(said)


def _verified(standing: _Standing, requests: Sequence[PlannedRequest], settings: Settings,
              models: Mapping[str, LazyModel], cache: ResultCache | None) -> _Standing:
    """The verification pass (verify.py) over the findings standing: the rejected ones are dropped."""
    from reviewbot.pipeline.verify import ReviewedChunk, verify_findings

    chunks, seen = [], set()
    for req in requests:
        if (req.agent, id(req.chunk)) not in seen:  # samples of a chunk share one verification
            seen.add((req.agent, id(req.chunk)))
            chunks.append(ReviewedChunk(req.agent, req.model, req.chunk))
    checked = verify_findings(standing.findings, chunks, models=models, seed=settings.seed,
                              temperature=settings.temperature, cache=cache, concurrency=settings.concurrency)
    return _Standing(checked.kept, standing.dropped + Counter({DropReason.REJECTED: checked.rejected}),
                     standing.usage + checked.usage, standing.notes + checked.notes)


# -- the result ----------------------------------------------------------------------------------------------


def _result(the_plan: Plan, answers: _Answers, standing: _Standing, settings: Settings,
            flow: RequestFlow) -> ReviewResult:
    """The findings budget chooses what is shown; the rest of the result is counted from the plan and the run."""
    shown, held = findings_mod.apply_budget(standing.findings, settings.max_findings, settings.max_findings_per_file)
    usage = standing.usage
    if flow.sent:  # what went on the wire, failed attempts included (the answers count only successes)
        usage = replace(usage, requests=flow.sent, failed=flow.failed)
    not_reviewed = set(answers.failed) | {s.path for s in the_plan.skipped}  # a file too large for any request
    reviewed = tuple(f.path for f in the_plan.reviewable if f.path not in not_reviewed)
    return ReviewResult(
        findings=shown,
        held_back=held,
        files_reviewed=reviewed,
        skipped=the_plan.skipped,
        failed=tuple(Skipped(p, r) for p, r in sorted(answers.failed.items())),
        dropped=tuple(sorted((r, n) for r, n in standing.dropped.items() if n)),
        usage=usage,
        model=", ".join(sorted({r.model for r in the_plan.requests})),
        agents=the_plan.agents,
        description=the_plan.diff.description,
        chunks=len({(r.agent, id(r.chunk)) for r in the_plan.requests}),
        summaries=answers.summaries,
        notes=standing.notes,
        coverage=the_plan.coverage,
        flow=flow if flow.sent else None,
    )
