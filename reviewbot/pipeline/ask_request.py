"""Asking one planned request, with its retries: from the result cache when it holds a complete answer, else from
the model, judged, and asked again when the answer cannot be used.

An unusable answer (not the answer schema) is asked again once, with what was wrong. A cut answer, or a request
too large for the server's context, is asked again once as two halves of the chunk (or, for a cut answer that is
not a loop, with twice the answer allowance when that fits the budget); a loop is never shown back to the model.
When that fails too the chunk could not be reviewed: complete findings of a cut answer are kept, with a note.
Only a complete answer that is a review is ever cached. Retries of a failed HTTP request are the model client's
(reviewbot/adapters/model_client.py); execute() (execution.py) asks every planned request through here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

from reviewbot.core.errors import ContextOverflowError, ModelError, OutputParseError
from reviewbot.core.models import Chunk, Finding, Usage
from reviewbot.pipeline.answer import ParsedAnswer, complete_findings, parse_answer
from reviewbot.pipeline.plan_records import PlannedRequest
from reviewbot.pipeline.prompt import PROTOCOL_VERSION, build_messages, retry_message

if TYPE_CHECKING:
    from reviewbot.adapters.model_client import Completion
    from reviewbot.adapters.result_cache import ResultCache
    from reviewbot.config import Settings
    from reviewbot.pipeline.review_model import ReviewModel

    # ask(model, messages, seed) in place of the plain request (the tool loop of reviewbot/pipeline/model_tools.py)
    AskFn = Callable[[ReviewModel, list[dict[str, str]], int | None], Completion]


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What came of one planned request: its findings (before anchoring), what it cost, and why it failed if it did."""

    findings: tuple[Finding, ...] = ()
    usage: Usage = field(default_factory=Usage)
    invalid: int = 0  # findings the answer held that are not findings (dropped as invalid)
    echoed: int = 0  # findings that repeat the prompt's own example
    summary: str = ""
    error: str | None = None
    error_paths: tuple[str, ...] = ()  # the paths the error concerns when not the whole chunk (half of a split)
    notes: tuple[str, ...] = ()  # said to the user: cut answers, findings kept from them


@dataclass
class _Tally:
    """A RequestOutcome while it is being worked out: the attempts add to it."""

    findings: list[Finding] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    invalid: int = 0
    echoed: int = 0
    summary: str = ""
    error: str | None = None
    error_paths: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def frozen(self) -> RequestOutcome:
        return RequestOutcome(tuple(self.findings), self.usage, self.invalid, self.echoed, self.summary, self.error,
                              self.error_paths, tuple(self.notes))


def request_key(req: PlannedRequest, endpoint: str, settings: Settings) -> str:
    """The cache key of a planned request: everything that shapes its answer."""
    from reviewbot.adapters.result_cache import cache_key

    return cache_key(
        "review", PROTOCOL_VERSION, req.model, endpoint, str(req.seed), str(settings.temperature),
        json.dumps(req.messages, sort_keys=True, ensure_ascii=False),
    )


def request_key_for(sub: PlannedRequest, parent_key: str) -> str:
    """The cache key of half a request: its own messages, under the parent's key (model, endpoint, settings)."""
    from reviewbot.adapters.result_cache import cache_key

    return cache_key("review-half", parent_key, json.dumps(sub.messages, sort_keys=True, ensure_ascii=False))


def ask_request(model: ReviewModel, req: PlannedRequest, cache: ResultCache | None, key: str, *,
                budget_tokens: int | None = None, ask: AskFn | None = None) -> RequestOutcome:
    """One planned request under cache key `key`: from the cache, or from the model with the retries the module
    describes. `budget_tokens` is max_request_tokens for the model (None: no more answer room is ever asked for);
    `ask(model, messages, seed)` replaces the plain request (the tool loop of reviewbot/pipeline/model_tools.py)."""
    return _ask(model, req, cache, key, budget_tokens=budget_tokens, ask=ask).frozen()


class _TryBase(TypedDict):
    """The fields of a _Try that every answer fills in."""

    text: str
    tokens_out: int
    max_tokens: int
    metadata: dict[str, object]


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
    metadata: dict[str, object] = field(default_factory=dict)


def _try(model: ReviewModel, messages: list[dict[str, str]], req: PlannedRequest, out: _Tally, max_tokens: int,
         ask: AskFn | None = None) -> _Try:
    """Ask once and judge the answer; the tokens spent are added to `out` whatever the answer is."""
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
    metadata: dict[str, object] = {"finish_reason": completion.finish_reason,
                                   "response_format": completion.response_format, "max_tokens": max_tokens}
    base: _TryBase = {"text": completion.text, "tokens_out": completion.tokens_out, "max_tokens": max_tokens,
            "metadata": metadata}
    if completion.cut_off:
        return _Try(cut=True, problem="the answer was cut off", **base)
    try:
        return _Try(parsed=parse_answer(completion.text, agent=req.agent), **base)
    except OutputParseError as exc:
        return _Try(problem=str(exc), **base)


def _use(out: _Tally, parsed: ParsedAnswer) -> _Tally:
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


def _keep_complete(out: _Tally, attempt: _Try, req: PlannedRequest) -> str:
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


def _ask(model: ReviewModel, req: PlannedRequest, cache: ResultCache | None, key: str, *,
         budget_tokens: int | None = None, may_shrink: bool = True, ask: AskFn | None = None) -> _Tally:
    """ask_request's work; `may_shrink` is False for a half, which is never split again."""
    out = _Tally()
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            parsed = _from_cache(hit, req.agent)
            if parsed is not None:
                out.usage = Usage(cached=1)
                return _use(out, parsed)
    messages = list(req.messages)
    first = _try(model, messages, req, out, req.answer_tokens, ask=ask)
    if (settled := _settled(out, first, cache, key)) is not None:
        return settled
    if first.cut or first.overflow:
        if may_shrink:
            return _shrink(model, req, cache, key, first, out, budget_tokens)
        return _give_up(model, req, first, out, "")
    # A complete answer that is not a review: once more, saying what was wrong.
    again = _try(model, messages + retry_message(first.text, first.problem), req, out, req.answer_tokens)
    if (settled := _settled(out, again, cache, key)) is not None:
        return settled
    if again.cut or again.overflow:
        return _give_up(model, req, again, out, "")
    out.error = f"{model.describe()} answered twice with no usable answer ({again.problem})"
    return out


def _settled(out: _Tally, attempt: _Try, cache: ResultCache | None, key: str) -> _Tally | None:
    """The request's tally when `attempt` ends it: a review (cached, and its findings taken) or a failed request
    (server or network); None when the answer was cut, too large or unusable, and the caller decides what next."""
    if attempt.parsed is not None:
        _store(cache, key, attempt)
        return _use(out, attempt.parsed)
    if attempt.failure:
        out.error = attempt.failure
        return out
    return None


def _give_up(model: ReviewModel, req: PlannedRequest, attempt: _Try, out: _Tally, after: str) -> _Tally:
    if attempt.overflow:
        out.error = attempt.overflow + after
    else:
        out.error = f"the answer of {model.describe()} {_cut_words(attempt)}{after}"
        out.error += _keep_complete(out, attempt, req)
    return out


def _shrink(model: ReviewModel, req: PlannedRequest, cache: ResultCache | None, key: str, first: _Try, out: _Tally,
            budget_tokens: int | None) -> _Tally:
    """The one retry after a cut answer or a context overflow: more answer room when that is the cure and fits,
    else the chunk in two halves, each asked on its own (and cached under its own key)."""
    from reviewbot.pipeline.answer import is_looping
    from reviewbot.pipeline.chunking import split_chunk

    bigger = 2 * first.max_tokens
    prompt_tokens = req.estimated_tokens - req.answer_tokens
    if (first.cut and not is_looping(first.text) and not _context_ran_out(first) and budget_tokens
            and prompt_tokens + bigger <= budget_tokens):
        return _more_room(model, req, cache, key, first, out, bigger)
    halves = split_chunk(req.chunk) if req.parts is not None else None
    if halves is None:
        room = "" if first.overflow or _context_ran_out(first) or is_looping(first.text) else (
            f" and {bigger} tokens of answer room do not fit max_request_tokens")
        return _give_up(model, req, first, out, f"; the chunk is a single hunk that cannot be split{room}")
    why = "was too large for the server's context" if first.overflow else _cut_words(first)
    out.notes.append(f"the request about {', '.join(req.chunk.paths)} {why}; asked again in two halves")
    for half in halves:
        sub = _half_request(req, half)
        _add_half(out, _ask(model, sub, cache, request_key_for(sub, key), may_shrink=False), half)
    return out


def _more_room(model: ReviewModel, req: PlannedRequest, cache: ResultCache | None, key: str, first: _Try,
               out: _Tally, bigger: int) -> _Tally:
    """A cut answer that is not a loop, asked again with `bigger` tokens of answer room."""
    again = _try(model, list(req.messages), req, out, bigger)
    if again.parsed is not None:
        out.notes.append(f"the answer about {', '.join(req.chunk.paths)} {_cut_words(first)}; asked again "
                         f"with {bigger} tokens of room")
    if (settled := _settled(out, again, cache, key)) is not None:
        return settled
    if again.cut:
        out.error = (f"the answer of {model.describe()} {_cut_words(first)}, and again at "
                     f"{again.tokens_out or bigger} tokens when asked with {bigger} tokens of room")
        out.error += _keep_complete(out, again, req)
        return out
    return _give_up(model, req, again if again.overflow else first, out,
                    f" (asked again with {bigger} tokens: {again.problem})")


def _add_half(out: _Tally, sub: _Tally, half: Chunk) -> None:
    """What one half of a split chunk answered, added to the whole chunk's tally."""
    out.usage = out.usage + sub.usage
    out.findings += sub.findings
    out.invalid += sub.invalid
    out.echoed += sub.echoed
    out.notes += sub.notes
    if sub.summary:
        out.summary = f"{out.summary} {sub.summary}".strip()
    if sub.error and out.error is None:
        out.error = sub.error + " (after splitting the chunk in two)"
    if sub.error:
        out.error_paths += half.paths


def _half_request(req: PlannedRequest, half: Chunk) -> PlannedRequest:
    assert req.parts is not None
    messages = tuple(build_messages(req.parts, half))
    return replace(req, chunk=half, messages=messages)
