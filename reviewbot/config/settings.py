"""The Settings record: one typed field per config key, and KEYS, the key table derived from it.

Config keys are exactly the long option names with '_' for '-'. Each field declares how a raw value is read (a
converter from converters.py), its default and its one-line help; the loader, `reviewbot config`, `reviewbot init`,
the REVIEWBOT_* environment variables and click's choices all follow from these fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from reviewbot.adapters.response_format import RESPONSE_FORMATS
from reviewbot.config.converters import (
    Choice,
    at_least,
    boolean,
    bounded_list,
    choice,
    fraction,
    glob_list,
    glob_table,
    http_url,
    number,
    positive,
    report_format,
    string,
    string_list,
    string_table,
    whole_number,
)
from reviewbot.core.models import Severity

FAIL_ON = ("error", "warning", "info", "never")
ON_ERROR = ("warn", "fail")
# Also declared where they are used (pipeline.findings, rules.agents), which a --help would load only for these two
# values; tests/config/test_settings.py checks that both say the same.
FILTER_MODES = ("added", "diff_context", "file", "nofilter")
DEFAULT_AGENT = "senior-backend-engineer"


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    convert: Callable[[Any], Any]
    default: Any
    help: str


def setting(convert: Callable[[Any], Any], default: Any, help: str) -> Any:
    """One config key as a field of Settings: how a raw value is read, its default, its one-line help."""
    metadata = {"convert": convert, "default": default, "help": help}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, typed: one field per config key. Adding a key is one line here (type, converter, default,
    help); KEYS, the loader, `reviewbot config` and `reviewbot init` follow from these fields."""

    model: str | None = setting(string, None, "model id sent to the endpoint")
    base_url: str | None = setting(http_url, None, "OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    agent: str = setting(string, DEFAULT_AGENT, "agent name or path to an agent file")
    agents: list[str] = setting(bounded_list, [], "several agents, each reviewing with its own persona")
    fail_on: str = setting(choice(*FAIL_ON), "error", "lowest severity that blocks: error, warning, info, never")
    on_error: str | None = setting(choice(*ON_ERROR), None,
                                   "when the review cannot complete: warn (exit 0) or fail (exit 3)")
    filter_mode: str = setting(choice(*FILTER_MODES), "added",
                               "which findings count: added, diff_context, file, nofilter")
    format: str = setting(report_format, "text", "report format on stdout")
    standards: list[str] | None = setting(bounded_list, None, "exactly these standards files instead of discovery")
    max_standards_chars: int = setting(at_least(0), 12000, "budget for standards text per request")
    context_lines: int = setting(at_least(0), 3, "unchanged lines shown around each change")
    max_request_tokens: int = setting(at_least(1), 16000, "token budget of one request, answer included (unset: "
                                      "from the model's context window, up to 32000)")
    max_answer_tokens: int = setting(at_least(1), 4096, "tokens reserved for the model's answer")
    context_window: int | None = setting(at_least(1), None,
                                         "the model's context window in tokens (sets the request budget)")
    concurrency: int = setting(at_least(1), 16, "most requests in flight at once (fewer while the server is busy)")
    cache: bool = setting(boolean, True, "reuse answers for unchanged content")
    timeout: float | None = setting(positive, None, "seconds to wait for one model answer (default: 120 for hosted "
                                    "endpoints; for local ones 60 plus 1 per 8 answer tokens)")
    response_format: str = setting(choice(*RESPONSE_FORMATS), "auto", "structured output to ask for: auto "
                                   "(json_schema, stepping down to json_object, then none), json_schema, json_object "
                                   "or none")
    retries: int = setting(at_least(0), 3, "retries on 429, 5xx and connection errors")
    temperature: float = setting(at_least(0, number), 0.0, "sampling temperature")
    seed: int = setting(whole_number, 0, "sampling seed, where the server supports it")
    include: list[str] = setting(glob_list, [], "only review paths matching these globs")
    exclude: list[str] = setting(glob_list, [], "never review paths matching these globs")
    max_file_bytes: int = setting(at_least(0), 400_000, "skip files whose diff is larger than this")
    path_instructions: dict[str, str] = setting(glob_table, {}, "glob -> extra instructions for matching files")
    trusted_hosts: list[str] = setting(string_list, [], "hosts (host or host:port) that may receive your API key")
    model_aliases: dict[str, str] = setting(string_table, {}, "agent front-matter model alias -> model id")
    min_confidence: float | None = setting(fraction, None, "drop findings below this confidence")
    max_findings: int | None = setting(at_least(0), None, "show at most this many findings per run")
    max_findings_per_file: int | None = setting(at_least(0), None, "show at most this many findings per file")
    verify: bool = setting(boolean, False, "second request per chunk to confirm or reject findings")
    samples: int = setting(at_least(1), 1, "independent reviews per chunk, findings kept by vote")
    sample_share: float = setting(fraction, 0.5, "share of samples that must report a finding")
    baseline: str = setting(string, ".reviewbot-baseline.json", "baseline file of accepted findings")
    post_review: bool = setting(boolean, False, "ci: post a pull-request review")
    secret_scan: bool = setting(boolean, True, "report committed secrets locally, without a model")
    max_requests: int = setting(at_least(1), 500, "most requests one run may plan; a larger plan stops with exit 2")
    context: bool = setting(boolean, True, "show the code the change depends on (definitions, callers) as context")
    context_budget: float = setting(fraction, 0.2, "share of max_request_tokens that context may take")
    tools: bool = setting(boolean, False, "let the model read, search and list the reviewed revision through tools")

    # Not keys: where each value came from, the loader's warnings, the API key (from the environment only).
    # origins: key -> "default", "user config (path)", "repository (.reviewbot.toml)", "env X", "command line"
    origins: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False)

    @property
    def values(self) -> Mapping[str, Any]:
        """Every key's value by name (the loader's view; the plan cache keys on it)."""
        return {name: getattr(self, name) for name in KEYS}

    @property
    def fail_on_severity(self) -> Severity | None:
        return None if self.fail_on == "never" else Severity.parse(self.fail_on)

    @property
    def agent_refs(self) -> list[str]:
        return list(self.agents) or [self.agent]


# Every config key, derived from Settings' fields: name -> how to read it, its default and its help.
KEYS: dict[str, Key] = {
    f.name: Key(f.name, f.metadata["convert"], f.metadata["default"], f.metadata["help"])
    for f in fields(Settings)
    if "convert" in f.metadata
}


def choices_of(name: str) -> tuple[str, ...]:
    """The allowed values of a choice key (for click.Choice and the docs); () for any other key."""
    convert = KEYS[name].convert
    return convert.options if isinstance(convert, Choice) else ()
