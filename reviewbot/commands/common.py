"""What every review command shares: git diff's arguments (the click side and the DiffSpec they make), turning
errors into one line and an exit code, the console, running a review and writing every report. The review options
and the RunOptions they become are in commands/options.py."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, ParamSpec

import click

from reviewbot.core.errors import ConfigError, ReviewbotError

if TYPE_CHECKING:
    from reviewbot.adapters.git import DiffSpec, Repository
    from reviewbot.commands.options import RunOptions
    from reviewbot.config import Settings
    from reviewbot.core.models import Diff, ReviewedSide, ReviewResult
    from reviewbot.rules.suppressions import Filter
    from reviewbot.session import Console, Context

    # Runs after the reports are written (ci: the step summary, the pull-request review); may change the exit code.
    AfterReview = Callable[[Context, ReviewResult, int], int | None]


_P = ParamSpec("_P")


class GitArgsCommand(click.Command):
    """A command whose positional arguments follow git diff: `REV... -- PATHS`.

    click swallows a bare `--`, so it is split off here before click parses, and what follows it is kept as paths.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["reviewbot.paths"] = tuple(args[at + 1:])
            args = args[:at]
        else:
            ctx.meta["reviewbot.paths"] = None
        return super().parse_args(ctx, args)


def paths_after_separator() -> tuple[str, ...] | None:
    """The paths after `--` of the running GitArgsCommand; None when no `--` was given."""
    paths: tuple[str, ...] | None = click.get_current_context().meta.get("reviewbot.paths")
    return paths


def handle_errors(func: Callable[_P, int | None]) -> Callable[_P, NoReturn]:
    """Turn ReviewbotError into one line on stderr and its exit code; never a traceback for expected failures."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> NoReturn:
        try:
            code = func(*args, **kwargs)
        except ReviewbotError as exc:
            from reviewbot.reporters.base import one_line  # errors quote repository text too

            click.echo(f"reviewbot: error: {one_line(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("reviewbot: interrupted", err=True)
            sys.exit(130)
        sys.exit(code or 0)

    return wrapper


def console() -> Console:
    from reviewbot.session import Console

    return Console(
        out=lambda s: click.echo(s, nl=False),
        err=lambda s: click.echo(s, nl=False, err=True),
        err_is_tty=sys.stderr.isatty(),
        github=os.environ.get("GITHUB_ACTIONS") == "true",
    )


def use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def run_and_report(options: RunOptions, spec: DiffSpec, *, command_defaults: Mapping[str, object] | None = None,
                   rules_side: ReviewedSide | None = None, after: AfterReview | None = None,
                   lenient_setup: bool = False) -> int:
    """The shared body of diff/hook/ci: review `spec`, write every report, return the exit code.

    Settings are checked before the diff is collected, so a wrong agent or a missing model is an error even when
    there is nothing to review. With `lenient_setup` (the hook) a machine that is not set up to ask a model, or a
    model that cannot be reached, skips the review with one line and exit 0, unless on_error = "fail".
    """
    from reviewbot.session import check_setup, collect_diff, exit_code_for, prepare, review_diff

    con = console()
    con.verbose = options.verbose
    dry_run = options.dry_run
    ctx = prepare(options.settings, command_defaults=command_defaults, rules_side=rules_side, console=con)
    setup = check_setup(ctx, console=con)
    skip_reason = None
    if setup.problem is not None and not dry_run:
        if not lenient_setup or ctx.settings.on_error == "fail":
            raise setup.problem
        skip_reason = str(setup.problem)
    diff = collect_diff(ctx, spec)
    filters = _team_filters(ctx, diff, no_baseline=options.no_baseline)
    outcome = review_diff(ctx, diff, console=con, dry_run=dry_run, extra_filters=filters, agents=setup.agents,
                          skip_reason=skip_reason)
    if outcome.result is None:
        return outcome.exit_code
    result = outcome.result
    skipped = lenient_setup and ctx.settings.on_error == "warn" and (
        skip_reason is not None or (bool(result.failed) and not result.files_reviewed))
    emit(result, ctx.settings, options.reports, color=use_color(options.color), con=con,
         summary=not skipped and bool(diff.files))
    if not diff.files and not skipped:
        con.err(f"reviewbot: nothing to review in {spec.description}; no request was sent "
                "(`reviewbot doctor` checks the model)\n")
    if skipped:
        con.err(skip_line(result, skip_reason))
        from reviewbot.core.blocking import is_blocking

        return 1 if any(is_blocking(f, ctx.settings.fail_on_severity) for f in result.all_findings) else 0
    code = exit_code_for(result, ctx.settings, con)
    if after is not None:
        code = after(ctx, result, code) or code
    return code


def skip_line(result: ReviewResult, setup_problem: str | None) -> str:
    """The hook's one line when the model reviewed nothing: why, and that the commit is not held up by it."""
    from reviewbot.reporters.base import one_line

    reason = one_line(setup_problem or (result.failed[0].reason if result.failed else "unknown"))
    how = "not set up" if setup_problem else "the model failed"
    local = f"; {len(result.findings)} local finding(s) above" if result.findings else ""
    return (f"reviewbot: review skipped ({how}): {reason}{local}; the commit is not blocked by the review. "
            "Run `reviewbot doctor` to fix the set-up.\n")


def _team_filters(ctx: Context, diff: Diff, *, no_baseline: bool) -> list[Filter]:
    """Suppression comments and the baseline, when those modules are present."""
    from reviewbot.rules.suppressions import make_filters
    return make_filters(ctx, diff, use_baseline=not no_baseline)


def emit(result: ReviewResult, settings: Settings, reports: Sequence[tuple[str, str]], *, color: bool, con: Console,
         summary: bool = True) -> None:
    from reviewbot.reporters import ReportOptions, render, summary_line

    options = ReportOptions(fail_on=settings.fail_on_severity, color=color)
    text = render(settings.format, result, options)
    if text:
        con.out(text if text.endswith("\n") else text + "\n")
    for fmt, path in reports:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(fmt, result, ReportOptions(fail_on=settings.fail_on_severity)), encoding="utf-8")
        except OSError as exc:
            raise ReviewbotError(f"cannot write the {fmt} report to {path}: {exc.strerror}") from None
    if summary:
        con.err(summary_line(result, options) + "\n")


def diff_spec_from_args(staged: bool, revisions: Sequence[str], paths: Sequence[str] | None) -> DiffSpec:
    """git diff's arguments as `diff` and `baseline` take them: [--staged] [REV | A..B | A...B | A B] [-- PATHS].

    `paths` are those after `--` (None: no `--`, so trailing arguments that are no revision are taken as paths).
    """
    from reviewbot.adapters.git import DiffSpec, Repository

    revs, extra_paths = _split_revisions(Repository(), revisions) if paths is None else (list(revisions), [])
    spec = DiffSpec(staged=staged, revisions=tuple(revs), paths=tuple(paths or ()) + tuple(extra_paths))
    if len(spec.revisions) > 2:
        raise ConfigError("give at most two revisions (or one A..B / A...B range)")
    return spec


def _split_revisions(repo: Repository, args: Sequence[str]) -> tuple[list[str], list[str]]:
    """Without `--`, tell revisions from paths the way git does: leading arguments that name commits are revisions."""
    revs: list[str] = []
    paths: list[str] = []
    for arg in args:
        if not paths and repo.is_revision(arg):
            revs.append(arg)
        elif (repo.root / arg).exists() or Path(arg).exists():
            paths.append(arg)
        else:
            raise ConfigError(f"'{arg}' is neither a revision nor a path in this repository")
    return revs, paths
