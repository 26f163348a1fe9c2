"""The application layer shared by `diff`, `hook`, `ci`, `baseline` and `eval`: settings, diff, plan, review.

It returns data and exit codes; printing belongs to the CLI (except through the `Console` it is handed).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from reviewbot.config import Settings, key_for_endpoint, load_settings
from reviewbot.errors import EXIT_FINDINGS, EXIT_OK, EXIT_REVIEW_FAILED, ConfigError, ReviewbotError
from reviewbot.gitio import DiffSpec, Repository, worktree_source
from reviewbot.models import Diff, ReviewResult
from reviewbot.sources import FileSource


@dataclass
class Console:
    """Where the CLI's words go; tests and the CLI share it."""

    out: Callable[[str], None] = field(default=lambda s: sys.stdout.write(s))
    err: Callable[[str], None] = field(default=lambda s: sys.stderr.write(s))
    err_is_tty: bool = False
    verbose: bool = False  # -v: show every tool call the model makes

    def warn(self, message: str) -> None:
        self.err(f"reviewbot: warning: {message}\n")


@dataclass
class Context:
    repo: Repository
    source: FileSource  # where config, agents and standards are read from
    settings: Settings
    reviewed: Any = None  # reviewbot.reviewed.ReviewedTree of the last diff collected: what context is read from


def prepare(
    cli: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    command_defaults: Mapping[str, Any] | None = None,
    rules_revision: str | None = None,
    console: Console | None = None,
) -> Context:
    from reviewbot.gitio import RevisionSource

    repo = Repository(cwd)
    source: FileSource = RevisionSource(repo, rules_revision) if rules_revision else worktree_source(repo)
    settings = load_settings(repo_source=source, cli=cli, command_defaults=command_defaults)
    if console:
        for w in settings.warnings:
            console.warn(w)
    return Context(repo=repo, source=source, settings=settings)


def collect_diff(ctx: Context, spec: DiffSpec) -> Diff:
    from reviewbot.diffparse import parse_diff
    from reviewbot.reviewed import ReviewedTree, reviewed_where

    raw = ctx.repo.diff(spec, context_lines=ctx.settings.context_lines)
    ctx.reviewed = ReviewedTree(ctx.repo, reviewed_where(ctx.repo, spec))
    return Diff(files=parse_diff(raw), description=spec.description)


def available_agents(ctx: Context, console: Console | None = None):
    from reviewbot.agents import discover_agents, user_agents_dir

    user_dir = user_agents_dir()
    problems: list[str] = []
    found = discover_agents(ctx.source, user_dir if user_dir.is_dir() else None, problems=problems)
    if console:
        for p in problems:
            console.warn(p)
    return found


def load_agents(ctx: Context, refs: Sequence[str] | None = None, console: Console | None = None):
    from reviewbot.agents import resolve_agent

    available = available_agents(ctx, console)
    chosen, seen = [], set()
    for ref in refs or ctx.settings.agent_refs:
        agent = resolve_agent(ref, available, cwd=Path.cwd(), source=ctx.source, repo_root=ctx.repo.root)
        if agent.name not in seen:
            seen.add(agent.name)
            chosen.append(agent)
    return chosen


def model_for_agent(settings: Settings):
    from reviewbot.agents import resolve_model_alias

    def choose(agent) -> str:
        if settings.origins.get("model") == "command line" or not agent.model:
            return settings.model or ""
        return resolve_model_alias(agent.model, settings.model_aliases) or settings.model or ""

    return choose


NO_MODEL = (
    "no model configured: set REVIEWBOT_MODEL (or --model, or model in .reviewbot.toml) and OPENAI_API_KEY for "
    "OpenAI, or point --base-url / OPENAI_BASE_URL at a local server such as http://localhost:11434/v1"
)


def make_model_factory(settings: Settings, console: Console | None = None):
    from reviewbot.llm import ChatModel, ModelSettings
    from reviewbot.prompt import ANSWER_SCHEMA

    api_key = key_for_endpoint(settings)
    base_url = settings.base_url
    if settings.api_key and not api_key and console:
        console.warn(f"your API key is not sent to {base_url}, which the repository's config chose; "
                     "add its host to trusted_hosts in your own config if it needs the key")
    if not api_key and not base_url:
        raise ConfigError("no API key: set OPENAI_API_KEY, or point --base-url at a server that needs none")

    def factory(model: str) -> ChatModel:
        return ChatModel(
            ModelSettings(
                model=model,
                base_url=base_url,
                api_key=api_key,
                timeout=settings.timeout,
                max_retries=settings.retries,
                temperature=settings.temperature,
                seed=settings.seed,
                max_answer_tokens=settings.max_answer_tokens,
            ),
            use_schema=ANSWER_SCHEMA,
        )

    return factory


def open_cache(settings: Settings, console: Console | None = None):
    if not settings.cache:
        return None
    from reviewbot.cache import ResultCache

    cache = ResultCache()
    if console and cache.problem:
        console.warn(cache.problem)  # the cache was reset or switched off; the review goes on without it
    return cache


class Progress:
    """A one-line counter on stderr, shown only on a terminal and only once a review takes over a second."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total, self.start, self.shown = console, total, time.monotonic(), False

    def __call__(self, done: int, total: int) -> None:
        if not self.console.err_is_tty or time.monotonic() - self.start < 1.0:
            return
        self.shown = True
        self.console.err(f"\rreviewbot: {done}/{total} requests")

    def close(self) -> None:
        if self.shown:
            self.console.err("\r\033[K")


@dataclass
class RunOutcome:
    result: ReviewResult | None
    exit_code: int
    plan: Any = None


def review_diff(
    ctx: Context,
    diff: Diff,
    *,
    console: Console,
    dry_run: bool = False,
    agent_refs: Sequence[str] | None = None,
    extra_filters: Sequence = (),
) -> RunOutcome:
    """Plan and (unless dry_run) execute a review of `diff`; no output except warnings and dry-run text."""
    from reviewbot import review

    settings = ctx.settings
    if not diff.files:
        return RunOutcome(ReviewResult(findings=(), description=diff.description), EXIT_OK)
    agents = load_agents(ctx, agent_refs, console)
    the_plan = review.plan(diff, settings, agents=agents, source=ctx.source, model_for=model_for_agent(settings),
                           reviewed=ctx.reviewed)
    if dry_run:
        console.out(render_dry_run(the_plan))
        return RunOutcome(None, EXIT_OK, plan=the_plan)
    if the_plan.requests and not all(r.model for r in the_plan.requests):
        raise ConfigError(NO_MODEL)
    factory = make_model_factory(settings, console) if the_plan.requests else (lambda m: None)
    progress = Progress(console, len(the_plan.requests))
    try:
        result = review.execute(
            the_plan, settings, model_factory=factory, cache=open_cache(settings, console), progress=progress,
            extra_filters=extra_filters, tools=_tool_use(ctx, agents, console),
        )
    finally:
        progress.close()
    for note in tuple(the_plan.notes) + tuple(getattr(result, "notes", ())):
        console.warn(note)
    return RunOutcome(result, EXIT_OK, plan=the_plan)


def _tool_use(ctx: Context, agents, console: Console):
    """Tool look-ups for the agents that may use them (--tools, or read-only tools in an agent's front matter)."""
    from reviewbot.tools import agents_with_tools

    chosen = agents_with_tools(agents, ctx.settings)
    if not chosen or ctx.reviewed is None:
        return None
    from reviewbot.secrets import is_sensitive_path
    from reviewbot.tools import ToolBox, ToolUse

    show = (lambda line: console.err(f"reviewbot: {line}\n")) if console.verbose else None
    return ToolUse(ToolBox(ctx.reviewed, excluded=is_sensitive_path), chosen, show)


def exit_code_for(result: ReviewResult, settings: Settings, console: Console) -> int:
    from reviewbot.findings import is_blocking

    fail_on = settings.fail_on_severity
    blocking = any(is_blocking(f, fail_on) for f in result.all_findings)
    if result.failed:
        from reviewbot.reporters.base import one_line  # file names and server text are untrusted

        files = ", ".join(one_line(s.path) for s in result.failed[:5]) + (" ..." if len(result.failed) > 5 else "")
        reason = one_line(result.failed[0].reason)
        if settings.on_error == "fail" and not blocking:
            console.err(f"reviewbot: error: the review could not complete: {reason} (not reviewed: {files})\n")
            return EXIT_REVIEW_FAILED
        console.warn(f"the review did not happen for {len(result.failed)} file(s) ({files}): {reason}")
    return EXIT_FINDINGS if blocking else EXIT_OK


def render_dry_run(the_plan) -> str:
    out = []
    total = len(the_plan.requests)
    if not total:
        out.append("# no request would be sent (nothing to review)\n")
    for i, req in enumerate(the_plan.requests, 1):
        out.append(
            f"=== request {i}/{total}: agent {req.agent}, model {req.model or '(not configured)'}, "
            f"files {', '.join(req.chunk.paths)}, ~{req.estimated_tokens} tokens ===\n"
        )
        for m in req.messages:
            out.append(f"--- {m['role']} ---\n{m['content']}\n")
    for s in the_plan.skipped:
        out.append(f"# skipped {s.path}: {s.reason}\n")
    for f in the_plan.local_findings:
        out.append(f"# local finding {f.path}:{f.line}: {f.severity.label}: {f.message}\n")
    if the_plan.redactions:
        out.append(f"# {the_plan.redactions} secret(s) redacted before sending\n")
    est = sum(r.estimated_tokens for r in the_plan.requests)
    out.append(f"# {total} request(s), ~{est} tokens in total (estimated); nothing was sent\n")
    return "".join(out)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


__all__ = [
    "Console", "Context", "ReviewbotError", "RunOutcome", "collect_diff", "exit_code_for", "prepare", "review_diff",
]
