"""The application layer shared by `diff`, `hook`, `ci`, `baseline` and `eval`: settings, diff, plan, review.

It returns data and exit codes; printing belongs to the CLI (except through the `Console` it is handed).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reviewbot.adapters.git import DiffSpec, Repository
from reviewbot.adapters.repository_files import FileSource
from reviewbot.config import Settings, key_for_endpoint, load_settings
from reviewbot.core.errors import EXIT_FINDINGS, EXIT_OK, EXIT_REVIEW_FAILED, ConfigError, ReviewbotError, SetupError
from reviewbot.core.models import Diff, ReviewedSide, ReviewResult

if TYPE_CHECKING:
    from reviewbot.adapters.model_client import ChatModel
    from reviewbot.adapters.result_cache import ResultCache
    from reviewbot.adapters.reviewed_side import SideListing
    from reviewbot.adapters.reviewed_tree import ReviewedTree
    from reviewbot.pipeline.model_tools import ToolUse
    from reviewbot.pipeline.plan_records import Plan
    from reviewbot.rules.agents import Agent
    from reviewbot.rules.suppressions import Filter


@dataclass
class Console:
    """Where the CLI's words go; tests and the CLI share it."""

    out: Callable[[str], object] = field(default=lambda s: sys.stdout.write(s))
    err: Callable[[str], object] = field(default=lambda s: sys.stderr.write(s))
    err_is_tty: bool = False
    github: bool = False  # on GitHub Actions warnings become `::warning::` workflow commands (annotations)
    verbose: bool = False  # -v: show every tool call the model makes

    def warn(self, message: str) -> None:
        from reviewbot.reporters.base import one_line, sanitize_terminal  # warnings quote repository text

        if self.github:
            from reviewbot.reporters.github import escape_data

            self.err(f"::warning::{escape_data('reviewbot: ' + sanitize_terminal(message))}\n")
            return
        self.err(f"reviewbot: warning: {one_line(message)}\n")


@dataclass
class Context:
    repo: Repository | None  # None only for commands that also work outside a repository (agents, config)
    source: FileSource | None  # where config, agents and standards are read from
    settings: Settings
    content: FileSource | None = None  # the reviewed side of the last collected diff (file heads for skip checks)
    reviewed: ReviewedTree | None = None  # the same side as context and tools see it
    listings: dict[ReviewedSide, SideListing] = field(default_factory=dict)  # each side is listed once per run

    def listing(self, side: ReviewedSide) -> SideListing:
        """The one listing of `side` this run shares among everything that reads it."""
        from reviewbot.adapters.reviewed_side import SideListing

        if side not in self.listings:
            self.listings[side] = SideListing(cast("Repository", self.repo), side)
        return self.listings[side]


def prepare(
    cli: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    command_defaults: Mapping[str, Any] | None = None,
    rules_side: ReviewedSide | None = None,
    console: Console | None = None,
    require_repo: bool = True,
) -> Context:
    """Settings for one command. `rules_side` is where config, agents and standards are read from (the side under
    review, or for `ci` the target branch's tip); None reads them from the work tree."""
    from reviewbot.adapters.repository_files import warn_once
    from reviewbot.adapters.reviewed_side import SideListing, side_files
    from reviewbot.core.errors import GitError

    try:
        repo: Repository | None = Repository(cwd)
    except GitError:
        if require_repo:
            raise
        repo = None  # outside a repository: the user's own settings and agents still apply
    # A file the repository may not make us read (a link out of it, a FIFO, `standards = ["/etc/passwd"]`) stops
    # diff, ci and baseline (exit 2); the hook, and listing commands, warn and go on without it.
    strict = (command_defaults or {}).get("on_error") == "fail"
    on_refusal = None if strict else warn_once(console.warn if console else (lambda message: None))
    source: FileSource | None = None
    listings: dict[ReviewedSide, SideListing] = {}
    if repo is not None:
        side = rules_side or ReviewedSide.worktree()
        listings[side] = SideListing(repo, side)  # shared with the diff's readers when it is their side too
        source = side_files(listings[side], on_refusal=on_refusal)
    settings = load_settings(repo_source=source, cli=cli, command_defaults=command_defaults)
    if console:
        for w in settings.warnings:
            console.warn(w)
    return Context(repo=repo, source=source, settings=settings, listings=listings)


def collect_diff(ctx: Context, spec: DiffSpec) -> Diff:
    from reviewbot.adapters.diff_parser import parse_diff
    from reviewbot.adapters.reviewed_side import side_files
    from reviewbot.adapters.reviewed_tree import ReviewedTree

    repo = cast("Repository", ctx.repo)  # a diff is collected only inside a repository (prepare(require_repo=True))
    listing = ctx.listing(spec.reviewed_side)  # an unknown revision is named as such before git diff fails on it
    raw = repo.diff(spec, context_lines=ctx.settings.context_lines)
    # A changed file that may not be read (a link out, a FIFO) is simply not read here: the diff itself shows what
    # changed, and the rules' own refusals are reported by the rules source.
    ctx.content = side_files(listing, on_refusal=lambda err: None)
    ctx.reviewed = ReviewedTree(listing)
    return Diff(files=parse_diff(raw), description=spec.description)


def available_agents(ctx: Context, console: Console | None = None) -> dict[str, Agent]:
    from reviewbot.rules.agents import discover_agents, user_agents_dir

    user_dir = user_agents_dir()
    problems: list[str] = []
    found = discover_agents(ctx.source, user_dir if user_dir.is_dir() else None, problems=problems)
    if console:
        for p in problems:
            console.warn(p)
    return found


def load_agents(ctx: Context, refs: Sequence[str] | None = None, console: Console | None = None) -> list[Agent]:
    from reviewbot.rules.agents import resolve_agent

    available = available_agents(ctx, console)
    chosen: list[Agent] = []
    seen: set[str] = set()
    # An agent path the repository's config names must stay inside the repository; the user's may be anywhere.
    origin = ctx.settings.origins.get("agents" if ctx.settings.values.get("agents") else "agent", "")
    from_repo = refs is None and origin.startswith("repository")
    for ref in refs or ctx.settings.agent_refs:
        agent = resolve_agent(ref, available, cwd=Path.cwd(), source=ctx.source,
                              repo_root=ctx.repo.root if ctx.repo else Path.cwd(), outside_allowed=not from_repo)
        if agent.name not in seen:
            seen.add(agent.name)
            chosen.append(agent)
    return chosen


def model_for_agent(settings: Settings) -> Callable[[Agent], str]:
    from reviewbot.rules.agents import resolve_model_alias

    model_origin = settings.origins.get("model", "default")
    user_model = model_origin != "default" and not model_origin.startswith("repository")
    user_aliases = not settings.origins.get("model_aliases", "default").startswith("repository")

    def choose(agent: Agent) -> str:
        if model_origin == "command line" or not agent.model:
            return settings.model or ""
        if user_model and agent.origin in ("repository", "path"):
            # The repository's agent may not swap the model the user chose (it decides where money goes), unless
            # the user's own model_aliases map what it asks for.
            mapped = resolve_model_alias(agent.model, settings.model_aliases) if user_aliases else None
            return (mapped if mapped and mapped != agent.model.strip() else None) or settings.model or ""
        return resolve_model_alias(agent.model, settings.model_aliases) or settings.model or ""

    return choose


NO_MODEL = (
    "no model configured: set REVIEWBOT_MODEL (or --model, or model in .reviewbot.toml) and OPENAI_API_KEY for "
    "OpenAI, or point --base-url / OPENAI_BASE_URL at a local server such as http://localhost:11434/v1"
)


NO_KEY = "no API key: set OPENAI_API_KEY, or point --base-url at a server that needs none"


def endpoint_key(settings: Settings) -> str | None:
    """The key to send, or SetupError when this machine cannot ask the configured endpoint at all."""
    try:
        api_key = key_for_endpoint(settings)
    except SetupError:
        raise
    except ConfigError as exc:  # an endpoint from the repository's config that the user has not trusted
        raise SetupError(str(exc)) from None
    if not api_key and not settings.base_url:
        raise SetupError(NO_KEY)
    return api_key


@dataclass(frozen=True)
class Setup:
    """What `check_setup` found: the agents to run, and the reason no model can be asked (None: all set)."""

    agents: tuple[Agent, ...]
    problem: SetupError | None = None


def check_setup(ctx: Context, refs: Sequence[str] | None = None, console: Console | None = None) -> Setup:
    """Validate the settings before anything is collected: agents resolve (ConfigError otherwise), every agent has
    a model, and the endpoint can be asked with the key this machine has. Needs no network."""
    agents = tuple(load_agents(ctx, refs, console))
    choose = model_for_agent(ctx.settings)
    problem: SetupError | None = None
    if not all(choose(agent) for agent in agents):
        problem = SetupError(NO_MODEL)
    else:
        try:
            endpoint_key(ctx.settings)
        except SetupError as exc:
            problem = exc
    return Setup(agents=agents, problem=problem)


def make_model_factory(settings: Settings, console: Console | None = None) -> Callable[[str], ChatModel]:
    from reviewbot.adapters.model_client import ChatModel, ModelSettings
    from reviewbot.adapters.response_format import FormatLadder
    from reviewbot.pipeline.prompt import ANSWER_SCHEMA

    api_key = endpoint_key(settings)
    base_url = settings.base_url
    if settings.api_key and not api_key and console:
        shown_url = ModelSettings(model="", base_url=base_url).endpoint
        if settings.origins.get("base_url", "").startswith("repository"):
            console.warn(f"your API key is not sent to {shown_url}, which the repository's config chose; "
                         "add its host to trusted_hosts in your own config if it needs the key")
        else:
            console.warn(f"your API key is not sent to {shown_url} over plain HTTP; use https://, or add its host "
                         "to trusted_hosts in your own config if it needs the key")
    ladder = FormatLadder(settings.response_format)  # every model of the run talks to the same endpoint

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
                response_format=settings.response_format,
            ),
            use_schema=ANSWER_SCHEMA,
            ladder=ladder,
        )

    return factory


def open_cache(settings: Settings, console: Console | None = None) -> ResultCache | None:
    if not settings.cache:
        return None
    from reviewbot.adapters.result_cache import ResultCache

    cache = ResultCache()
    if console and cache.problem:
        console.warn(cache.problem)  # the cache was reset or switched off; the review goes on without it
    return cache


class Progress:
    """A one-line ticker on stderr while requests run: done, in flight, elapsed. Only on a terminal.

    Its own thread redraws the line every TICK seconds from FIRST_DRAW on, so a single slow request shows that
    something is happening. Requests in flight are the executor's busy workers: min(concurrency, not done yet).
    Dim text unless NO_COLOR is set (or TERM=dumb); cleared when the review ends.
    """

    FIRST_DRAW = 0.3  # seconds; a review that is over by then shows nothing
    TICK = 0.2

    def __init__(self, console: Console, total: int, concurrency: int = 1) -> None:
        self.console, self.total = console, total
        self.workers = max(1, min(concurrency, total)) if total else 1
        self.done, self.start, self.shown = 0, time.monotonic(), 0
        self.enabled = console.err_is_tty and total > 0
        self.plain = "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="reviewbot-progress", daemon=True)
            self._thread.start()

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            self.done, self.total = done, total

    def line(self) -> str:
        with self._lock:
            done, total = self.done, self.total
        in_flight = min(self.workers, total - done)
        elapsed = time.monotonic() - self.start
        return f"reviewbot: {done}/{total} requests done, {in_flight} in flight, {elapsed:.1f} s"

    def _draw(self) -> None:
        text = self.line()
        pad = " " * max(0, self.shown - len(text))
        self.console.err(f"\r{text}{pad}" if self.plain else f"\r\033[2m{text}\033[0m\033[K")
        self.shown = max(self.shown, len(text))

    def _run(self) -> None:
        if self._stop.wait(self.FIRST_DRAW):
            return
        while True:
            self._draw()
            if self._stop.wait(self.TICK):
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.shown:
            self.console.err("\r" + " " * self.shown + "\r" if self.plain else "\r\033[K")


@dataclass
class RunOutcome:
    result: ReviewResult | None
    exit_code: int
    plan: Plan | None = None


def review_diff(
    ctx: Context,
    diff: Diff,
    *,
    console: Console,
    dry_run: bool = False,
    agent_refs: Sequence[str] | None = None,
    extra_filters: Sequence[Filter] = (),
    agents: Sequence[Agent] | None = None,
    skip_reason: str | None = None,
) -> RunOutcome:
    """Plan and (unless dry_run) execute a review of `diff`; no output except warnings and dry-run text.

    With `skip_reason` no model is asked: only the local checks (secrets) run, and every file that needed the
    model is reported as not reviewed, for that reason."""
    from dataclasses import replace

    from reviewbot.core.models import Skipped
    from reviewbot.pipeline import execution, planning

    settings = ctx.settings
    if not diff.files:
        from reviewbot.core.models import Coverage

        nothing = Coverage(files_changed=0, files_sent=0, added_total=0, added_reviewable=0, added_sent=0)
        return RunOutcome(ReviewResult(findings=(), description=diff.description, coverage=nothing), EXIT_OK)
    if agents is None:
        agents = load_agents(ctx, agent_refs, console)
    source = cast("FileSource", ctx.source)  # a review runs inside a repository: prepare() set the rules source
    the_plan = planning.plan(diff, settings, agents=list(agents), source=source,
                           model_for=model_for_agent(settings), content=ctx.content, reviewed=ctx.reviewed)
    if dry_run:
        from reviewbot.reporters.base import sanitize_terminal

        console.out(sanitize_terminal(render_dry_run(the_plan)))
        return RunOutcome(None, EXIT_OK, plan=the_plan)
    if skip_reason is not None:
        asked = {p for r in the_plan.requests for p in r.chunk.paths}
        local = execution.execute(replace(the_plan, requests=()), settings, model_factory=_no_model_asked,
                                  cache=None, extra_filters=extra_filters)
        not_reviewed = tuple(Skipped(p, skip_reason) for p in sorted(asked))
        result = replace(local, files_reviewed=tuple(p for p in local.files_reviewed if p not in asked),
                         failed=not_reviewed)
        return RunOutcome(result, EXIT_OK, plan=the_plan)
    check_request_budget(the_plan, settings)
    if the_plan.requests and not all(r.model for r in the_plan.requests):
        raise SetupError(NO_MODEL)
    factory = make_model_factory(settings, console) if the_plan.requests else _no_model_asked
    progress = Progress(console, len(the_plan.requests), settings.concurrency)
    try:
        result = execution.execute(
            the_plan, settings, model_factory=factory, cache=open_cache(settings, console), progress=progress,
            extra_filters=extra_filters, tools=_tool_use(ctx, agents, console),
        )
    finally:
        progress.close()
    for note in tuple(the_plan.notes) + tuple(getattr(result, "notes", ())):
        console.warn(note)
    return RunOutcome(result, EXIT_OK, plan=the_plan)


def _no_model_asked(name: str) -> ChatModel:
    """The model factory of a run with no request to send: execute() builds a client only for a request."""
    raise SetupError(f"no request was planned, yet model '{name}' was asked for")


def check_request_budget(the_plan: Plan, settings: Settings) -> None:
    """ConfigError (exit 2) before anything is sent when the plan needs more requests than max_requests allows
    (verification adds up to one request per reviewed chunk)."""
    planned = len(the_plan.requests)
    if settings.values.get("verify"):
        planned += len({(r.agent, id(r.chunk)) for r in the_plan.requests})
    budget = settings.values.get("max_requests")
    if budget is not None and planned > budget:
        where = settings.origins.get("max_requests", "default")
        raise ConfigError(f"this review needs {planned} requests, more than max_requests = {budget} ({where}); review "
                          f"fewer files (-- PATHS), or raise it with REVIEWBOT_MAX_REQUESTS or in your own config")


def _tool_use(ctx: Context, agents: Sequence[Agent], console: Console) -> ToolUse | None:
    """Tool look-ups for the agents that may use them (--tools, or read-only tools in an agent's front matter)."""
    from reviewbot.pipeline.model_tools import agents_with_tools

    chosen = agents_with_tools(agents, ctx.settings)
    if not chosen or ctx.reviewed is None:
        return None
    from reviewbot.pipeline.model_tools import ToolBox, ToolUse
    from reviewbot.secrets.sensitive_files import is_sensitive_path

    def show(line: str) -> None:
        console.err(f"reviewbot: {line}\n")

    return ToolUse(ToolBox(ctx.reviewed, excluded=is_sensitive_path), chosen, show if console.verbose else None)


def exit_code_for(result: ReviewResult, settings: Settings, console: Console) -> int:
    from reviewbot.core.blocking import is_blocking

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


def render_dry_run(the_plan: Plan) -> str:
    out: list[str] = []
    total = len(the_plan.requests)
    if not total:
        out.append("# no request would be sent (nothing to review)\n")
    for i, req in enumerate(the_plan.requests, 1):
        sent = req.estimated_tokens - req.answer_tokens
        out.append(
            f"=== request {i}/{total}: agent {req.agent}, model {req.model or '(not configured)'}, "
            f"files {', '.join(req.chunk.paths)}, ~{sent:,} input tokens (+ up to {req.answer_tokens:,} "
            f"for the answer) ===\n"
        )
        for m in req.messages:
            out.append(f"--- {m['role']} ---\n{m['content']}\n")
    for s in the_plan.skipped:
        out.append(f"# skipped {s.path}: {s.reason}\n")
    for f in the_plan.local_findings:
        out.append(f"# local finding {f.path}:{f.line}: {f.severity.label}: {f.message}\n")
    coverage = getattr(the_plan, "coverage", None)
    if coverage is not None:
        out.append(f"# {coverage.added_sent:,} of {coverage.added_reviewable:,} added lines of the files to review "
                   f"are in some request ({coverage.added_total:,} added lines in the diff)\n")
        for s in coverage.not_sent:
            out.append(f"# partly sent {s.path}: {s.reason}\n")
    if the_plan.redactions:
        out.append(f"# {the_plan.redactions} secret(s) redacted before sending\n")
    sent = sum(r.estimated_tokens - r.answer_tokens for r in the_plan.requests)
    allowance = sum(r.answer_tokens for r in the_plan.requests)
    out.append(f"# {total} request(s), ~{sent:,} input tokens in total (estimated), answers allowed up to "
               f"{allowance:,} tokens; nothing was sent\n")
    return "".join(out)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


__all__ = [
    "Console", "Context", "ReviewbotError", "RunOutcome", "collect_diff", "exit_code_for", "prepare", "review_diff",
]
