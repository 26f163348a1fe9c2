"""execute(): send the planned requests in parallel through the result cache, parse and check the answers,
vote over samples, verify, and return the result. Prints nothing."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypedDict

from reviewbot.core.errors import ContextOverflowError, ModelError, OutputParseError
from reviewbot.core.models import Chunk, Diff, DropReason, Finding, ReviewResult, Skipped, Usage
from reviewbot.pipeline import findings as findings_mod
from reviewbot.pipeline.answer import ParsedAnswer, complete_findings, parse_answer
from reviewbot.pipeline.plan_records import Plan, PlannedRequest
from reviewbot.pipeline.prompt import PROTOCOL_VERSION, build_messages, retry_message

if TYPE_CHECKING:
    from reviewbot.adapters.model_client import ChatModel, Completion
    from reviewbot.adapters.request_flow import RequestGate
    from reviewbot.adapters.result_cache import ResultCache
    from reviewbot.config import Settings
    from reviewbot.pipeline.model_tools import ToolUse
    from reviewbot.pipeline.verify import Verification

    # ask(model, messages, seed) in place of the plain request (the tool loop of reviewbot/pipeline/model_tools.py)
    AskFn = Callable[[ChatModel, list[dict], int | None], Completion]


@dataclass
class _Outcome:
    findings: list[Finding] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    invalid: int = 0
    echoed: int = 0
    summary: str = ""
    error: str | None = None
    error_paths: tuple[str, ...] = ()  # the paths the error concerns when not the whole chunk (half of a split)
    notes: list[str] = field(default_factory=list)  # said to the user: cut answers, findings kept from them


def model_endpoint(settings: Settings) -> str:
    """The endpoint a request goes to, as its cache key records it, without building a client.

    The same value as `ModelSettings.endpoint` of the models `run.make_model_factory` builds: settings.base_url
    (config has already put OPENAI_BASE_URL there), else the SDK's default URL.
    """
    from reviewbot.adapters.model_client import ModelSettings

    return ModelSettings(model="", base_url=settings.base_url).endpoint


@dataclass(frozen=True, slots=True)
class _ModelIdentity:
    """What a cache key needs to know about a model: its name and endpoint."""

    model: str
    endpoint: str


class _LazyModel:
    """Stands in for one model's ChatModel and builds it on the first request that really has to be sent.

    Building a ChatModel imports openai (~0.45 s); a run whose answers all come from the cache never pays for it.
    `settings` carries only the model and endpoint (what request and verification keys use); every other
    attribute (`complete`, `describe`, ...) is the real ChatModel's.
    """

    def __init__(self, name: str, endpoint: str, factory: Callable[[str], ChatModel],
                 gate: RequestGate | None = None) -> None:
        self.settings = _ModelIdentity(model=name, endpoint=endpoint)
        self._factory = factory
        self._gate = gate  # the run's RequestGate, shared by every model (they share the endpoint)
        self._model: ChatModel | None = None
        self._lock = threading.Lock()  # one ChatModel per model: it remembers which response format works

    def real(self) -> ChatModel:
        with self._lock:
            if self._model is None:
                self._check_listening()
                self._model = self._factory(self.settings.model)
                if self._gate is not None and hasattr(self._model, "gate"):
                    # setattr: ChatModel declares `gate` by `self.gate = None` (typed None until that module is annotated)
                    self._model.gate = self._gate
            return self._model

    def _check_listening(self) -> None:
        """A loopback endpoint with nothing listening fails the run at once, before openai is even imported."""
        from reviewbot.adapters.request_flow import refused_locally

        if self._gate is None or not refused_locally(self.settings.endpoint):
            return
        message = (f"could not connect to model '{self.settings.model}' at {self.settings.endpoint}: connection "
                   "refused (is the model server running?)")
        self._gate.failed(self._gate.acquire(), "connection", message, at_once=True)  # counted as one attempt
        raise ModelError(message)

    def __getattr__(self, name: str) -> Any:  # whatever the real ChatModel's attribute is
        if name.startswith("_"):  # never build a client for (or recurse on) private or special lookups
            raise AttributeError(name)
        return getattr(self.real(), name)


def request_key(req: PlannedRequest, endpoint: str, settings: Settings) -> str:
    from reviewbot.adapters.result_cache import cache_key

    return cache_key(
        "review", PROTOCOL_VERSION, req.model, endpoint, str(req.seed), str(settings.temperature),
        json.dumps(req.messages, sort_keys=True, ensure_ascii=False),
    )


class _TryBase(TypedDict):
    """The fields of a _Try that every answer fills in."""

    text: str
    tokens_out: int
    max_tokens: int
    metadata: dict


@dataclass(frozen=True)
class _Try:
    """One answer from the model, judged."""

    text: str = ""
    parsed: ParsedAnswer | None = None
    problem: str = ""  # why the answer is not a review
    cut: bool = False  # finish_reason "length"
    tokens_out: int = 0
    max_tokens: int = 0
    overflow: str = ""  # the server said the request does not fit its context
    failure: str = ""  # the request failed (server or network)
    metadata: dict = field(default_factory=dict)


def _try(model: ChatModel, messages: list[dict], req: PlannedRequest, out: _Outcome, max_tokens: int,
         ask: AskFn | None = None) -> _Try:
    """Ask once and judge the answer; the tokens spent are added to `out` whatever the answer is.
    `ask(model, messages, seed)` replaces the plain request (the tool loop of reviewbot/pipeline/model_tools.py)."""
    try:
        if ask is not None:
            completion = ask(model, messages, req.seed)
        else:
            completion = model.complete(messages, seed=req.seed, max_tokens=max_tokens)
    except ContextOverflowError as exc:
        return _Try(overflow=str(exc), max_tokens=max_tokens)
    except ModelError as exc:
        return _Try(failure=str(exc), max_tokens=max_tokens)
    out.usage = out.usage + Usage(requests=1, tokens_in=completion.tokens_in, tokens_out=completion.tokens_out,
                                  cached_tokens=completion.cached_tokens)
    metadata = {"finish_reason": completion.finish_reason, "response_format": completion.response_format,
                "max_tokens": max_tokens}
    base: _TryBase = {"text": completion.text, "tokens_out": completion.tokens_out, "max_tokens": max_tokens,
            "metadata": metadata}
    if completion.cut_off:
        return _Try(cut=True, problem="the answer was cut off", **base)
    try:
        return _Try(parsed=parse_answer(completion.text, agent=req.agent), **base)
    except OutputParseError as exc:
        return _Try(problem=str(exc), **base)


def _use(out: _Outcome, parsed: ParsedAnswer) -> _Outcome:
    out.findings += list(parsed.findings)
    out.invalid += parsed.invalid
    out.echoed += parsed.echoed
    if parsed.summary:
        out.summary = f"{out.summary} {parsed.summary}".strip()
    return out


def _store(cache: ResultCache | None, key: str, attempt: _Try) -> None:
    """Only a complete answer that is a review is ever cached, with how it was asked for."""
    if cache is not None and attempt.parsed is not None and not attempt.cut:
        cache.put(key, json.dumps({"text": attempt.text, **attempt.metadata}))


def _from_cache(hit: str, agent: str) -> ParsedAnswer | None:
    try:
        entry = json.loads(hit)
        if entry.get("finish_reason") == "length":
            return None
        return parse_answer(entry["text"], agent=agent)
    except (OutputParseError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a stale or damaged entry: ask again


def _cut_words(attempt: _Try) -> str:
    from reviewbot.pipeline.answer import is_looping

    tokens = attempt.tokens_out or attempt.max_tokens
    if _context_ran_out(attempt):
        return f"was cut off at {tokens} of {attempt.max_tokens} tokens (the server's context was full)"
    return f"was cut off at {tokens} tokens" + (" (it was repeating itself)" if is_looping(attempt.text) else "")


def _context_ran_out(attempt: _Try) -> bool:
    """Cut before its allowance: the server stopped because prompt and answer filled its context (llama-server)."""
    return attempt.cut and 0 < attempt.tokens_out < attempt.max_tokens


def _keep_complete(out: _Outcome, attempt: _Try, req: PlannedRequest) -> str:
    """Keep the findings of a cut answer that provably ended before the cut, say so; returns words for the error."""
    if not attempt.cut:
        return ""
    salvage = complete_findings(attempt.text, agent=req.agent)
    if not salvage.findings:
        return ""
    out.findings += list(salvage.findings)
    where = ", ".join(req.chunk.paths)
    closed = " after its findings list closed" if salvage.array_closed else ""
    out.notes.append(
        f"the answer about {where} {_cut_words(attempt)}{closed}: {len(salvage.findings)} complete finding(s) "
        "from it are shown, anything after them was lost"
    )
    return f"; {len(salvage.findings)} complete finding(s) from the cut answer are shown"


def _ask(model: ChatModel, req: PlannedRequest, cache: ResultCache | None, key: str, *,
         budget_tokens: int | None = None, may_shrink: bool = True,
         ask: AskFn | None = None) -> _Outcome:
    """One planned request: from the cache, or from the model.

    An unusable answer (not the answer schema) is asked again once, with what was wrong. A cut answer, or a request
    too large for the server's context, is asked again once as two halves of the chunk (or, for a cut answer that is
    not a loop, with twice the answer allowance when that fits the budget); a loop is never shown back to the model.
    When that fails too the chunk could not be reviewed: complete findings of a cut answer are kept, with a note.
    """
    out = _Outcome()
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            parsed = _from_cache(hit, req.agent)
            if parsed is not None:
                out.usage = Usage(cached=1)
                return _use(out, parsed)
    messages = list(req.messages)
    first = _try(model, messages, req, out, req.answer_tokens, ask=ask)
    if first.parsed is not None:
        _store(cache, key, first)
        return _use(out, first.parsed)
    if first.failure:
        out.error = first.failure
        return out
    if first.cut or first.overflow:
        if may_shrink:
            return _shrink(model, req, cache, key, first, out, budget_tokens)
        return _give_up(model, req, first, out, "")
    # A complete answer that is not a review: once more, saying what was wrong.
    again = _try(model, messages + retry_message(first.text, first.problem), req, out, req.answer_tokens)
    if again.parsed is not None:
        _store(cache, key, again)
        return _use(out, again.parsed)
    if again.failure:
        out.error = again.failure
        return out
    if again.cut or again.overflow:
        return _give_up(model, req, again, out, "")
    out.error = f"{model.describe()} answered twice with no usable answer ({again.problem})"
    return out


def _give_up(model: ChatModel, req: PlannedRequest, attempt: _Try, out: _Outcome, after: str) -> _Outcome:
    if attempt.overflow:
        out.error = attempt.overflow + after
    else:
        out.error = f"the answer of {model.describe()} {_cut_words(attempt)}{after}"
        out.error += _keep_complete(out, attempt, req)
    return out


def _shrink(model: ChatModel, req: PlannedRequest, cache: ResultCache | None, key: str, first: _Try, out: _Outcome,
            budget_tokens: int | None) -> _Outcome:
    """The one retry after a cut answer or a context overflow: more answer room when that is the cure and fits,
    else the chunk in two halves, each asked on its own (and cached under its own key)."""
    from reviewbot.pipeline.answer import is_looping
    from reviewbot.pipeline.chunking import split_chunk

    bigger = 2 * first.max_tokens
    prompt_tokens = req.estimated_tokens - req.answer_tokens
    if (first.cut and not is_looping(first.text) and not _context_ran_out(first) and budget_tokens
            and prompt_tokens + bigger <= budget_tokens):
        again = _try(model, list(req.messages), req, out, bigger)
        if again.parsed is not None:
            _store(cache, key, again)
            out.notes.append(f"the answer about {', '.join(req.chunk.paths)} {_cut_words(first)}; asked again "
                             f"with {bigger} tokens of room")
            return _use(out, again.parsed)
        if again.failure:
            out.error = again.failure
            return out
        if again.cut:
            out.error = (f"the answer of {model.describe()} {_cut_words(first)}, and again at "
                         f"{again.tokens_out or bigger} tokens when asked with {bigger} tokens of room")
            out.error += _keep_complete(out, again, req)
            return out
        return _give_up(model, req, again if again.overflow else first, out,
                        f" (asked again with {bigger} tokens: {again.problem})")
    halves = split_chunk(req.chunk) if req.parts is not None else None
    if halves is None:
        room = "" if first.overflow or _context_ran_out(first) or is_looping(first.text) else (
            f" and {bigger} tokens of answer room do not fit max_request_tokens")
        return _give_up(model, req, first, out, f"; the chunk is a single hunk that cannot be split{room}")
    why = "was too large for the server's context" if first.overflow else _cut_words(first)
    out.notes.append(f"the request about {', '.join(req.chunk.paths)} {why}; asked again in two halves")
    for half in halves:
        sub = _half_request(req, half)
        sub_out = _ask(model, sub, cache, request_key_for(sub, key), may_shrink=False)
        out.usage = out.usage + sub_out.usage
        out.findings += sub_out.findings
        out.invalid += sub_out.invalid
        out.echoed += sub_out.echoed
        out.notes += sub_out.notes
        if sub_out.summary:
            out.summary = f"{out.summary} {sub_out.summary}".strip()
        if sub_out.error and out.error is None:
            out.error = sub_out.error + " (after splitting the chunk in two)"
        if sub_out.error:
            out.error_paths += half.paths
    return out


def _half_request(req: PlannedRequest, half: Chunk) -> PlannedRequest:
    assert req.parts is not None
    messages = tuple(build_messages(req.parts, half))
    return replace(req, chunk=half, messages=messages)


def request_key_for(sub: PlannedRequest, parent_key: str) -> str:
    """The cache key of half a request: its own messages, under the parent's key (model, endpoint, settings)."""
    from reviewbot.adapters.result_cache import cache_key

    return cache_key("review-half", parent_key, json.dumps(sub.messages, sort_keys=True, ensure_ascii=False))


def _vote(per_sample: Sequence[Sequence[Finding]], share: float) -> tuple[list[Finding], int]:
    """Keep findings that at least `share` of the samples report (matched by path, anchored line, category)."""
    if len(per_sample) <= 1:
        return (list(per_sample[0]) if per_sample else []), 0
    votes: Counter = Counter()
    first: dict[tuple, Finding] = {}
    for sample in per_sample:
        for key in {(f.path, f.line, f.category) for f in sample}:
            votes[key] += 1
        for f in sample:
            first.setdefault((f.path, f.line, f.category), f)
    needed = share * len(per_sample)
    kept = [first[k] for k in sorted(first) if votes[k] >= needed - 1e-9]
    return kept, len(first) - len(kept)


def execute(
    the_plan: Plan,
    settings: Settings,
    *,
    model_factory: Callable[[str], ChatModel],
    cache: ResultCache | None,
    progress: Callable[[int, int], None] | None = None,
    extra_filters: Sequence[Callable[[Sequence[Finding], Diff], tuple[list[Finding], dict[str, int]]]] = (),
    tools: ToolUse | None = None,
) -> ReviewResult:
    """`tools` (reviewbot.pipeline.model_tools.ToolUse, optional) lets the named agents' models look around the repository."""
    from reviewbot.adapters.request_flow import RequestGate
    from reviewbot.pipeline.budget import request_budget

    requests = the_plan.requests
    aliases = dict(the_plan.path_aliases)
    # The files as the model saw them (redacted), under their real paths: a quote of a redacted line matches.
    sent = {aliases.get(f.path, f.path): f for f in the_plan.reviewable}
    # Cache first, model later: keys need only the endpoint, so no client exists until the first cache miss.
    endpoint = model_endpoint(settings)
    gate = RequestGate(settings.concurrency)  # adaptive concurrency and the circuit breaker, for the whole run
    models: dict[str, ChatModel] = {}
    for req in requests:
        if req.model not in models:
            models[req.model] = _LazyModel(req.model, endpoint, model_factory, gate)  # type: ignore[assignment]
    outcomes: list[_Outcome] = [None] * len(requests)  # type: ignore[list-item]

    def run(index: int) -> None:
        req = requests[index]
        model = models[req.model]
        key = request_key(req, endpoint, settings)
        ask: AskFn | None = None
        if tools is not None and req.agent in tools.agents:
            key, ask = tools.key(key), tools.ask
        try:
            outcomes[index] = _ask(model, req, cache if settings.cache else None, key,
                                   budget_tokens=request_budget(settings, req.model), ask=ask)
        except ModelError as exc:
            outcomes[index] = _Outcome(error=str(exc))

    done = 0
    if requests:
        with ThreadPoolExecutor(max_workers=max(1, min(settings.concurrency, len(requests)))) as pool:
            for _ in pool.map(run, range(len(requests))):
                done += 1
                if progress:
                    progress(done, len(requests))

    # Merge in plan order, so the result does not depend on which request finished first.
    usage = Usage()
    dropped: Counter[DropReason] = Counter()
    failed: dict[str, str] = {}
    summaries: list[str] = []
    by_chunk: dict[tuple[str, int], list[list[Finding]]] = {}
    chunk_drops: dict[tuple[str, int], list[Counter[DropReason]]] = {}
    chunk_ids: dict[int, int] = {}
    notes: list[str] = []
    for req, out in zip(requests, outcomes):
        usage = usage + out.usage
        notes += [n for n in out.notes if n not in notes]
        if out.error:
            for p in out.error_paths or req.chunk.paths:
                failed.setdefault(p, out.error)
            if not out.findings:
                continue
        if out.summary:
            summaries.append(out.summary)
        # Anchor and filter each answer before voting, so samples are compared on corrected lines.
        answered = [replace(f, path=aliases[f.path]) if f.path in aliases else f for f in out.findings]
        filtered = findings_mod.filter_findings(answered, the_plan.diff, settings.filter_mode, sent=sent)
        cid = chunk_ids.setdefault(id(req.chunk), len(chunk_ids))
        by_chunk.setdefault((req.agent, cid), []).append(list(filtered.kept))
        chunk_drops.setdefault((req.agent, cid), []).append(
            filtered.dropped + Counter({DropReason.INVALID: out.invalid, DropReason.ECHOED_PROMPT: out.echoed}))

    current: list[Finding] = []
    for key, samples in by_chunk.items():
        kept, lost = _vote(samples, settings.sample_share)
        dropped[DropReason.OUTVOTED] += lost
        current.extend(kept)
        # Samples of one chunk mostly repeat each other's mistakes: count a chunk's drops as one review's
        # (the largest count among its samples), not once per sample.
        counts = chunk_drops[key]
        for reason in set().union(*counts):
            dropped[reason] += max(c[reason] for c in counts)
    current += list(the_plan.local_findings)
    for extra in extra_filters:
        current, filter_counts = extra(current, the_plan.diff)
        # The filters' keys are DropReason values (reviewbot/rules/suppressions.py), typed there as str.
        dropped.update(filter_counts)  # type: ignore[arg-type]
    unique, dupes = findings_mod.deduplicate(current)
    dropped[DropReason.DUPLICATE] += dupes
    confident, low = findings_mod.apply_min_confidence(unique, settings.min_confidence)
    dropped[DropReason.LOW_CONFIDENCE] += low
    notes += _format_notes(models)
    if settings.verify:
        # After every filter (nothing is verified that would be dropped anyway), before the budget (which
        # should choose among confirmed findings).
        checked = _verify(requests, confident, settings, models, cache if settings.cache else None)
        confident, usage = checked.kept, usage + checked.usage
        notes += list(checked.notes)
        dropped[DropReason.REJECTED] += checked.rejected
    shown, held = findings_mod.apply_budget(confident, settings.max_findings, settings.max_findings_per_file)
    flow = gate.stats()
    if flow.sent:  # what went on the wire, failed attempts included (the answers above count only successes)
        usage = replace(usage, requests=flow.sent, failed=flow.failed)

    if tools is not None:
        notes = list(notes) + list(tools.notes())
    not_reviewed = set(failed) | {s.path for s in the_plan.skipped}  # a file too large for any request is skipped
    reviewed = tuple(f.path for f in the_plan.reviewable if f.path not in not_reviewed)
    return ReviewResult(
        findings=shown,
        held_back=held,
        files_reviewed=reviewed,
        skipped=the_plan.skipped,
        failed=tuple(Skipped(p, r) for p, r in sorted(failed.items())),
        dropped=tuple(sorted((r, n) for r, n in dropped.items() if n)),
        usage=usage,
        model=", ".join(sorted({r.model for r in requests})),
        agents=the_plan.agents,
        description=the_plan.diff.description,
        chunks=len({(r.agent, id(r.chunk)) for r in requests}),
        summaries=tuple(summaries),
        notes=tuple(notes),
        coverage=the_plan.coverage,
        flow=flow if flow.sent else None,
    )


def _format_notes(models: dict[str, ChatModel]) -> list[str]:
    """One note per response format the endpoint refused (the ladder is shared, so each is said once)."""
    said: list[str] = []
    for lazy in models.values():
        built = getattr(lazy, "_model", None) if isinstance(lazy, _LazyModel) else lazy
        ladder = getattr(built, "ladder", None)
        for rejection in getattr(ladder, "rejections", ()):
            note = (f"the server refused response_format {rejection}; this run used the next format "
                    "(set response_format to the one that works to skip the refusal)")
            if note not in said:
                said.append(note)
    return said


def _verify(requests: Sequence[PlannedRequest], found: Sequence[Finding], settings: Settings,
            models: dict[str, ChatModel], cache: ResultCache | None) -> Verification:
    from reviewbot.pipeline.verify import ReviewedChunk, verify_findings

    chunks, seen = [], set()
    for req in requests:
        if (req.agent, id(req.chunk)) not in seen:  # samples of a chunk share one verification
            seen.add((req.agent, id(req.chunk)))
            chunks.append(ReviewedChunk(req.agent, req.model, req.chunk))
    return verify_findings(found, chunks, models=models, seed=settings.seed, temperature=settings.temperature,
                           cache=cache, concurrency=settings.concurrency)
