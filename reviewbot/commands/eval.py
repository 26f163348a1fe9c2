"""`reviewbot eval [CORPUS_DIR]`: review every case of a corpus with the normal pipeline and score the findings.

Each case is materialized as a small git repository in a temporary folder (its base files committed, its patch
staged) and reviewed exactly as `reviewbot diff --staged` would review it there: same settings layers, agents,
standards discovery, prompts, anchoring, filters, suppressions, verification and voting. Only the scoring is
eval's own (reviewbot.evaluation).

Decisions:
- Settings: the user's config, REVIEWBOT_* variables and the flags apply to every case; the current
  repository's config file does not (a case is its own repository, and its rules come from the case).
- Agents are resolved here, in the current directory, before any case runs: `--agent NAME` finds the current
  repository's `.claude/agents`, the user's `~/.claude/agents` and the bundled agents, as `reviewbot diff` would
  here; each case is then reviewed with those files. An unknown agent is a usage error (exit 2) up front.
- The result cache is off unless `--cache` is given: an eval measures the model, not yesterday's answers.
- Cases run in parallel (`--concurrency`, default 4) with one request at a time inside each case, so at
  most that many requests are in flight.
- A case whose review fails (model error, unreadable answer, a patch that does not apply) is not scored: it
  would otherwise count as a clean pass or a row of misses, and a model that cannot answer is neither. Its row
  says "failed" and why, the report counts the failed cases, and the totals cover the rest. Configuration
  problems (no model, an untrusted endpoint) stop the whole run with exit 2. Exit 0 when the eval ran,
  whatever the scores; exit 3 when not a single case could be reviewed.
- `--judge` asks a model (the reviewed one unless --judge-model names another) whether each strict match's
  message describes the expected defect (reviewbot.evaluation.judge); the "judged" row counts only those it accepts.
- Blocking verdicts count held-back findings (as the hook does); scoring counts the findings shown, so the
  effect of --max-findings is visible in precision and recall.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import click

from reviewbot.commands.common import handle_errors
from reviewbot.commands.options import DefaultShownOption, agent_settings
from reviewbot.config import choices_of
from reviewbot.core.blocking import is_blocking
from reviewbot.core.errors import EXIT_OK, EXIT_REVIEW_FAILED, ConfigError, ReviewbotError

if TYPE_CHECKING:
    from reviewbot.config import Settings
    from reviewbot.core.models import Diff, Finding, Severity, Usage
    from reviewbot.evaluation.cases import EvalCase, ExpectedIssue
    from reviewbot.evaluation.scoring import CaseScore, Judge
    from reviewbot.rules.suppressions import Filter
    from reviewbot.session import Console, Context

EVAL_FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """What `reviewbot eval` was asked: the config keys given on the command line (every case is reviewed with
    them), and eval's own options."""

    settings: Mapping[str, object] = field(default_factory=dict)
    output_format: str = "text"  # one of EVAL_FORMATS
    repeat: int = 1  # reviews of each case
    judge: bool = False
    judge_model: str | None = None  # also asks for the judge; None: the reviewed model judges
    dry_run: bool = False  # send nothing: evidence recall and prompt tokens, context off and on

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))


@dataclass(frozen=True)
class CaseRun:
    """One review of one case: what it found (shown and held back), what it cost, or why it failed."""

    name: str
    findings: tuple[Finding, ...] = ()
    held_back: tuple[Finding, ...] = ()
    usage: Usage | None = None
    model: str = ""
    notes: tuple[str, ...] = ()
    error: str | None = None


class _DedupConsole:
    """A Console for the cases' reviews that says each warning once, however many cases repeat it."""

    def __init__(self) -> None:
        from reviewbot.commands.common import console

        self.inner = console()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def make(self) -> Console:
        from reviewbot.session import Console

        return Console(out=self.inner.out, err=self._err, err_is_tty=False)

    def _err(self, text: str) -> None:
        with self._lock:
            if text in self._seen:
                return
            self._seen.add(text)
        self.inner.err(text)


# -- agents ------------------------------------------------------------------------------------------------


def agent_files(refs: Sequence[str], cwd: Path, console: Console | None = None) -> dict[str, str]:
    """Agent name -> absolute path of its file, for each of `refs`, resolved from `cwd` as `reviewbot diff` would."""
    from reviewbot.adapters.git import Repository, worktree_source
    from reviewbot.rules.agents import discover_agents, resolve_agent, user_agents_dir

    try:
        repo = Repository(cwd)
        source, root = worktree_source(repo), repo.root
    except ReviewbotError:  # not inside a repository: bundled and user agents only
        source, root = None, None
    user_dir = user_agents_dir()
    problems: list[str] = []
    available = discover_agents(source, user_dir if user_dir.is_dir() else None, problems=problems)
    if console is not None:
        for p in problems:
            console.warn(p)
    files: dict[str, str] = {}
    for ref in refs:
        agent = resolve_agent(ref, available, cwd=cwd, source=source, repo_root=root)
        if agent.origin == "repository" and root is not None:
            path = root / agent.path
        elif agent.origin == "path":
            path = Path(ref.strip()).expanduser()
            path = path if path.is_absolute() else cwd / path
        else:
            path = Path(agent.path)
        files.setdefault(agent.name, str(path.resolve()))
    return files


# -- running the cases --------------------------------------------------------------------------------------


def review_case(case: EvalCase, workdir: Path, cli: Mapping[str, object], agents: Sequence[str], repeat: int,
                console: Console, abort: threading.Event) -> list[CaseRun]:
    """Materialize one case and review it `repeat` times; failures become error runs, ConfigError propagates."""
    from reviewbot.adapters.git import DiffSpec
    from reviewbot.evaluation.workspace import materialize_case
    from reviewbot.session import collect_diff, prepare, review_diff

    try:
        repo_dir = materialize_case(case, workdir)
    except ReviewbotError as exc:
        return [CaseRun(case.name, error=str(exc))] * repeat
    runs: list[CaseRun] = []
    for _ in range(repeat):
        if abort.is_set():
            break
        try:
            ctx = prepare(cli, cwd=repo_dir)
            diff = collect_diff(ctx, DiffSpec(staged=True))
            outcome = review_diff(ctx, diff, console=console, agent_refs=agents, extra_filters=_filters(ctx, diff))
        except ConfigError:
            abort.set()
            raise
        except ReviewbotError as exc:
            runs.append(CaseRun(case.name, error=str(exc)))
            continue
        result = outcome.result
        assert result is not None  # only a dry run has no result, and this is not one
        error = None
        if result.failed:
            error = f"not reviewed: {', '.join(s.path for s in result.failed)} ({result.failed[0].reason})"
        runs.append(CaseRun(case.name, result.findings, result.held_back, result.usage, result.model,
                            result.notes, error))
    return runs


def _filters(ctx: Context, diff: Diff) -> list[Filter]:
    """Inline suppressions (and a baseline, should a case carry one), as `reviewbot diff` applies them."""
    from reviewbot.rules.suppressions import make_filters
    return make_filters(ctx, diff, use_baseline=True)


def run_cases(cases: Sequence[EvalCase], cli: Mapping[str, object], agents: Sequence[str], *, repeat: int, jobs: int,
              console: Console, progress: Callable[[int, int], None] | None = None) -> list[list[CaseRun]]:
    """Every case's runs, in case order. The first case runs alone, so a configuration error stops at once."""
    abort = threading.Event()
    results: list[list[CaseRun] | None] = [None] * len(cases)
    done = 0
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="reviewbot-eval-") as tmp:
        workdir = Path(tmp)

        def run(index: int) -> None:
            nonlocal done
            results[index] = review_case(cases[index], workdir, cli, agents, repeat, console, abort)
            with lock:
                done += 1
                if progress:
                    progress(done, len(cases))

        if cases:
            run(0)
        if len(cases) > 1:
            with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(cases) - 1))) as pool:
                list(pool.map(run, range(1, len(cases))))
    return [r or [] for r in results]


# -- the command ------------------------------------------------------------------------------------------------


def _labels(settings: Settings) -> dict[str, str]:
    labels = {}
    if settings.verify:
        labels["verify"] = "on"
    if settings.samples and settings.samples > 1:
        labels["samples"] = f"{settings.samples} (share {settings.sample_share:g})"
    if settings.min_confidence:
        labels["min_confidence"] = f"{settings.min_confidence:g}"
    if settings.max_findings:
        labels["max_findings"] = str(settings.max_findings)
    if settings.max_findings_per_file:
        labels["max_findings_per_file"] = str(settings.max_findings_per_file)
    if settings.filter_mode != "added":
        labels["filter_mode"] = settings.filter_mode
    if settings.fail_on != "error":
        labels["fail_on"] = settings.fail_on
    if settings.cache:
        labels["cache"] = "on"
    if not settings.context or settings.context_budget == 0:
        labels["context"] = "off"
    elif settings.origins.get("context_budget") != "default":
        labels["context"] = f"budget {settings.context_budget:g}"
    if settings.tools:
        labels["tools"] = "on"
    return labels


@click.command("eval")
@click.argument("corpus_dir", required=False, type=click.Path(path_type=Path))
@click.option("--agent", "-a", "agents", multiple=True, cls=DefaultShownOption, show_default="senior-backend-engineer",
              help="Agent name or file; repeat for several.")
@click.option("--model", "-m", help="Model id (env REVIEWBOT_MODEL, config model).")
@click.option("--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).")
@click.option("--format", "-f", "output_format", type=click.Choice(EVAL_FORMATS), default="text", show_default=True,
              help="Report format on stdout.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Review each case N times and report how often the blocking verdict flips.")
@click.option("--verify/--no-verify-findings", default=None,
              help="Ask the model to confirm its own findings [default: config verify, false].")
@click.option("--samples", type=click.IntRange(min=1), cls=DefaultShownOption, show_default="1", metavar="N",
              help="Independent reviews per chunk; findings kept by vote.")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), cls=DefaultShownOption, show_default="none",
              metavar="N", help="Drop findings below this confidence.")
@click.option("--max-findings", type=click.IntRange(min=1), cls=DefaultShownOption, show_default="no limit",
              metavar="N", help="Show at most this many findings per case.")
@click.option("--fail-on", type=click.Choice(choices_of("fail_on")),
              help="Lowest severity that counts as a blocking verdict [default: error].")
@click.option("--filter-mode", type=click.Choice(choices_of("filter_mode")),
              help="Which findings count [default: added].")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), cls=DefaultShownOption, show_default="120",
              metavar="SECONDS", help="Seconds to wait for one answer.")
@click.option("--concurrency", "-j", type=click.IntRange(min=1), help="Cases reviewed at once [default: 4].")
@click.option("--cache", "use_cache", is_flag=True, default=False, help="Reuse cached answers (off by default).")
@click.option("--judge", is_flag=True, default=False,
              help="Ask a model whether each matched finding's message describes the expected defect.")
@click.option("--judge-model", help="Model for --judge [default: the reviewed model].")
@click.option("--dry-run", is_flag=True, default=False,
              help="Send nothing: report evidence recall and prompt tokens with context off and on.")
@click.option("--context-budget", type=click.FloatRange(0.0, 1.0),
              help="Share of the request budget that context may take [default: 0.2].")
@click.option("--no-context", is_flag=True, default=False, help="Review with the diff only (no repository context).")
@click.option("--tools", is_flag=True, default=None, help="Let the model read, search and list each case's repository.")
@click.option("--max-answer-tokens", type=click.IntRange(min=1), cls=DefaultShownOption, show_default="4096",
              metavar="N", help="Tokens reserved for each answer.")
@handle_errors
def eval_command(corpus_dir: Path | None, agents: tuple[str, ...], use_cache: bool, output_format: str,
                 repeat: int, judge: bool, judge_model: str | None, dry_run: bool, no_context: bool,
                 **kw: Any) -> int:
    """Measure a model + agent on a corpus of review cases: precision, recall, F1 and verdict stability.

    CORPUS_DIR holds one folder per case (diff.patch, expected.json, optional base/); without it, the corpus
    bundled with reviewbot is used. Scores are strict (the finding's line within 2 lines of the expected
    range, its span at most 3 lines wider) and loose (the ranges overlap), side by side; cases whose review
    failed are left out and counted. Exit 0 when the eval ran (whatever the scores), 2 on a usage or
    configuration error, 3 when no case could be reviewed at all. See docs/eval.md.
    """
    # The other options are named as their config keys.
    settings: dict[str, object] = {k: v for k, v in kw.items() if v is not None}
    settings.update(agent_settings(agents))
    settings["cache"] = use_cache
    if no_context:
        settings["context"] = False
    options = EvalOptions(settings, output_format=output_format, repeat=repeat, judge=judge, judge_model=judge_model,
                          dry_run=dry_run)
    return run_eval(corpus_dir, options)


def run_eval(corpus_dir: Path | None, options: EvalOptions) -> int:
    """Review every case of the corpus (the bundled one when None) and print the scores; 3 when no case could be
    reviewed at all, 0 otherwise, whatever the scores."""
    from reviewbot.config import load_settings
    from reviewbot.evaluation.cases import bundled_corpus_dir, load_cases

    out = _DedupConsole()
    con = out.make()
    # The layers every case sees (user config, environment, flags): the cases have no config of their own.
    settings = load_settings(repo_source=None, cli=options.settings)
    for w in settings.warnings:
        con.warn(w)
    corpus = corpus_dir if corpus_dir is not None else bundled_corpus_dir()
    cases = load_cases(corpus)
    chosen = agent_files(settings.agent_refs, Path.cwd(), con)
    if options.dry_run:
        from reviewbot.evaluation import evidence

        rows = evidence.measure(cases, dict(options.settings), list(chosen.values()))
        con.out(evidence.render_json(rows) if options.output_format == "json" else evidence.render_text(rows))
        return EXIT_OK
    case_cli = {**options.settings, "concurrency": 1}
    progress = _progress(out.inner) if sys.stderr.isatty() else None

    started = time.monotonic()
    all_runs = run_cases(cases, case_cli, list(chosen.values()), repeat=options.repeat, jobs=settings.concurrency,
                         console=con, progress=progress)
    if progress:
        out.inner.err("\r\033[K")
    scores, report = _score(cases, all_runs, settings, options, agent=", ".join(chosen), started=started, con=con)
    con.out(report)
    if scores and all(s.error for s in scores):
        first = next(s.error for s in scores if s.error)
        con.err(f"reviewbot: error: no case could be reviewed ({first})\n")
        return EXIT_REVIEW_FAILED
    return EXIT_OK


def _score(cases: Sequence[EvalCase], all_runs: Sequence[Sequence[CaseRun]], settings: Settings,
           options: EvalOptions, *, agent: str, started: float, con: Console) -> tuple[list[CaseScore], str]:
    """Every run scored (judged too, when asked), and the report of them all in the chosen format."""
    from reviewbot.core.models import Usage
    from reviewbot.evaluation.aggregate import aggregate
    from reviewbot.evaluation.report import render_json, render_text
    from reviewbot.evaluation.scoring import score_case

    fail_on = settings.fail_on_severity
    labels = _labels(settings)
    judge_for: Callable[[EvalCase], Judge] | None = None
    usage = Usage()
    if options.judge or options.judge_model:
        judge_name = options.judge_model or settings.model or ""
        judge_for, usage = _judge_matches(cases, all_runs, settings, judge_name, fail_on, con)
        labels["judge"] = judge_name
    scores, models = [], set()
    for case, runs in zip(cases, all_runs):
        for run in runs:
            score = score_case(case, run.findings, fail_on=fail_on, error=run.error,
                               judge=judge_for(case) if judge_for else None)
            held_blocks = any(is_blocking(f, fail_on) for f in run.held_back)
            scores.append(replace(score, blocking=score.blocking or held_blocks))
            usage = usage + (run.usage or Usage())
            if run.model:
                models.add(run.model)
            for note in run.notes:
                con.warn(f"{case.name}: {note}")
    report = aggregate(
        scores, usage=usage, wall_seconds=time.monotonic() - started, repeats=options.repeat,  # the judge included
        model=", ".join(sorted(models)) or (settings.model or ""),
        agent=agent,
        labels=labels,
    )
    return scores, render_json(report) if options.output_format == "json" else render_text(report)


def _judge_matches(cases: Sequence[EvalCase], all_runs: Sequence[Sequence[CaseRun]], settings: Settings,
                   judge_name: str, fail_on: Severity | None,
                   console: Console) -> tuple[Callable[[EvalCase], Judge], Usage]:
    """Judge every strict match of every run once, in parallel; returns (case -> judge function, usage)."""
    from reviewbot.core.models import Usage
    from reviewbot.evaluation.judge import judge_match
    from reviewbot.evaluation.scoring import score_case
    from reviewbot.session import make_model_factory

    model = make_model_factory(settings, console)(judge_name)
    pairs = list(dict.fromkeys(
        (index, issue, finding)
        for index, (case, runs) in enumerate(zip(cases, all_runs))
        for run in runs if not run.error
        for issue, finding in score_case(case, run.findings, fail_on=fail_on).matches
    ))

    def ask(pair: tuple[int, ExpectedIssue, Finding]) -> tuple[bool | None, int, int]:
        index, issue, finding = pair
        return judge_match(model, cases[index].description, issue, finding)

    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        answers = list(pool.map(ask, pairs))
    verdicts = {pair: verdict for pair, (verdict, _, _) in zip(pairs, answers)}
    usage = Usage(requests=len(pairs), tokens_in=sum(a[1] for a in answers), tokens_out=sum(a[2] for a in answers))
    if pairs and all(v is None for v in verdicts.values()):
        console.warn(f"the judge ({judge_name}) gave no usable answer for any of {len(pairs)} matches")

    def judge_for(case: EvalCase) -> Judge:
        index = cases.index(case)
        return lambda issue, finding: verdicts.get((index, issue, finding))

    return judge_for, usage


def _progress(console: Console) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        console.err(f"\rreviewbot eval: {done}/{total} cases")

    return show
