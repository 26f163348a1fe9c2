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

from reviewbot import findings as findings_mod
from reviewbot.answer import parse_answer
from reviewbot.errors import ModelError, OutputParseError
from reviewbot.models import Chunk, Diff, FileDiff, Finding, ReviewResult, Skipped, Usage
from reviewbot.prompt import (
    PROTOCOL_VERSION, PromptParts, build_messages, instructions_for, remembering_renderer, retry_message,
)

if TYPE_CHECKING:
    from reviewbot.agents import Agent
    from reviewbot.cache import ResultCache
    from reviewbot.config import Settings
    from reviewbot.llm import ChatModel
    from reviewbot.reviewed import ReviewedTree
    from reviewbot.sources import FileSource


@dataclass(frozen=True)
class PlannedRequest:
    agent: str
    model: str
    chunk: Chunk
    messages: tuple[dict, ...]
    answer_tokens: int  # the answer allowance the request reserves (max_tokens)
    seed: int | None = None

    @cached_property
    def estimated_tokens(self) -> int:
        """The messages' estimated tokens plus the answer allowance; worked out on first use, since only --dry-run
        shows it and estimating every message of a large plan again costs more than the rest of building them."""
        from reviewbot.tokens import estimate_tokens

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


@dataclass
class _Outcome:
    findings: list[Finding] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    invalid: int = 0
    summary: str = ""
    error: str | None = None


# -- planning --------------------------------------------------------------------------------------------

def _diff_size(f: FileDiff) -> int:
    return sum(len(ln.text) + 1 for h in f.hunks for ln in h.lines)


def _first_lines(f: FileDiff) -> str | None:
    if f.hunks and f.hunks[0].new_start <= 1:
        return "\n".join(ln.text for ln in f.hunks[0].lines[:10] if ln.kind != "-")
    return None


def classify(diff: Diff, settings: Settings) -> tuple[list[FileDiff], list[Skipped]]:
    """Split the diff into files to send and files skipped, each with its reason (never dropped silently)."""
    from reviewbot.secrets import is_sensitive_path
    from reviewbot.skip import skip_reason

    keep: list[FileDiff] = []
    skipped: list[Skipped] = []
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
            reason = skip_reason(
                f.path,
                is_binary=False,
                size_bytes=_diff_size(f),
                first_lines=_first_lines(f),
                include=settings.include,
                exclude=settings.exclude,
                max_file_bytes=settings.max_file_bytes,
            )
        if reason:
            skipped.append(Skipped(f.path, reason))
        elif f.added_lines:
            keep.append(f)
        else:
            skipped.append(Skipped(f.path, "only removed lines"))
    return keep, skipped


def _secrets_in_paths(diff: Diff) -> list[Finding]:
    """A token in a file's name is committed like any other; report it locally (the name itself is redacted)."""
    from reviewbot.models import Severity
    from reviewbot.secrets import find_secrets

    found = []
    for f in diff.files:
        if f.status == "deleted":
            continue
        hits = find_secrets(f.path)
        if hits:
            found.append(Finding(
                path=f.path, line=min(f.added_lines, default=1), severity=Severity.ERROR, category="secrets",
                message=f"Committed secret ({hits[0].kind}) in the file name: rename the file and revoke the secret.",
                agent="reviewbot", source="secrets",
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
    reviewed: ReviewedTree | None = None,
) -> Plan:
    """Every request the review needs, with the skipped files, local findings and notes; sends nothing.

    With the cache on, a plan is stored under a key that names all of its inputs, and an unchanged rerun reads it
    back instead of scanning, chunking and rendering again (reviewbot/plancache.py); the answer is the same.
    `reviewed` is the repository at the reviewed revision, where context (reviewbot/context.py) is read from.
    """
    reviewed = reviewed if settings.context else None
    if not settings.cache:
        return _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, reviewed=reviewed)
    from reviewbot import plancache
    from reviewbot.cache import ResultCache, cache_key

    key = plancache.plan_key(diff, settings, agents=agents, source=source, model_for=model_for)
    if key is None:
        return _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, reviewed=reviewed)
    if reviewed is not None:
        key = cache_key(key, reviewed.stamp())  # context reads any file of the reviewed revision
    with ResultCache() as cache:
        stored = plancache.load(cache, key, diff)
        if stored is not None:
            return stored
        fresh = _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, reviewed=reviewed)
        plancache.store(cache, key, fresh)
        return fresh


def _make_plan(
    diff: Diff,
    settings: Settings,
    *,
    agents: Sequence[Agent],
    source: FileSource,
    model_for: Callable[[Agent], str],
    reviewed: ReviewedTree | None = None,
) -> Plan:
    from reviewbot.chunking import make_chunks
    from reviewbot.secrets import redact, secret_findings
    from reviewbot.standards import discover_standards, render_standards, standards_for_file
    from reviewbot.tokens import estimate_tokens

    reviewable, skipped = classify(diff, settings)
    local = tuple(secret_findings(diff)) + tuple(_secrets_in_paths(diff)) if settings.secret_scan else ()
    files, redactions = _redact_files(reviewable)
    files, path_aliases = _redact_paths(files)
    docs = discover_standards(source, [f.path for f in files], explicit=settings.standards)
    notes: list[str] = []
    rendered_standards: dict[tuple[str, ...], str] = {}  # chunks that share their documents share the text

    def standards_for(paths: Sequence[str]) -> str:
        seen, chosen = set(), []
        for p in paths:
            for doc in standards_for_file(docs, p):
                if doc.path not in seen:
                    seen.add(doc.path)
                    chosen.append(doc)
        which = tuple(doc.path for doc in chosen)
        if which not in rendered_standards:
            text, doc_notes = render_standards(chosen, max_chars=settings.max_standards_chars)
            for n in doc_notes:
                if n not in notes:
                    notes.append(n)
            rendered_standards[which] = redact(text)[0]
        return rendered_standards[which]

    render = remembering_renderer()
    context = _context_builder(reviewed, settings)
    all_standards = standards_for([f.path for f in files])
    instructions_table = sorted(settings.path_instructions.items())
    requests: list[PlannedRequest] = []
    for agent in agents:
        parts = PromptParts(agent_name=agent.name, persona=agent.persona, standards=all_standards)
        overhead = estimate_tokens(build_messages(parts, Chunk(files=()))[0]["content"]) + estimate_tokens(
            all_standards
        ) + estimate_tokens("\n".join(t for _, t in instructions_table)) + 200
        chunks, too_big = make_chunks(
            files,
            render=render,
            budget_tokens=settings.max_request_tokens,
            overhead_tokens=overhead,
            answer_tokens=settings.max_answer_tokens,
        )
        for s in too_big:
            if s not in skipped:
                skipped.append(s)
        model = model_for(agent)
        for chunk in chunks:
            chunk_parts = replace(
                parts,
                standards=standards_for(chunk.paths),
                instructions=instructions_for(chunk.paths, instructions_table),
            )
            messages = tuple(build_messages(chunk_parts, chunk, render))
            if context is not None:
                messages = _with_context(context, chunk_parts, chunk, messages, render, settings, agent.name)
            for sample in range(max(1, settings.samples)):
                requests.append(
                    PlannedRequest(agent.name, model, chunk, messages, settings.max_answer_tokens,
                                   seed=settings.seed + sample if settings.seed is not None else sample)
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
    )


def _context_builder(reviewed: ReviewedTree | None, settings: Settings):
    if reviewed is None or not settings.context or settings.context_budget <= 0:
        return None
    from reviewbot.context import ContextBuilder
    from reviewbot.secrets import is_sensitive_path
    from reviewbot.skip import glob_match

    def excluded(path: str) -> bool:
        return is_sensitive_path(path) or any(glob_match(g, path) for g in settings.exclude)

    return ContextBuilder(reviewed, share=settings.context_budget, max_request_tokens=settings.max_request_tokens,
                          excluded=excluded)


def _with_context(context, parts: PromptParts, chunk: Chunk, messages: tuple[dict, ...], render,
                  settings: Settings, agent: str) -> tuple[dict, ...]:
    """The chunk's messages with its context added, within what is left of the request budget."""
    from reviewbot.secrets import redact
    from reviewbot.tokens import estimate_tokens

    used = sum(estimate_tokens(m["content"]) for m in messages) + settings.max_answer_tokens + 100
    text = context.for_chunk(chunk, room_tokens=settings.max_request_tokens - used, agent=agent)
    if not text:
        return messages
    return tuple(build_messages(replace(parts, context=redact(text)[0]), chunk, render))


# -- execution -------------------------------------------------------------------------------------------

def model_endpoint(settings: Settings) -> str:
    """The endpoint a request goes to, as its cache key records it, without building a client.

    The same value as `ModelSettings.endpoint` of the models `run.make_model_factory` builds: settings.base_url
    (config has already put OPENAI_BASE_URL there), else the SDK's default URL.
    """
    from reviewbot.llm import ModelSettings

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

    def __init__(self, name: str, endpoint: str, factory: Callable[[str], ChatModel]) -> None:
        self.settings = _ModelIdentity(model=name, endpoint=endpoint)
        self._factory = factory
        self._model: ChatModel | None = None
        self._lock = threading.Lock()  # one ChatModel per model: it remembers which response format works

    def real(self) -> ChatModel:
        with self._lock:
            if self._model is None:
                self._model = self._factory(self.settings.model)
            return self._model

    def __getattr__(self, name: str):
        if name.startswith("_"):  # never build a client for (or recurse on) private or special lookups
            raise AttributeError(name)
        return getattr(self.real(), name)


def request_key(req: PlannedRequest, endpoint: str, settings: Settings) -> str:
    from reviewbot.cache import cache_key

    return cache_key(
        "review", PROTOCOL_VERSION, req.model, endpoint, str(req.seed), str(settings.temperature),
        json.dumps(req.messages, sort_keys=True, ensure_ascii=False),
    )


def _ask(model: ChatModel, req: PlannedRequest, cache: ResultCache | None, key: str, ask=None) -> _Outcome:
    """One planned request: from the cache, or from the model with one retry on an unreadable answer.
    `ask(model, messages, seed)` replaces the plain first request (the tool loop of reviewbot/tools.py)."""
    out = _Outcome()
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            try:
                parsed = parse_answer(json.loads(hit)["text"], agent=req.agent)
                out.findings, out.invalid, out.summary = list(parsed.findings), parsed.invalid, parsed.summary
                out.usage = Usage(cached=1)
                return out
            except (OutputParseError, ValueError, KeyError, TypeError):
                pass  # a stale or damaged entry: ask again
    messages = list(req.messages)
    completion = ask(model, messages, req.seed) if ask else model.complete(messages, seed=req.seed)
    out.usage = Usage(requests=1, tokens_in=completion.tokens_in, tokens_out=completion.tokens_out)
    text = completion.text
    try:
        parsed = parse_answer(text, agent=req.agent)
    except OutputParseError:
        # Tokens already spent stay counted even when the second answer fails too.
        try:
            again = model.complete(messages + retry_message(text), seed=req.seed)
        except ModelError as exc:
            out.error = str(exc)
            return out
        out.usage = out.usage + Usage(requests=1, tokens_in=again.tokens_in, tokens_out=again.tokens_out)
        text = again.text
        try:
            parsed = parse_answer(text, agent=req.agent)
        except OutputParseError as exc:
            out.error = f"{model.describe()} answered twice with no usable JSON ({exc})"
            return out
    if cache is not None:
        cache.put(key, json.dumps({"text": text}))
    out.findings, out.invalid, out.summary = list(parsed.findings), parsed.invalid, parsed.summary
    return out


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
    """`tools` (reviewbot.tools.ToolUse, optional) lets the named agents' models look around the repository."""
    requests = the_plan.requests
    aliases = dict(the_plan.path_aliases)
    # Cache first, model later: keys need only the endpoint, so no client exists until the first cache miss.
    endpoint = model_endpoint(settings)
    models: dict[str, ChatModel] = {}
    for req in requests:
        if req.model not in models:
            models[req.model] = _LazyModel(req.model, endpoint, model_factory)  # type: ignore[assignment]
    outcomes: list[_Outcome] = [None] * len(requests)  # type: ignore[list-item]

    def run(index: int) -> None:
        req = requests[index]
        model = models[req.model]
        key = request_key(req, endpoint, settings)
        ask = None
        if tools is not None and req.agent in tools.agents:
            key, ask = tools.key(key), tools.ask
        try:
            outcomes[index] = _ask(model, req, cache if settings.cache else None, key, ask)
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
    dropped: Counter = Counter()
    failed: dict[str, str] = {}
    summaries: list[str] = []
    by_chunk: dict[tuple[str, int], list[list[Finding]]] = {}
    chunk_drops: dict[tuple[str, int], list[Counter]] = {}
    chunk_ids: dict[int, int] = {}
    for req, out in zip(requests, outcomes):
        usage = usage + out.usage
        if out.error:
            for p in req.chunk.paths:
                failed.setdefault(p, out.error)
            continue
        if out.summary:
            summaries.append(out.summary)
        # Anchor and filter each answer before voting, so samples are compared on corrected lines.
        answered = [replace(f, path=aliases[f.path]) if f.path in aliases else f for f in out.findings]
        filtered = findings_mod.filter_findings(answered, the_plan.diff, settings.filter_mode)
        cid = chunk_ids.setdefault(id(req.chunk), len(chunk_ids))
        by_chunk.setdefault((req.agent, cid), []).append(list(filtered.kept))
        chunk_drops.setdefault((req.agent, cid), []).append(filtered.dropped + Counter(invalid=out.invalid))

    current: list[Finding] = []
    for key, samples in by_chunk.items():
        kept, lost = _vote(samples, settings.sample_share)
        dropped["outvoted"] += lost
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
    dropped["duplicate"] += dupes
    confident, low = findings_mod.apply_min_confidence(unique, settings.min_confidence)
    dropped["low-confidence"] += low
    notes: tuple[str, ...] = ()
    if settings.verify:
        # After every filter (nothing is verified that would be dropped anyway), before the budget (which
        # should choose among confirmed findings).
        checked = _verify(requests, confident, settings, models, cache if settings.cache else None)
        confident, usage, notes = checked.kept, usage + checked.usage, checked.notes
        dropped["rejected"] += checked.rejected
    shown, held = findings_mod.apply_budget(confident, settings.max_findings, settings.max_findings_per_file)

    if tools is not None:
        notes = tuple(notes) + tools.notes()
    reviewed = tuple(f.path for f in the_plan.reviewable if f.path not in failed)
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
        notes=notes,
    )


def _verify(requests: Sequence[PlannedRequest], found: Sequence[Finding], settings: Settings,
            models: dict[str, ChatModel], cache: ResultCache | None):
    from reviewbot.verify import ReviewedChunk, verify_findings

    chunks, seen = [], set()
    for req in requests:
        if (req.agent, id(req.chunk)) not in seen:  # samples of a chunk share one verification
            seen.add((req.agent, id(req.chunk)))
            chunks.append(ReviewedChunk(req.agent, req.model, req.chunk))
    return verify_findings(found, chunks, models=models, seed=settings.seed, temperature=settings.temperature,
                           cache=cache, concurrency=settings.concurrency)
