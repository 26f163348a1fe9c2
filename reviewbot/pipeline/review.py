"""Compose the pipeline: diff -> skip list -> redaction -> chunks -> prompts -> model -> findings -> result.

`plan()` does all local work and sends nothing (it is also what --dry-run prints); `execute()` sends the
planned requests, in parallel, through the cache. Neither prints anything: the CLI owns the terminal.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Sequence

from reviewbot.pipeline import findings as findings_mod
from reviewbot.pipeline.answer import ParsedAnswer, complete_findings, parse_answer
from reviewbot.core.errors import ContextOverflowError, ModelError, OutputParseError
from reviewbot.core.models import Chunk, Coverage, Diff, FileDiff, Finding, ReviewResult, Skipped, Usage
from reviewbot.core.models import DropReason, FindingSource
from reviewbot.pipeline.prompt import (
    PROTOCOL_VERSION, PromptParts, build_messages, instructions_for, remembering_renderer, retry_message,
)

if TYPE_CHECKING:
    from reviewbot.rules.agents import Agent
    from reviewbot.adapters.result_cache import ResultCache
    from reviewbot.config import Settings
    from reviewbot.adapters.model_client import ChatModel
    from reviewbot.adapters.reviewed_revision import ReviewedTree
    from reviewbot.adapters.repository_files import FileSource


@dataclass(frozen=True)
class PlannedRequest:
    agent: str
    model: str
    chunk: Chunk
    messages: tuple[dict, ...]
    answer_tokens: int  # the answer allowance the request reserves (max_tokens)
    seed: int | None = None
    parts: PromptParts | None = None  # what surrounds the diff: rebuilds the messages for half the chunk

    @cached_property
    def estimated_tokens(self) -> int:
        """The messages' estimated tokens plus the answer allowance; worked out on first use, since only --dry-run
        shows it and estimating every message of a large plan again costs more than the rest of building them."""
        from reviewbot.pipeline.tokens import estimate_tokens

        return sum(estimate_tokens(m["content"]) for m in self.messages) + self.answer_tokens


@dataclass(frozen=True)
class Plan:
    diff: Diff
    reviewable: tuple[FileDiff, ...]
    skipped: tuple[Skipped, ...]
    local_findings: tuple[Finding, ...]  # secrets found without a model
    requests: tuple[PlannedRequest, ...]
    redactions: int = 0
    notes: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    path_aliases: tuple[tuple[str, str], ...] = ()  # (redacted name sent to the model, real path)
    coverage: Coverage | None = None


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


# -- planning --------------------------------------------------------------------------------------------

def _diff_size(f: FileDiff) -> int:
    return sum(len(ln.text) + 1 for h in f.hunks for ln in h.lines)


def _first_lines(f: FileDiff) -> str | None:
    from reviewbot.pipeline.skip import FIRST_LINES

    if f.hunks and f.hunks[0].new_start <= 1:
        return "\n".join([ln.text for ln in f.hunks[0].lines if ln.kind != "-"][:FIRST_LINES])
    return None


def _head_lines(content: FileSource, paths: Sequence[str]) -> dict[str, str]:
    """Each file's first lines on the reviewed side, for the generated/minified checks when no hunk shows them."""
    from reviewbot.pipeline.skip import FIRST_LINES

    read_heads = getattr(content, "read_heads", None)
    if read_heads is not None:
        heads = read_heads(paths)
    else:
        heads = {p: t for p in paths if (t := content.read_text(p)) is not None}
    return {p: "\n".join(text.splitlines()[:FIRST_LINES]) for p, text in heads.items()}


def classify(diff: Diff, settings: Settings, content: FileSource | None = None) -> tuple[list[FileDiff], list[Skipped]]:
    """Split the diff into files to send and files skipped, each with its reason (never dropped silently).

    `content` is the reviewed side of the diff (a revision, the index or the work tree): when a file's first hunk
    does not start at line 1, its first lines are read from there, so a generated file's marker is seen whichever
    lines a change touches.
    """
    from reviewbot.secrets import is_sensitive_path

    keep: list[FileDiff] = []
    skipped: list[Skipped] = []
    need_head: list[FileDiff] = []
    for f in diff.files:
        reason = None
        if f.status == "deleted":
            reason = "deleted"
        elif f.is_submodule:
            reason = "submodule"
        elif f.is_binary:
            reason = "binary"
        elif f.is_symlink:
            reason = "symlink"
        elif is_sensitive_path(f.path) or (f.old_path is not None and is_sensitive_path(f.old_path)):
            reason = "sensitive file (never sent)"
        elif not f.hunks:
            reason = "mode change only" if f.mode_changed else ("renamed, content unchanged" if f.status == "renamed"
                                                                   else "no content change")
        else:
            first = _first_lines(f)
            reason = _skip_reason(f, settings, first)
            if reason is None and first is None and content is not None:
                need_head.append(f)
                continue
        _sort(f, reason, keep, skipped)
    if need_head:
        # Files whose hunks do not show line 1: their first lines come from the reviewed side, all in one read.
        heads = _head_lines(content, [f.path for f in need_head])  # type: ignore[arg-type]
        for f in need_head:
            _sort(f, _skip_reason(f, settings, heads.get(f.path)), keep, skipped)
        order = {id(f): i for i, f in enumerate(diff.files)}
        keep.sort(key=lambda f: order[id(f)])
    return keep, skipped


def _skip_reason(f: FileDiff, settings: Settings, first_lines: str | None) -> str | None:
    from reviewbot.pipeline.skip import skip_reason

    return skip_reason(
        f.path,
        is_binary=False,
        size_bytes=_diff_size(f),
        first_lines=first_lines,
        include=settings.include,
        exclude=settings.exclude,
        max_file_bytes=settings.max_file_bytes,
    )


def _sort(f: FileDiff, reason: str | None, keep: list[FileDiff], skipped: list[Skipped]) -> None:
    if reason:
        skipped.append(Skipped(f.path, reason))
    elif f.added_lines:
        keep.append(f)
    else:
        skipped.append(Skipped(f.path, "only removed lines"))


def _secrets_in_paths(diff: Diff) -> list[Finding]:
    """A token in a file's name is committed like any other; report it locally (the name itself is redacted)."""
    from reviewbot.core.models import Severity
    from reviewbot.secrets import find_secrets, secret_phrase

    found = []
    for f in diff.files:
        if f.status == "deleted":
            continue
        hits = find_secrets(f.path)
        if hits:
            found.append(Finding(
                path=f.path, line=min(f.added_lines, default=1), severity=Severity.ERROR, category="secrets",
                message=f"{secret_phrase(diff)} ({hits[0].kind}) in the file name: rename the file and revoke the secret.",
                agent="reviewbot", source=FindingSource.SECRETS,
            ))
    return found


def _redact_paths(files: Sequence[FileDiff]) -> tuple[list[FileDiff], dict[str, str]]:
    """Files whose names hold a secret get a redacted name in the prompt; the map leads answers back to the file."""
    from reviewbot.secrets import redact

    out, aliases = [], {}
    for f in files:
        path = redact(f.path)[0]
        old_path = redact(f.old_path)[0] if f.old_path else f.old_path
        if path != f.path or old_path != f.old_path:
            aliases[path] = f.path
            f = replace(f, path=path, old_path=old_path)
        out.append(f)
    return out, aliases


def _redact_files(files: Sequence[FileDiff]) -> tuple[list[FileDiff], int]:
    from reviewbot.secrets import redact_file_diff

    out, total = [], 0
    for f in files:
        redacted, n = redact_file_diff(f)
        out.append(redacted)
        total += n
    return out, total


def plan(
    diff: Diff,
    settings: Settings,
    *,
    agents: Sequence[Agent],
    source: FileSource,
    model_for: Callable[[Agent], str],
    content: FileSource | None = None,
    reviewed: ReviewedTree | None = None,
) -> Plan:
    """Every request the review needs, with the skipped files, local findings and notes; sends nothing.

    With the cache on, a plan is stored under a key that names all of its inputs, and an unchanged rerun reads it
    back instead of scanning, chunking and rendering again (reviewbot/pipeline/plan_cache.py); the answer is the same.
    `reviewed` is the repository at the reviewed revision, where context (reviewbot/pipeline/context.py) is read from.
    """
    reviewed = reviewed if settings.context else None
    if not settings.cache:
        return _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, content=content,
                          reviewed=reviewed)
    from reviewbot.pipeline import plan_cache as plancache
    from reviewbot.adapters.result_cache import ResultCache, cache_key

    key = plancache.plan_key(diff, settings, agents=agents, source=source, model_for=model_for)
    if key is None:
        return _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, content=content,
                          reviewed=reviewed)
    if reviewed is not None:
        key = cache_key(key, reviewed.stamp())  # context reads any file of the reviewed revision
    with ResultCache() as cache:
        stored = plancache.load(cache, key, diff)
        if stored is not None:
            return stored
        fresh = _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, content=content,
                           reviewed=reviewed)
        plancache.store(cache, key, fresh)
        return fresh


def _make_plan(
    diff: Diff,
    settings: Settings,
    *,
    agents: Sequence[Agent],
    source: FileSource,
    model_for: Callable[[Agent], str],
    content: FileSource | None = None,
    reviewed: ReviewedTree | None = None,
) -> Plan:
    from reviewbot.pipeline.budget import request_budget
    from reviewbot.pipeline.chunking import make_chunks
    from reviewbot.secrets import redact, secret_findings
    from reviewbot.rules.standards import discover_standards, render_standards, standards_for_file
    from reviewbot.pipeline.tokens import estimate_tokens

    reviewable, skipped = classify(diff, settings, content)
    local = tuple(secret_findings(diff)) + tuple(_secrets_in_paths(diff)) if settings.secret_scan else ()
    files, redactions = _redact_files(reviewable)
    files, path_aliases = _redact_paths(files)
    notes: list[str] = []
    docs = discover_standards(source, [f.path for f in files], explicit=settings.standards, problems=notes)
    rendered_standards: dict[tuple, str] = {}  # chunks that share their documents share the text

    def docs_for(paths: Sequence[str]) -> list:
        seen, chosen = set(), []
        for p in paths:
            for doc in standards_for_file(docs, p):
                if doc.path not in seen:
                    seen.add(doc.path)
                    chosen.append(doc)
        return chosen

    def rendered(chosen: Sequence, max_chars: int) -> str:
        which = (tuple(doc.path for doc in chosen), max_chars)
        if which not in rendered_standards:
            text, doc_notes = render_standards(chosen, max_chars=max_chars)
            for n in doc_notes:
                if n not in notes:
                    notes.append(n)
            rendered_standards[which] = redact(text)[0]
        return rendered_standards[which]

    render = remembering_renderer()
    context = _context_builder(reviewed, settings)
    sent_by_agent: list[dict[str, set[int]]] = []
    all_standards = rendered(docs_for([f.path for f in files]), settings.max_standards_chars)
    # Everything that leaves the machine is redacted the same way: diff, names, standards, and also path
    # instructions and agent personas (a repository's own files, which may hold tokens too).
    instructions_table = sorted((redact(glob)[0], redact(text)[0]) for glob, text in settings.path_instructions.items())
    requests: list[PlannedRequest] = []
    for agent in agents:
        parts = PromptParts(agent_name=redact(agent.name)[0], persona=redact(agent.persona)[0],
                            standards=all_standards)
        overhead = estimate_tokens(build_messages(parts, Chunk(files=()))[0]["content"]) + estimate_tokens(
            all_standards
        ) + estimate_tokens("\n".join(t for _, t in instructions_table)) + 200
        model = model_for(agent)
        chunks, too_big = make_chunks(
            files,
            render=render,
            budget_tokens=request_budget(settings, model),
            overhead_tokens=overhead,
            answer_tokens=settings.max_answer_tokens,
        )
        for s in too_big:
            if s not in skipped:
                skipped.append(s)
        sent_by_agent.append(_lines_sent(chunks, files))
        for chunk, chunk_parts in zip(chunks, _stable_prefix_parts(parts, chunks, docs_for, rendered,
                                                                   instructions_table, settings.max_standards_chars)):
            messages = tuple(build_messages(chunk_parts, chunk, render))
            if context is not None:
                messages = _with_context(context, chunk_parts, chunk, messages, render, settings, agent.name,
                                         request_budget(settings, model))
            for sample in range(max(1, settings.samples)):
                requests.append(
                    PlannedRequest(agent.name, model, chunk, messages, settings.max_answer_tokens,
                                   seed=settings.seed + sample if settings.seed is not None else sample,
                                   parts=chunk_parts)
                )
    return Plan(
        diff=diff,
        reviewable=tuple(files),
        skipped=tuple(sorted(skipped, key=lambda s: s.path)),
        local_findings=local,
        requests=tuple(requests),
        redactions=redactions,
        notes=tuple(notes),
        agents=tuple(a.name for a in agents),
        path_aliases=tuple(sorted(path_aliases.items())),
        coverage=_coverage(diff, files, sent_by_agent, skipped),
    )


def _lines_sent(chunks: Sequence[Chunk], files: Sequence[FileDiff]) -> dict[str, set[int]]:
    """path -> the added lines some chunk shows whole (a line cut to fit the budget is not counted as sent)."""
    by_path = {f.path: f for f in files}
    sent: dict[str, set[int]] = {}
    for chunk in chunks:
        for piece in chunk.files:
            whole = by_path[piece.path].index.text
            got = sent.setdefault(piece.path, set())
            for hunk in piece.hunks:
                got.update(ln.new_no for ln in hunk.lines if ln.kind == "+" and whole.get(ln.new_no) == ln.text)
    return sent


def _coverage(diff: Diff, files: Sequence[FileDiff], sent_by_agent: Sequence[dict[str, set[int]]],
              skipped: Sequence[Skipped]) -> Coverage:
    too_big = {s.path: s.reason for s in skipped}
    reviewable = sum(len(f.added_lines) for f in files)
    not_sent: dict[str, tuple[int, int]] = {}  # path -> (lines not sent, of how many), for the agent that saw least
    sent_total = reviewable
    for sent in sent_by_agent or ({},):
        total = 0
        for f in files:
            got = len(sent.get(f.path, ()))
            total += got
            missing = len(f.added_lines) - got
            if missing and f.path not in too_big and missing > not_sent.get(f.path, (0, 0))[0]:
                not_sent[f.path] = (missing, len(f.added_lines))
        sent_total = min(sent_total, total)
    return Coverage(
        files_changed=len(diff.files),
        files_sent=sum(1 for f in files if any(s.get(f.path) for s in sent_by_agent)),
        added_total=sum(len(f.added_lines) for f in diff.files if f.status != "deleted"),
        added_reviewable=reviewable,
        added_sent=sent_total,
        not_sent=tuple(
            Skipped(path, f"{missing:,} of {of:,} added lines not sent whole (a line longer than a request was cut)")
            for path, (missing, of) in sorted(not_sent.items())
        ),
    )


def _stable_prefix_parts(parts: PromptParts, chunks: Sequence[Chunk], docs_for, rendered,
                         instructions_table: Sequence[tuple[str, str]], max_chars: int) -> list[PromptParts]:
    """Each chunk's prompt parts, split so that every request of the agent starts with the same text.

    Servers with a prompt cache (hosted APIs, vLLM, llama.cpp) reuse the longest prefix a request shares with an
    earlier one, so the standards documents and path instructions that apply to every chunk come first, rendered
    once and byte-identical in every request; what applies to some chunks only (a nested AGENTS.md, a path
    instruction) follows, with the diff. The shared documents get the standards budget first, the chunk's own
    ones what is left. With one chunk everything is shared, nearest document first, as before.
    """
    if not chunks:
        return []
    chunk_docs = [docs_for(c.paths) for c in chunks]
    everywhere = set.intersection(*({d.path for d in cd} for cd in chunk_docs))
    shared_docs = [d for d in chunk_docs[0] if d.path in everywhere]
    shared_text = rendered(shared_docs, max_chars)
    chunk_instructions = [instructions_for(c.paths, instructions_table) for c in chunks]
    shared_instructions = tuple(i for i in chunk_instructions[0] if all(i in other for other in chunk_instructions))
    shared = replace(parts, standards=shared_text, instructions=shared_instructions)
    out = []
    for cd, ci in zip(chunk_docs, chunk_instructions):
        extra = [d for d in cd if d.path not in everywhere]
        out.append(replace(
            shared,
            chunk_standards=rendered(extra, max(0, max_chars - len(shared_text))) if extra else "",
            chunk_instructions=tuple(i for i in ci if i not in shared_instructions),
        ))
    return out


def _context_builder(reviewed: ReviewedTree | None, settings: Settings):
    if reviewed is None or not settings.context or settings.context_budget <= 0:
        return None
    from reviewbot.pipeline.context import ContextBuilder
    from reviewbot.secrets import is_sensitive_path
    from reviewbot.pipeline.skip import glob_match

    def excluded(path: str) -> bool:
        return is_sensitive_path(path) or any(glob_match(g, path) for g in settings.exclude)

    return ContextBuilder(reviewed, share=settings.context_budget, max_request_tokens=settings.max_request_tokens,
                          excluded=excluded)


def _with_context(context, parts: PromptParts, chunk: Chunk, messages: tuple[dict, ...], render,
                  settings: Settings, agent: str, budget_tokens: int) -> tuple[dict, ...]:
    """The chunk's messages with its context added, within what is left of the request budget."""
    from reviewbot.secrets import redact
    from reviewbot.pipeline.tokens import estimate_tokens

    used = sum(estimate_tokens(m["content"]) for m in messages) + settings.max_answer_tokens + 100
    text = context.for_chunk(chunk, room_tokens=budget_tokens - used, agent=agent)
    if not text:
        return messages
    return tuple(build_messages(replace(parts, context=redact(text)[0]), chunk, render))


# -- execution -------------------------------------------------------------------------------------------

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

    def __init__(self, name: str, endpoint: str, factory: Callable[[str], ChatModel], gate=None) -> None:
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

    def __getattr__(self, name: str):
        if name.startswith("_"):  # never build a client for (or recurse on) private or special lookups
            raise AttributeError(name)
        return getattr(self.real(), name)


def request_key(req: PlannedRequest, endpoint: str, settings: Settings) -> str:
    from reviewbot.adapters.result_cache import cache_key

    return cache_key(
        "review", PROTOCOL_VERSION, req.model, endpoint, str(req.seed), str(settings.temperature),
        json.dumps(req.messages, sort_keys=True, ensure_ascii=False),
    )


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
         ask=None) -> _Try:
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
    base = dict(text=completion.text, tokens_out=completion.tokens_out, max_tokens=max_tokens, metadata=metadata)
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
         budget_tokens: int | None = None, may_shrink: bool = True, ask=None) -> _Outcome:
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
    tools=None,
) -> ReviewResult:
    """`tools` (reviewbot.pipeline.model_tools.ToolUse, optional) lets the named agents' models look around the repository."""
    from reviewbot.pipeline.budget import request_budget
    from reviewbot.adapters.request_flow import RequestGate

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
        ask = None
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
    chunk_drops: dict[tuple[str, int], list[Counter]] = {}
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
        current, counts = extra(current, the_plan.diff)
        dropped.update(counts)
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


def _format_notes(models: dict) -> list[str]:
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
            models: dict[str, ChatModel], cache: ResultCache | None):
    from reviewbot.pipeline.verify import ReviewedChunk, verify_findings

    chunks, seen = [], set()
    for req in requests:
        if (req.agent, id(req.chunk)) not in seen:  # samples of a chunk share one verification
            seen.add((req.agent, id(req.chunk)))
            chunks.append(ReviewedChunk(req.agent, req.model, req.chunk))
    return verify_findings(found, chunks, models=models, seed=settings.seed, temperature=settings.temperature,
                           cache=cache, concurrency=settings.concurrency)
