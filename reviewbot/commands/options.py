"""The review options every reviewing command (diff, hook, ci, baseline) takes, and what they become.

This is the click layer's one translation: `review_options` declares the options, `run_options` turns click's values
into `RunOptions`, a frozen record of plain typed values the commands' own functions take. No other code knows a
review option's parameter name. (eval and doctor have options of their own and translate them in their click
functions.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import click

from reviewbot.config import choices_of

FORMATS = ("text", "json", "github", "sarif", "rdjson", "rdjsonl", "gitlab", "junit", "markdown")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What a reviewing command was asked besides what to review.

    `settings` holds the config keys given on the command line (None: not given, so lower layers show through);
    the rest are the options that are no setting: extra report files, a dry run, the baseline switched off for one
    run, the colour of the text report (None: on a terminal, unless NO_COLOR) and every tool call shown.
    """

    settings: Mapping[str, object] = field(default_factory=dict)
    reports: tuple[tuple[str, str], ...] = ()  # (format, path) of each --report
    dry_run: bool = False
    no_baseline: bool = False
    color: bool | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        # A copy nobody can change: the record is shared by everything that runs the review.
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))


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


# A command's callback (or a click Command once decorated): click passes the options as keyword arguments.
_Command = Callable[..., Any]


def _option(*decls: str, key: str | None = None, **kw: Any) -> Callable[[_Command], _Command]:
    """A review option whose [default: ...] is the config key's default, so --help and the config agree."""
    if key is not None and "show_default" not in kw:
        kw["show_default"] = _default(key)
    if isinstance(kw.get("type"), (click.IntRange, click.FloatRange)):
        kw.setdefault("metavar", "N")
    return click.option(*decls, cls=DefaultShownOption, **kw)


# Options every reviewing command has, by the parameter name; `review_options(exclude=...)` leaves some out where
# they do nothing (e.g. baseline never blocks, so --fail-on means nothing there).
def _review_option_list() -> list[tuple[str, Callable[[_Command], _Command]]]:
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
        ("max_request_tokens", _option("--max-request-tokens", key="max_request_tokens", type=click.IntRange(min=1),
                                       help="Token budget of one request, answer included.")),
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


def review_options(func: _Command | None = None, *, exclude: tuple[str, ...] = (),
                   shown_defaults: dict[str, str] | None = None) -> _Command:
    """Options shared by every command that runs a review; most map to the config key of the same name
    (exceptions: -U/--unified is context_lines, --agent repeated is agents, --no-cache is cache = false).
    `shown_defaults` replaces the [default: ...] text where a command has a default of its own."""

    shown = shown_defaults or {}

    def decorate(f: _Command) -> _Command:
        for name, option in reversed(_review_option_list()):
            if name not in exclude:
                f = option(f)
                if name in shown:
                    # click.option keeps the options it adds to a function in its __click_params__, last one last
                    added: list[click.Option] = vars(f)["__click_params__"]
                    added[-1].show_default = shown[name]
        return f

    return decorate(func) if func is not None else decorate


def run_options(values: Mapping[str, Any]) -> RunOptions:
    """click's values of the review options (by parameter name) as RunOptions; options a command leaves out are
    not given. A --report that is not FORMAT=PATH is a usage error (exit 2)."""
    reports = _reports(values.get("reports") or ())
    return RunOptions(settings=_settings(values), reports=reports, dry_run=bool(values.get("dry_run")),
                      no_baseline=bool(values.get("no_baseline")), color=values.get("color"),
                      verbose=bool(values.get("verbose")))


def _reports(value: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in value:
        fmt, sep, path = item.partition("=")
        if not sep or not path or fmt not in FORMATS:
            raise click.BadParameter(f"'{item}' is not FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}",
                                     param_hint="--report")
        out.append((fmt, path))
    return tuple(out)


# Options whose parameter name is their config key.
_SAME_NAME = ("model", "base_url", "fail_on", "filter_mode", "on_error", "timeout", "max_request_tokens", "concurrency",
              "min_confidence", "max_findings", "verify", "samples", "response_format", "context_lines", "retries",
              "max_answer_tokens")


def _settings(values: Mapping[str, Any]) -> dict[str, object]:
    """Option values onto config keys; None means 'not given' so lower layers show through."""
    out: dict[str, object] = {key: values.get(key) for key in _SAME_NAME}
    for key in ("include", "exclude"):
        if values.get(key):
            out[key] = tuple(values[key])
    if values.get("no_verify_deprecated") and out.get("verify") is None:
        click.echo("reviewbot: warning: --no-verify is deprecated (git uses it to skip hooks); "
                   "use --no-verify-findings", err=True)
        out["verify"] = False
    out.update(agent_settings(values.get("agents") or ()))
    if values.get("no_cache"):
        out["cache"] = False
    if values.get("no_context"):
        out["context"] = False
    if values.get("tools"):
        out["tools"] = True
    if values.get("output_format"):
        out["format"] = values["output_format"]
    return out


def agent_settings(agents: Sequence[str]) -> dict[str, object]:
    """Repeated --agent as config keys: one is `agent`, several are `agents`, none leaves both to the config."""
    if len(agents) == 1:
        return {"agent": agents[0]}
    return {"agents": tuple(agents)} if agents else {}
