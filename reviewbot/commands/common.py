"""What every review command shares: the review options (each maps to the config key of the same name), turning
errors into one line and an exit code, the console, running a review and writing every report."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec

import click

from reviewbot.config import choices_of
from reviewbot.core.errors import ConfigError, ReviewbotError

if TYPE_CHECKING:
    from reviewbot.adapters.git import DiffSpec, Repository
    from reviewbot.config import Settings
    from reviewbot.core.models import Diff, ReviewedSide, ReviewResult
    from reviewbot.rules.suppressions import Filter
    from reviewbot.session import Console, Context

    # Runs after the reports are written (ci: the step summary, the pull-request review); may change the exit code.
    AfterReview = Callable[[Context, ReviewResult, int], int | None]


_P = ParamSpec("_P")

FORMATS = ("text", "json", "github", "sarif", "rdjson", "rdjsonl", "gitlab", "junit", "markdown")


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


def _report_option(value: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for item in value:
        fmt, sep, path = item.partition("=")
        if not sep or not path or fmt not in FORMATS:
            raise click.BadParameter(f"'{item}' is not FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}",
                                     param_hint="--report")
        out.append((fmt, path))
    return out


def _default(key: str) -> str:
    """The config default of `key` as --help shows it (the option's own default is None: 'not given')."""
    from reviewbot.config import KEYS

    value = KEYS[key].default
    if isinstance(value, bool):
        return "true" if value else "false"
    return "-" if value is None else str(value)


class DefaultShownOption(click.Option):
    """Shows a text default as `[default: 3]` rather than click's `[default: (3)]`."""

    def get_help_extra(self, ctx: click.Context) -> Any:  # click >= 8.2; older versions keep the parentheses
        extra = super().get_help_extra(ctx)
        if isinstance(self.show_default, str):
            extra["default"] = self.show_default
        return extra


def _option(*decls: str, key: str | None = None, **kw: Any) -> Callable:
    """A review option whose [default: ...] is the config key's default, so --help and the config agree."""
    if key is not None and "show_default" not in kw:
        kw["show_default"] = _default(key)
    if isinstance(kw.get("type"), (click.IntRange, click.FloatRange)):
        kw.setdefault("metavar", "N")
    return click.option(*decls, cls=DefaultShownOption, **kw)


# Options every reviewing command has, by the parameter name; `review_options(exclude=...)` leaves some out where
# they do nothing (e.g. baseline never blocks, so --fail-on means nothing there).
def _review_option_list() -> list[tuple[str, Callable]]:
    return [
        ("model", _option("--model", "-m", help="Model id (env REVIEWBOT_MODEL).", show_default="none")),
        ("base_url", _option("--base-url", metavar="URL", show_default="OpenAI",
                             help="OpenAI-compatible endpoint (env OPENAI_BASE_URL).")),
        ("agents", _option("--agent", "-a", "agents", multiple=True, show_default=_default("agent"),
                           help="Agent name or file; repeat for several.")),
        ("fail_on", _option("--fail-on", key="fail_on", type=click.Choice(choices_of("fail_on")),
                            help="Lowest severity that fails the run.")),
        ("output_format", _option("--format", "-f", "output_format", key="format", type=click.Choice(FORMATS),
                                  help="Report format on stdout.")),
        ("reports", _option("--report", "reports", multiple=True, metavar="FORMAT=PATH",
                            help="Also write a report to a file; repeatable.")),
        ("filter_mode", _option("--filter-mode", key="filter_mode",
                                type=click.Choice(choices_of("filter_mode")),
                                help="Which findings count: on added lines, in the diff's context, anywhere in "
                                     "the file, or all.")),
        ("on_error", _option("--on-error", type=click.Choice(choices_of("on_error")),
                             show_default="fail",
                             help="When the model cannot be reached: warn (exit 0) or fail (exit 3).")),
        ("context_lines", _option("--unified", "-U", "context_lines", key="context_lines", metavar="N",
                                  type=click.IntRange(min=0),
                                  help="Unchanged lines around each change, like git diff -U.")),
        ("include", _option("--include", multiple=True, metavar="GLOB",
                            help="Review only paths matching GLOB; repeatable [default: all].")),
        ("exclude", _option("--exclude", multiple=True, metavar="GLOB",
                            help="Never review paths matching GLOB; repeatable.")),
        ("timeout", _option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
                            show_default="120 hosted; local servers 60 + 1 per 8 answer tokens",
                            help="Seconds to wait for one answer.")),
        ("response_format", _option("--response-format", key="response_format",
                                    type=click.Choice(choices_of("response_format")),
                                    help="Structured output to ask for; auto steps down as the server refuses.")),
        ("retries", _option("--retries", key="retries", type=click.IntRange(min=0),
                            help="Retries on 429, 5xx and dropped connections.")),
        ("max_request_tokens", _option("--max-request-tokens", key="max_request_tokens",
                                       type=click.IntRange(min=1), help="Token budget of one request, answer included.")),
        ("max_answer_tokens", _option("--max-answer-tokens", key="max_answer_tokens", type=click.IntRange(min=1),
                                      help="Tokens reserved for each answer (max_tokens).")),
        ("concurrency", _option("--concurrency", "-j", key="concurrency", type=click.IntRange(min=1),
                                help="Requests in flight at once.")),
        ("no_cache", click.option("--no-cache", is_flag=True, default=False,
                                  help="Ignore and do not fill the result cache.")),
        ("no_context", click.option("--no-context", is_flag=True, default=False,
                                    help="Send only the diff: no definitions or callers from the repository "
                                         "(config context).")),
        ("tools", _option("--tools", is_flag=True, default=None, key="tools",
                          help="Let the model read, search and list the reviewed revision (config tools).")),
        ("min_confidence", _option("--min-confidence", type=click.FloatRange(0, 1), show_default="none",
                                   help="Drop findings below this confidence.")),
        ("max_findings", _option("--max-findings", type=click.IntRange(min=0), show_default="no limit",
                                 help="Show at most this many findings.")),
        ("verify", _option("--verify/--no-verify-findings", key="verify", default=None,
                           help="A second request per chunk confirms or rejects each finding.")),
        ("no_verify_deprecated", click.option("--no-verify", "no_verify_deprecated", is_flag=True, hidden=True,
                                              default=False, help="Deprecated: --no-verify-findings.")),
        ("samples", _option("--samples", key="samples", type=click.IntRange(min=1),
                            help="Independent reviews per chunk; findings kept by vote.")),
        ("no_baseline", click.option("--no-baseline", is_flag=True, default=False,
                                     help="Show findings the baseline accepts.")),
        ("dry_run", click.option("--dry-run", is_flag=True, default=False,
                                 help="Print the requests that would be sent; send nothing.")),
        ("color", _option("--color/--no-color", default=None, show_default="on a terminal, unless NO_COLOR",
                               help="Colour the text report.")),
        ("verbose", click.option("--verbose", "-v", is_flag=True, default=False,
                                 help="Show every tool call the model makes.")),
    ]


def review_options(func: Callable | None = None, *, exclude: tuple[str, ...] = (),
                   shown_defaults: dict[str, str] | None = None) -> Callable:
    """Options shared by every command that runs a review; most map to the config key of the same name
    (exceptions: -U/--unified is context_lines, --agent repeated is agents, --no-cache is cache = false).
    `shown_defaults` replaces the [default: ...] text where a command has a default of its own."""

    shown = shown_defaults or {}

    def decorate(f: Callable) -> Callable:
        for name, option in reversed(_review_option_list()):
            if name not in exclude:
                f = option(f)
                if name in shown:
                    # click.option keeps the options it adds to a function in its __click_params__
                    f.__click_params__[-1].show_default = shown[name]  # type: ignore[attr-defined]
        return f

    return decorate(func) if func is not None else decorate


def cli_settings(kw: dict[str, Any]) -> dict[str, Any]:
    """Map option values onto config keys; None means 'not given' so lower layers show through."""
    keys = ("model", "base_url", "fail_on", "filter_mode", "on_error", "timeout", "max_request_tokens", "concurrency",
            "min_confidence", "max_findings", "verify", "samples", "response_format", "context_lines", "retries",
            "max_answer_tokens")
    out = {k: kw.get(k) for k in keys}
    for key in ("include", "exclude"):
        if kw.get(key):
            out[key] = list(kw[key])
    if kw.get("no_verify_deprecated") and out.get("verify") is None:
        click.echo("reviewbot: warning: --no-verify is deprecated (git uses it to skip hooks); "
                   "use --no-verify-findings", err=True)
        out["verify"] = False
    agents: Sequence[str] = kw.get("agents") or ()
    if len(agents) == 1:
        out["agent"] = agents[0]
    elif agents:
        out["agents"] = list(agents)
    if kw.get("no_cache"):
        out["cache"] = False
    if kw.get("no_context"):
        out["context"] = False
    if kw.get("tools"):
        out["tools"] = True
    if kw.get("output_format"):
        out["format"] = kw["output_format"]
    return out


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


def run_and_report(kw: dict[str, Any], spec: DiffSpec, *, command_defaults: Mapping[str, Any] | None = None,
                   rules_side: ReviewedSide | None = None, after: AfterReview | None = None,
                   lenient_setup: bool = False) -> int:
    """The shared body of diff/hook/ci: review `spec`, write every report, return the exit code.

    Settings are checked before the diff is collected, so a wrong agent or a missing model is an error even when
    there is nothing to review. With `lenient_setup` (the hook) a machine that is not set up to ask a model, or a
    model that cannot be reached, skips the review with one line and exit 0, unless on_error = "fail".
    """
    from reviewbot.session import check_setup, collect_diff, exit_code_for, prepare, review_diff

    con = console()
    con.verbose = bool(kw.get("verbose"))
    reports = _report_option(kw.get("reports") or ())
    dry_run = kw.get("dry_run", False)
    ctx = prepare(cli_settings(kw), command_defaults=command_defaults, rules_side=rules_side, console=con)
    setup = check_setup(ctx, console=con)
    skip_reason = None
    if setup.problem is not None and not dry_run:
        if not lenient_setup or ctx.settings.on_error == "fail":
            raise setup.problem
        skip_reason = str(setup.problem)
    diff = collect_diff(ctx, spec)
    filters = _team_filters(ctx, diff, no_baseline=kw.get("no_baseline", False))
    outcome = review_diff(ctx, diff, console=con, dry_run=dry_run, extra_filters=filters, agents=setup.agents,
                          skip_reason=skip_reason)
    if outcome.result is None:
        return outcome.exit_code
    result = outcome.result
    skipped = lenient_setup and ctx.settings.on_error == "warn" and (
        skip_reason is not None or (bool(result.failed) and not result.files_reviewed))
    emit(result, ctx.settings, reports, color=use_color(kw.get("color")), con=con,
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


def diff_spec_from_args(staged: bool, revisions: tuple[str, ...]) -> DiffSpec:
    """git diff's arguments as `diff` and `baseline` take them: [--staged] [REV | A..B | A...B | A B] [-- PATHS]."""
    from reviewbot.adapters.git import DiffSpec, Repository

    paths = click.get_current_context().meta.get("reviewbot.paths")
    revs, extra_paths = _split_revisions(Repository(), revisions) if paths is None else (list(revisions), [])
    spec = DiffSpec(staged=staged, revisions=tuple(revs), paths=tuple(paths or ()) + tuple(extra_paths))
    if len(spec.revisions) > 2:
        raise ConfigError("give at most two revisions (or one A..B / A...B range)")
    return spec


def _split_revisions(repo: Repository, args: tuple[str, ...]) -> tuple[list[str], list[str]]:
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
