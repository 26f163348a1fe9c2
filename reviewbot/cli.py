"""Command line: parse options, call the pipeline, report, exit. Nothing heavy is imported at module level,
so `reviewbot --help` and `--version` stay fast and run no git."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from reviewbot import __version__
from reviewbot.errors import ReviewbotError

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


def review_options(func: Callable) -> Callable:
    """Options shared by every command that runs a review; each maps to the config key of the same name."""
    options = [
        click.option("--model", "-m", help="Model id (env REVIEWBOT_MODEL, config model)."),
        click.option("--base-url", help="OpenAI-compatible endpoint (env OPENAI_BASE_URL)."),
        click.option("--agent", "-a", "agents", multiple=True, help="Agent name or file; repeat for several."),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]),
                     help="Lowest severity that fails the run [default: error]."),
        click.option("--format", "-f", "output_format", type=click.Choice(FORMATS), help="Report format on stdout."),
        click.option("--report", "reports", multiple=True, metavar="FORMAT=PATH",
                     help="Also write a report to a file; repeatable."),
        click.option("--filter-mode", type=click.Choice(["added", "diff_context", "file", "nofilter"]),
                     help="Which findings count [default: added]."),
        click.option("--on-error", type=click.Choice(["warn", "fail"]),
                     help="When the model cannot be reached: warn (exit 0) or fail (exit 3)."),
        click.option("--timeout", type=float, help="Seconds to wait for one answer."),
        click.option("--max-request-tokens", type=int, help="Token budget of one request."),
        click.option("--concurrency", "-j", type=int, help="Requests in flight at once."),
        click.option("--no-cache", is_flag=True, default=False, help="Ignore and do not fill the result cache."),
        click.option("--no-context", is_flag=True, default=False,
                     help="Send only the diff: no definitions or callers from the repository (config context)."),
        click.option("--tools", is_flag=True, default=None,
                     help="Let the model read, search and list the reviewed revision (config tools)."),
        click.option("--min-confidence", type=float, help="Drop findings below this confidence (0..1)."),
        click.option("--max-findings", type=int, help="Show at most this many findings."),
        click.option("--verify/--no-verify", default=None, help="Ask the model to confirm its own findings."),
        click.option("--samples", type=int, help="Independent reviews per chunk; findings kept by vote."),
        click.option("--no-baseline", is_flag=True, default=False, help="Show findings the baseline accepts."),
        click.option("--dry-run", is_flag=True, default=False, help="Print the requests that would be sent; send nothing."),
        click.option("--color/--no-color", default=None, help="Colour the text report [default: on a terminal]."),
        click.option("--verbose", "-v", is_flag=True, default=False, help="Show every tool call the model makes."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def cli_settings(kw: dict[str, Any]) -> dict[str, Any]:
    """Map option values onto config keys; None means 'not given' so lower layers show through."""
    keys = ("model", "base_url", "fail_on", "filter_mode", "on_error", "timeout", "max_request_tokens", "concurrency",
            "min_confidence", "max_findings", "verify", "samples")
    out = {k: kw.get(k) for k in keys}
    agents = kw.get("agents") or ()
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


def handle_errors(func: Callable) -> Callable:
    """Turn ReviewbotError into one line on stderr and its exit code; never a traceback for expected failures."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            code = func(*args, **kwargs)
        except ReviewbotError as exc:
            click.echo(f"reviewbot: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("reviewbot: interrupted", err=True)
            sys.exit(130)
        sys.exit(code or 0)

    return wrapper


def console():
    from reviewbot.run import Console

    return Console(
        out=lambda s: click.echo(s, nl=False),
        err=lambda s: click.echo(s, nl=False, err=True),
        err_is_tty=sys.stderr.isatty(),
    )


def use_color(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


class LazyGroup(click.Group):
    """Commands that live in their own modules are imported only when named (or listed by --help).

    Each such module registers its command on `main` with `@main.command()` when imported.
    """

    lazy_commands = {"ci": "reviewbot.ci", "baseline": "reviewbot.team", "init": "reviewbot.team",
                     "eval": "reviewbot.evalcmd"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy_commands:
            import importlib

            module = self.lazy_commands[name]
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
                return None
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", "-V", prog_name="reviewbot")
def main() -> None:
    """AI code review for git: a pre-commit hook, a pull-request check and a CLI.

    Exit codes: 0 nothing blocking, 1 blocking findings, 2 usage or configuration error,
    3 the review could not complete.
    """


def run_and_report(kw: dict[str, Any], spec, *, command_defaults=None, rules_revision=None, after=None) -> int:
    """The shared body of diff/hook/ci: review `spec`, write every report, return the exit code."""
    from reviewbot.run import collect_diff, exit_code_for, prepare, review_diff

    con = console()
    con.verbose = bool(kw.get("verbose"))
    reports = _report_option(kw.get("reports") or ())
    ctx = prepare(cli_settings(kw), command_defaults=command_defaults, rules_revision=rules_revision, console=con)
    diff = collect_diff(ctx, spec)
    filters = _team_filters(ctx, diff, no_baseline=kw.get("no_baseline", False))
    outcome = review_diff(ctx, diff, console=con, dry_run=kw.get("dry_run", False), extra_filters=filters)
    if outcome.result is None:
        return outcome.exit_code
    result = outcome.result
    emit(result, ctx.settings, reports, color=use_color(kw.get("color")), con=con)
    code = exit_code_for(result, ctx.settings, con)
    if after is not None:
        code = after(ctx, result, code) or code
    return code


def _team_filters(ctx, diff, *, no_baseline: bool):
    """Suppression comments and the baseline, when those modules are present."""
    try:
        from reviewbot.suppress import make_filters
    except ImportError:
        return ()
    return make_filters(ctx, diff, use_baseline=not no_baseline)


def emit(result, settings, reports, *, color: bool, con) -> None:
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
    con.err(summary_line(result, options) + "\n")


@main.command(cls=GitArgsCommand)
@click.option("--staged", "--cached", "staged", is_flag=True, help="Review what is staged (the index vs HEAD).")
@click.argument("revisions", nargs=-1)
@review_options
@handle_errors
def diff(staged: bool, revisions: tuple[str, ...], **kw: Any) -> int:
    """Review a diff, with git diff's arguments: [--staged] [REV | A..B | A...B] [-- PATHS].

    With no arguments, the work tree against the index, like `git diff`.
    """
    from reviewbot.gitio import DiffSpec, Repository

    paths = click.get_current_context().meta.get("reviewbot.paths")
    revs, extra_paths = _split_revisions(Repository(), revisions) if paths is None else (revisions, ())
    spec = DiffSpec(staged=staged, revisions=tuple(revs), paths=tuple(paths or ()) + tuple(extra_paths))
    if len(spec.revisions) > 2:
        raise ReviewbotError("give at most two revisions (or one A..B / A...B range)")
    return run_and_report(kw, spec, command_defaults={"on_error": "fail"})


def _split_revisions(repo, args: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Without `--`, tell revisions from paths the way git does: leading arguments that name commits are revisions."""
    revs: list[str] = []
    paths: list[str] = []
    for arg in args:
        if not paths and repo.is_revision(arg):
            revs.append(arg)
        elif (repo.root / arg).exists() or Path(arg).exists():
            paths.append(arg)
        else:
            raise ReviewbotError(f"'{arg}' is neither a revision nor a path in this repository")
    return revs, paths


@main.command()
@click.argument("files", nargs=-1, type=click.Path())
@review_options
@handle_errors
def hook(files: tuple[str, ...], **kw: Any) -> int:
    """Entry point for the pre-commit framework: review exactly what is staged (limited to FILES).

    With PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF set (pre-push, or pre-commit run --from-ref/--to-ref), the
    range between them is reviewed instead. An unreachable model warns and lets the commit through unless
    on_error = "fail".
    """
    from reviewbot.gitio import DiffSpec

    from_ref, to_ref = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    if from_ref and to_ref:
        spec = DiffSpec(revisions=(f"{from_ref}...{to_ref}",), paths=files)
    else:
        spec = DiffSpec(staged=True, paths=files)
    return run_and_report(kw, spec, command_defaults={"on_error": "warn"})


@main.command()
@handle_errors
def agents() -> int:
    """List every available agent, its description and where it comes from."""
    from reviewbot.run import available_agents, prepare

    con = console()
    ctx = prepare({}, console=con)
    found = available_agents(ctx, con)
    default = ctx.settings.agent_refs
    for name in sorted(found):
        agent = found[name]
        mark = "*" if name in default else " "
        description = agent.short_description
        click.echo(f"{mark} {name}  [{agent.origin}: {agent.path}]\n    {description}")
    return 0


@main.command("config")
@handle_errors
def show_config() -> int:
    """Show the effective settings and where each one came from (secrets masked)."""
    from reviewbot.config import KEYS, mask
    from reviewbot.run import prepare

    ctx = prepare({}, console=console())
    s = ctx.settings
    width = max(len(k) for k in KEYS)
    for name in KEYS:
        value = mask(name, s.values[name])
        click.echo(f"{name:<{width}} = {_toml_value(value):<30} # {s.origins[name]}")
    key_origin = "env REVIEWBOT_API_KEY" if os.environ.get("REVIEWBOT_API_KEY") else "env OPENAI_API_KEY"
    click.echo(f"{'api_key':<{width}} = {'****' if s.api_key else '(not set)':<30} # {key_origin}")
    return 0


def _toml_value(value: Any) -> str:
    import json

    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if not isinstance(value, (int, float)) else str(value)


@main.command("cache")
@click.option("--clear", is_flag=True, help="Delete every cached answer.")
@handle_errors
def cache_cmd(clear: bool) -> int:
    """Show where the result cache lives, or clear it."""
    from reviewbot.cache import ResultCache

    cache = ResultCache()
    if clear:
        click.echo(f"removed {cache.clear()} cached answers from {cache.path}")
    else:
        click.echo(str(cache.path))
    return 0



if __name__ == "__main__":  # pragma: no cover
    main()
