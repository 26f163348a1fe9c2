"""Planning a review: diff -> skip list -> redaction -> chunks -> prompts, as the requests to send.

`plan()` does all local work and sends nothing (it is also what --dry-run prints); `execute()`
(reviewbot/pipeline/execution.py) sends the planned requests, in parallel, through the cache. Neither prints
anything: the CLI owns the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reviewbot.core.models import Chunk, Coverage, Diff, FileDiff, Finding, FindingSource, Skipped
from reviewbot.pipeline.plan_records import Plan, PlannedRequest
from reviewbot.pipeline.prompt import PromptParts, build_messages, instructions_for, remembering_renderer

if TYPE_CHECKING:
    from reviewbot.adapters.repository_files import FileSource
    from reviewbot.adapters.reviewed_tree import ReviewedTree
    from reviewbot.config import Settings
    from reviewbot.pipeline.context import ContextBuilder
    from reviewbot.rules.agents import Agent
    from reviewbot.rules.standards import StandardsDoc


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

    return {p: "\n".join(text.splitlines()[:FIRST_LINES]) for p, text in content.read_heads(paths).items()}


def classify(diff: Diff, settings: Settings, content: FileSource | None = None) -> tuple[list[FileDiff], list[Skipped]]:
    """Split the diff into files to send and files skipped, each with its reason (never dropped silently).

    `content` is the reviewed side of the diff (a revision, the index or the work tree): when a file's first hunk
    does not start at line 1, its first lines are read from there, so a generated file's marker is seen whichever
    lines a change touches.
    """
    from reviewbot.secrets.sensitive_files import is_sensitive_path

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
    if need_head and content is not None:  # only filled when there is a content source
        # Files whose hunks do not show line 1: their first lines come from the reviewed side, all in one read.
        heads = _head_lines(content, [f.path for f in need_head])
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
    from reviewbot.secrets.local_findings import secret_phrase
    from reviewbot.secrets.scanning import find_secrets

    found = []
    for f in diff.files:
        if f.status == "deleted":
            continue
        hits = find_secrets(f.path)
        if hits:
            found.append(Finding(
                path=f.path, line=min(f.added_lines, default=1), severity=Severity.ERROR, category="secrets",
                message=(f"{secret_phrase(diff)} ({hits[0].kind}) in the file name: "
                         "rename the file and revoke the secret."),
                agent="reviewbot", source=FindingSource.SECRETS,
            ))
    return found


def _redact_paths(files: Sequence[FileDiff]) -> tuple[list[FileDiff], dict[str, str]]:
    """Files whose names hold a secret get a redacted name in the prompt; the map leads answers back to the file."""
    from reviewbot.secrets.redaction import redact

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
    from reviewbot.secrets.redaction import redact_file_diff

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

    def make() -> Plan:
        return _make_plan(diff, settings, agents=agents, source=source, model_for=model_for, content=content,
                          reviewed=reviewed)

    if not settings.cache:
        return make()
    from reviewbot.adapters.result_cache import ResultCache, cache_key
    from reviewbot.pipeline import plan_cache as plancache

    key = plancache.plan_key(diff, settings, agents=agents, source=source, model_for=model_for)
    if key is None:
        return make()
    if reviewed is not None:
        key = cache_key(key, reviewed.stamp())  # context reads any file of the reviewed revision
    with ResultCache() as cache:
        stored = plancache.load(cache, key, diff)
        if stored is not None:
            return stored
        fresh = make()
        plancache.store(cache, key, fresh)
        return fresh


class _Standards:
    """The repository's standards documents for this diff, each selection rendered (and redacted) once: chunks that
    share their documents share the text. What rendering has to say (a document cut to fit) goes to `notes`."""

    def __init__(self, docs: Sequence[StandardsDoc], notes: list[str]) -> None:
        self.docs = docs
        self.notes = notes
        self._rendered: dict[tuple[tuple[str, ...], int], str] = {}

    def docs_for(self, paths: Sequence[str]) -> list[StandardsDoc]:
        """The documents that apply to any of `paths`, nearest first, each once."""
        from reviewbot.rules.standards import standards_for_file

        seen, chosen = set(), []
        for p in paths:
            for doc in standards_for_file(self.docs, p):
                if doc.path not in seen:
                    seen.add(doc.path)
                    chosen.append(doc)
        return chosen

    def rendered(self, chosen: Sequence[StandardsDoc], max_chars: int) -> str:
        from reviewbot.rules.standards import render_standards
        from reviewbot.secrets.redaction import redact

        which = (tuple(doc.path for doc in chosen), max_chars)
        if which not in self._rendered:
            text, doc_notes = render_standards(chosen, max_chars=max_chars)
            for n in doc_notes:
                if n not in self.notes:
                    self.notes.append(n)
            self._rendered[which] = redact(text)[0]
        return self._rendered[which]


@dataclass(frozen=True)
class _AgentInputs:
    """What every agent's requests are built from: the redacted files and the repository's say about them."""

    files: Sequence[FileDiff]
    render: Callable[[FileDiff], str]  # one renderer per plan: a file is rendered once for sizing and for sending
    context: ContextBuilder | None
    standards: _Standards
    all_standards: str  # every document that applies to some file, rendered: what sizes a request's overhead
    instructions_table: Sequence[tuple[str, str]]  # (glob, text) path instructions, redacted
    settings: Settings


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
    from reviewbot.rules.standards import discover_standards
    from reviewbot.secrets.local_findings import secret_findings
    from reviewbot.secrets.redaction import redact

    reviewable, skipped = classify(diff, settings, content)
    local = tuple(secret_findings(diff)) + tuple(_secrets_in_paths(diff)) if settings.secret_scan else ()
    files, redactions = _redact_files(reviewable)
    files, path_aliases = _redact_paths(files)
    notes: list[str] = []
    standards = _Standards(
        discover_standards(source, [f.path for f in files], explicit=settings.standards, problems=notes), notes)
    context = _context_builder(reviewed, settings)
    if context is not None and reviewed is not None:
        reviewed.prefetch(f.path for f in reviewable)  # every changed file is read for its context
    inputs = _AgentInputs(
        files=files, render=remembering_renderer(), context=context, standards=standards,
        all_standards=standards.rendered(standards.docs_for([f.path for f in files]), settings.max_standards_chars),
        # Everything that leaves the machine is redacted the same way: diff, names, standards, and also path
        # instructions and agent personas (a repository's own files, which may hold tokens too).
        instructions_table=sorted((redact(glob)[0], redact(text)[0])
                                  for glob, text in settings.path_instructions.items()),
        settings=settings,
    )
    requests: list[PlannedRequest] = []
    sent_by_agent: list[dict[str, set[int]]] = []
    for agent in agents:
        agent_requests, too_big, sent = _agent_requests(agent, model_for(agent), inputs)
        requests += agent_requests
        for s in too_big:
            if s not in skipped:
                skipped.append(s)
        sent_by_agent.append(sent)
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


def _agent_requests(agent: Agent, model: str, inputs: _AgentInputs
                    ) -> tuple[list[PlannedRequest], list[Skipped], dict[str, set[int]]]:
    """One agent's requests (its chunks of the files, each with the standards, instructions and context that apply,
    once per sample), the files too large for any request, and the added lines its chunks show whole."""
    from reviewbot.pipeline.budget import request_budget
    from reviewbot.pipeline.chunking import make_chunks
    from reviewbot.pipeline.tokens import estimate_tokens
    from reviewbot.secrets.redaction import redact

    settings = inputs.settings
    parts = PromptParts(agent_name=redact(agent.name)[0], persona=redact(agent.persona)[0],
                        standards=inputs.all_standards)
    overhead = estimate_tokens(build_messages(parts, Chunk(files=()))[0]["content"]) + estimate_tokens(
        inputs.all_standards
    ) + estimate_tokens("\n".join(t for _, t in inputs.instructions_table)) + 200
    budget = request_budget(settings, model)
    chunks, too_big = make_chunks(inputs.files, render=inputs.render, budget_tokens=budget, overhead_tokens=overhead,
                                  answer_tokens=settings.max_answer_tokens)
    requests: list[PlannedRequest] = []
    prefixes = _stable_prefix_parts(parts, chunks, inputs.standards, inputs.instructions_table,
                                    settings.max_standards_chars)
    for chunk, chunk_parts in zip(chunks, prefixes):
        messages = tuple(build_messages(chunk_parts, chunk, inputs.render))
        if inputs.context is not None:
            messages = _with_context(inputs.context, chunk_parts, chunk, messages, inputs.render, settings,
                                     agent.name, budget)
        for sample in range(max(1, settings.samples)):
            requests.append(
                PlannedRequest(agent.name, model, chunk, messages, settings.max_answer_tokens,
                               seed=settings.seed + sample if settings.seed is not None else sample,
                               parts=chunk_parts)
            )
    return requests, list(too_big), _lines_sent(chunks, inputs.files)


def _lines_sent(chunks: Sequence[Chunk], files: Sequence[FileDiff]) -> dict[str, set[int]]:
    """path -> the added lines some chunk shows whole (a line cut to fit the budget is not counted as sent)."""
    by_path = {f.path: f for f in files}
    sent: dict[str, set[int]] = {}
    for chunk in chunks:
        for piece in chunk.files:
            whole = by_path[piece.path].index.text
            got = sent.setdefault(piece.path, set())
            for hunk in piece.hunks:
                got.update(ln.new_no for ln in hunk.lines if ln.kind == "+" and ln.new_no is not None
                           and whole.get(ln.new_no) == ln.text)
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


def _stable_prefix_parts(parts: PromptParts, chunks: Sequence[Chunk], standards: _Standards,
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
    chunk_docs = [standards.docs_for(c.paths) for c in chunks]
    everywhere = set.intersection(*({d.path for d in cd} for cd in chunk_docs))
    shared_docs = [d for d in chunk_docs[0] if d.path in everywhere]
    shared_text = standards.rendered(shared_docs, max_chars)
    chunk_instructions = [instructions_for(c.paths, instructions_table) for c in chunks]
    shared_instructions = tuple(i for i in chunk_instructions[0] if all(i in other for other in chunk_instructions))
    shared = replace(parts, standards=shared_text, instructions=shared_instructions)
    out = []
    for cd, ci in zip(chunk_docs, chunk_instructions):
        extra = [d for d in cd if d.path not in everywhere]
        out.append(replace(
            shared,
            chunk_standards=standards.rendered(extra, max(0, max_chars - len(shared_text))) if extra else "",
            chunk_instructions=tuple(i for i in ci if i not in shared_instructions),
        ))
    return out


def _context_builder(reviewed: ReviewedTree | None, settings: Settings) -> ContextBuilder | None:
    if reviewed is None or not settings.context or settings.context_budget <= 0:
        return None
    from reviewbot.pipeline.context import ContextBuilder
    from reviewbot.pipeline.skip import glob_match
    from reviewbot.secrets.sensitive_files import is_sensitive_path

    def excluded(path: str) -> bool:
        return is_sensitive_path(path) or any(glob_match(g, path) for g in settings.exclude)

    return ContextBuilder(reviewed, share=settings.context_budget, max_request_tokens=settings.max_request_tokens,
                          excluded=excluded)


def _with_context(context: ContextBuilder, parts: PromptParts, chunk: Chunk, messages: tuple[dict[str, str], ...],
                  render: Callable[[FileDiff], str],
                  settings: Settings, agent: str, budget_tokens: int) -> tuple[dict[str, str], ...]:
    """The chunk's messages with its context added, within what is left of the request budget."""
    from reviewbot.pipeline.tokens import estimate_tokens
    from reviewbot.secrets.redaction import redact

    estimates = [estimate_tokens(m["content"]) for m in messages]
    used = sum(estimates) + settings.max_answer_tokens + 100
    text = context.for_chunk(chunk, room_tokens=budget_tokens - used, agent=agent)
    lines = redact(text)[0].splitlines() if text else []
    while lines:
        with_context = tuple(build_messages(replace(parts, context="\n".join(lines)), chunk, render))
        size = settings.max_answer_tokens + sum(  # only the message that gained the context is estimated again
            known if m["content"] == old["content"] else estimate_tokens(m["content"])
            for m, old, known in zip(with_context, messages, estimates))
        if size <= budget_tokens:
            return with_context
        # The context's own estimate missed its fence and labels: cut its last lines until the request fits.
        del lines[-max(1, len(lines) // 10):]
    return messages


