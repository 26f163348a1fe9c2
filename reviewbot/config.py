"""Layered settings: defaults < user file < repository file < REVIEWBOT_* environment < command line.

Config keys are exactly the long option names with '_' for '-'. Every value remembers where it came from,
which `reviewbot config` shows and the credential check relies on: a repository's own file is written by
whoever wrote the repository, so it may not send the user's key to a host the user never trusted.

Three rules keep a repository from deciding where the user's data and money go:
- `base_url`, `model` and `model_aliases` (USER_FIRST_KEYS) are taken from the user's own settings (command line,
  environment, user config) before the repository's: the repository's value applies only when the user set none.
- A repository may lower cost settings but not raise them above REPO_CAPS (a larger value is clamped, with a
  warning); the user's own settings are not capped. `max_requests` bounds the requests one run may plan.
- The API key goes only over HTTPS, to loopback, or to a host in the user's trusted_hosts (see key_for_endpoint).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reviewbot.adapters.repository_files import FileSource
from reviewbot.core.errors import ConfigError
from reviewbot.core.models import Severity

FAIL_ON = ("error", "warning", "info", "never")
ON_ERROR = ("warn", "fail")
FILTER_MODES = ("added", "diff_context", "file", "nofilter")
DEFAULT_AGENT = "senior-backend-engineer"
TRUSTED_DEFAULT_HOSTS = ("api.openai.com",)


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("expected a string")
    return v


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("expected a whole number")
    if isinstance(v, str):
        v = v.strip().replace("_", "")
    return int(v)


def _float(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("expected a number")
    return float(v)


def _at_least(low: float, convert: Callable[[Any], Any] = _int) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        value = convert(v)
        if not value >= low or value != value or value in (float("inf"), float("-inf")):  # also NaN and inf
            raise ValueError(f"expected a finite number of at least {low:g}")
        return value

    return check


def _positive(v: Any) -> float:
    value = _float(v)
    if not 0 < value < float("inf"):
        raise ValueError("expected a number above 0")
    return value


def _fraction(v: Any) -> float:
    value = _float(v)
    if not 0.0 <= value <= 1.0:
        raise ValueError("expected a number from 0 to 1")
    return value


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _list(v: Any) -> list[str]:
    if isinstance(v, str):
        return [p.strip() for p in v.split(",") if p.strip()]
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return list(v)
    raise ValueError("expected a list of strings")


def _table(v: Any) -> dict[str, str]:
    if isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        return dict(v)
    raise ValueError("expected a table of strings")


def _url(v: Any) -> str:
    text = _str(v).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host, e.g. https://api.openai.com/v1")
    try:
        _ = parts.port  # reading it checks the port
    except ValueError:
        raise ValueError("the URL's port is not a number from 0 to 65535") from None
    return text


def _valid_glob(pattern: str) -> str:
    from reviewbot.pipeline.skip import glob_problem

    problem = glob_problem(pattern)
    if problem:
        raise ValueError(f"the glob {_shown(pattern)!s} is not valid ({problem})")
    return pattern


MAX_LIST_ITEMS = 500  # globs, standards files: every changed file is matched against each, so a bound is a time bound


def _bounded_list(v: Any) -> list[str]:
    items = _list(v)
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"expected at most {MAX_LIST_ITEMS} entries, not {len(items)}")
    return items


def _glob_list(v: Any) -> list[str]:
    return [_valid_glob(p) for p in _bounded_list(v)]


def _glob_table(v: Any) -> dict[str, str]:
    table = _table(v)
    if len(table) > MAX_LIST_ITEMS:
        raise ValueError(f"expected at most {MAX_LIST_ITEMS} entries, not {len(table)}")
    for pattern in table:
        _valid_glob(pattern)
    return table


def _shown(text: str) -> str:
    from reviewbot.adapters.repository_files import shown

    return "'" + shown(text) + "'"


def _format(v: Any) -> str:
    from reviewbot.reporters import REPORTERS  # a table of names; the reporters themselves load lazily

    value = _str(v).strip().lower()
    if value not in REPORTERS:
        raise ValueError(f"expected one of {', '.join(sorted(REPORTERS))}")
    return value


class _Choice:
    """A converter that accepts one of `options` (any case). The allowed values of a choice key are declared here,
    once: the loader checks them, click offers them (`choices_of`), `reviewbot init` lists them."""

    __slots__ = ("options",)

    def __init__(self, options: tuple[str, ...]) -> None:
        self.options = options

    def __call__(self, v: Any) -> str:
        value = _str(v).strip().lower()
        if value not in self.options:
            raise ValueError(f"expected one of {', '.join(self.options)}")
        return value


def _choice(*options: str) -> _Choice:
    return _Choice(options)


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

    model: str | None = setting(_str, None, "model id sent to the endpoint")
    base_url: str | None = setting(_url, None, "OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    agent: str = setting(_str, DEFAULT_AGENT, "agent name or path to an agent file")
    agents: list[str] = setting(_bounded_list, [], "several agents, each reviewing with its own persona")
    fail_on: str = setting(_choice(*FAIL_ON), "error", "lowest severity that blocks: error, warning, info, never")
    on_error: str | None = setting(_choice(*ON_ERROR), None, "when the review cannot complete: warn (exit 0) or fail (exit 3)")
    filter_mode: str = setting(_choice(*FILTER_MODES), "added", "which findings count: added, diff_context, file, nofilter")
    format: str = setting(_format, "text", "report format on stdout")
    standards: list[str] | None = setting(_bounded_list, None, "exactly these standards files instead of discovery")
    max_standards_chars: int = setting(_at_least(0), 12000, "budget for standards text per request")
    context_lines: int = setting(_at_least(0), 3, "unchanged lines shown around each change")
    max_request_tokens: int = setting(_at_least(1), 16000, "token budget of one request, answer included (unset: from the model's context window, up to 32000)")
    max_answer_tokens: int = setting(_at_least(1), 4096, "tokens reserved for the model's answer")
    context_window: int | None = setting(_at_least(1), None, "the model's context window in tokens (sets the request budget)")
    concurrency: int = setting(_at_least(1), 16, "most requests in flight at once (fewer while the server is busy)")
    cache: bool = setting(_bool, True, "reuse answers for unchanged content")
    timeout: float | None = setting(_positive, None, "seconds to wait for one model answer (default: 120 for hosted endpoints; for local ones 60 plus 1 per 8 answer tokens)")
    response_format: str = setting(_choice("auto", "json_schema", "json_object", "none"), "auto", "structured output to ask for: auto (json_schema, stepping down to json_object, then none), json_schema, json_object or none")
    retries: int = setting(_at_least(0), 3, "retries on 429, 5xx and connection errors")
    temperature: float = setting(_at_least(0, _float), 0.0, "sampling temperature")
    seed: int = setting(_int, 0, "sampling seed, where the server supports it")
    include: list[str] = setting(_glob_list, [], "only review paths matching these globs")
    exclude: list[str] = setting(_glob_list, [], "never review paths matching these globs")
    max_file_bytes: int = setting(_at_least(0), 400_000, "skip files whose diff is larger than this")
    path_instructions: dict[str, str] = setting(_glob_table, {}, "glob -> extra instructions for matching files")
    trusted_hosts: list[str] = setting(_list, [], "hosts (host or host:port) that may receive your API key")
    model_aliases: dict[str, str] = setting(_table, {}, "agent front-matter model alias -> model id")
    min_confidence: float | None = setting(_fraction, None, "drop findings below this confidence")
    max_findings: int | None = setting(_at_least(0), None, "show at most this many findings per run")
    max_findings_per_file: int | None = setting(_at_least(0), None, "show at most this many findings per file")
    verify: bool = setting(_bool, False, "second request per chunk to confirm or reject findings")
    samples: int = setting(_at_least(1), 1, "independent reviews per chunk, findings kept by vote")
    sample_share: float = setting(_fraction, 0.5, "share of samples that must report a finding")
    baseline: str = setting(_str, ".reviewbot-baseline.json", "baseline file of accepted findings")
    post_review: bool = setting(_bool, False, "ci: post a pull-request review")
    secret_scan: bool = setting(_bool, True, "report committed secrets locally, without a model")
    max_requests: int = setting(_at_least(1), 500, "most requests one run may plan; a larger plan stops with exit 2")
    context: bool = setting(_bool, True, "show the code the change depends on (definitions, callers) as context")
    context_budget: float = setting(_fraction, 0.2, "share of max_request_tokens that context may take")
    tools: bool = setting(_bool, False, "let the model read, search and list the reviewed revision through tools")

    # Not keys: where each value came from, the loader's warnings, the API key (from the environment only).
    origins: Mapping[str, str] = field(default_factory=dict)  # key -> "default", "user config (path)", "repository (.reviewbot.toml)", "env X", "command line"
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
    return convert.options if isinstance(convert, _Choice) else ()

# Keys a repository may not set: they decide where the user's credentials and data go.
USER_ONLY_KEYS = frozenset({"trusted_hosts"})
# Keys the user's own settings decide before the repository's (the repository's apply only when the user set none).
USER_FIRST_KEYS = frozenset({"base_url", "model", "model_aliases"})
# The most a repository's config may ask for; the user's own settings (user config, environment, command line) are
# not capped. Each bounds the requests, tokens or waiting one run can cost.
REPO_CAPS: dict[str, int | float] = {
    "samples": 3,
    "concurrency": 16,
    "retries": 5,
    "max_answer_tokens": 8192,
    "max_request_tokens": 64000,
    "max_standards_chars": 50000,
    "max_file_bytes": 1_000_000,
    "context_lines": 50,
    "timeout": 300.0,
    "max_requests": 500,
}
MAX_REPO_AGENTS = 4  # agents listed by a repository (each one reviews the whole diff again)


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "reviewbot" / "config.toml"


def _parse_toml(text: str, label: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep exhaust tomllib's stack
        raise ConfigError(f"{label} is nested too deeply to read; fix the file") from None


def read_repo_config(source: FileSource | None) -> tuple[dict, str | None]:
    """The repository's table and its label: .reviewbot.toml wins over pyproject.toml's [tool.reviewbot]."""
    if source is None:
        return {}, None
    text = source.read_text(".reviewbot.toml")
    if text is not None:
        data = _parse_toml(text, ".reviewbot.toml")
        if "tool" not in data:
            return data, ".reviewbot.toml"
        tool = data["tool"]
        table = tool.get("reviewbot", data) if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(".reviewbot.toml: [tool] must be a table holding a [tool.reviewbot] table of settings; "
                              "fix the file")
        return table, ".reviewbot.toml"
    text = source.read_text("pyproject.toml")
    if text is not None:
        data = _parse_toml(text, "pyproject.toml")
        tool = data.get("tool", {})
        table = tool.get("reviewbot") if isinstance(tool, dict) else None
        if isinstance(table, dict):
            return table, "pyproject.toml [tool.reviewbot]"
        if table is not None:
            raise ConfigError("pyproject.toml: tool.reviewbot must be a table of settings ([tool.reviewbot]); "
                              "fix the file")
    return {}, None


def _env_layer(environ: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    out: dict[str, tuple[Any, str]] = {}
    for name in KEYS:
        var = "REVIEWBOT_" + name.upper()
        if var in environ and environ[var] != "":
            out[name] = (environ[var], f"env {var}")
    if "base_url" not in out and environ.get("OPENAI_BASE_URL"):
        out["base_url"] = (environ["OPENAI_BASE_URL"], "env OPENAI_BASE_URL")
    return out


def load_settings(
    *,
    repo_source: FileSource | None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_path: Path | None = None,
    command_defaults: Mapping[str, Any] | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {k: v.default for k, v in KEYS.items()}
    origins: dict[str, str] = dict.fromkeys(KEYS, "default")
    for k, v in (command_defaults or {}).items():
        values[k], origins[k] = v, "default for this command"
    warnings: list[str] = []

    def apply(layer: Mapping[str, Any], label: str, *, repo: bool = False) -> None:
        for name, raw in layer.items():
            if isinstance(raw, tuple) and len(raw) == 2 and isinstance(raw[1], str) and raw[1].startswith("env "):
                raw, where = raw
            else:
                where = label
            key = KEYS.get(name.replace("-", "_")) if isinstance(name, str) else None
            if key is None:
                warnings.append(f"unknown setting {_shown(str(name))} in {where} (ignored)")
                continue
            if repo and key.name in USER_ONLY_KEYS:
                warnings.append(f"'{name}' in {where} is ignored: only your own settings may trust hosts")
                continue
            try:
                value = key.convert(raw)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ConfigError(f"setting '{name}' in {where}: {exc}") from None
            if repo:
                value = _capped(key.name, value, where, warnings)
            values[key.name] = value
            origins[key.name] = where

    repo_table, repo_label = read_repo_config(repo_source)
    user_first = {k: v for k, v in repo_table.items() if isinstance(k, str) and k.replace("-", "_") in USER_FIRST_KEYS}
    if user_first:  # below the user's config: it applies only where the user set nothing
        apply(user_first, f"repository ({repo_label})", repo=True)
    path = user_path or user_config_path()
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        data = _parse_toml(text, str(path))
        apply(data, f"user config ({path})")
    rest = {k: v for k, v in repo_table.items() if k not in user_first}
    if rest:
        apply(rest, f"repository ({repo_label})", repo=True)
    apply(_env_layer(environ), "env")
    apply({k: v for k, v in (cli or {}).items() if v is not None and v != ()}, "command line")
    api_key = environ.get("REVIEWBOT_API_KEY") or environ.get("OPENAI_API_KEY") or None
    return Settings(**values, origins=origins, warnings=tuple(warnings), api_key=api_key)


def _capped(name: str, value: Any, where: str, warnings: list[str]) -> Any:
    """A repository's value, lowered to REPO_CAPS (and its agents list to MAX_REPO_AGENTS) with a warning."""
    cap = REPO_CAPS.get(name)
    if cap is not None and isinstance(value, (int, float)) and value > cap:
        warnings.append(f"'{name} = {value}' in {where} is above what a repository may ask for; using {cap:g} (set "
                        f"it in your own config, REVIEWBOT_{name.upper()} or on the command line to go higher)")
        return type(value)(cap)
    if name == "agents" and len(value) > MAX_REPO_AGENTS:
        warnings.append(f"{where} lists {len(value)} agents; a repository may list at most {MAX_REPO_AGENTS}, so only "
                        f"the first {MAX_REPO_AGENTS} review (name more in your own config or with --agent)")
        return list(value[:MAX_REPO_AGENTS])
    return value


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_for_endpoint(settings: Settings) -> str | None:
    """The API key to send to the configured endpoint, None to send none, or ConfigError when the repository's
    config names an endpoint the user has not trusted.

    The key travels only over HTTPS, to loopback, or to a host in the user's trusted_hosts: a plain-HTTP endpoint
    anywhere else gets the request without the key. Endpoints named by the user (command line, environment, user
    config) are otherwise trusted. An endpoint from the repository's own config is trusted only if its host is in
    trusted_hosts or is OpenAI's (over HTTPS); a loopback endpoint from the repository still gets a request, but
    never the user's key.
    """
    base_url = settings.values.get("base_url")
    origin = settings.origins.get("base_url", "default")
    if not base_url:
        return settings.api_key
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    hostport = f"{host}:{port}" if port else host
    trusted = {h.lower() for h in settings.values.get("trusted_hosts") or []}
    explicitly_trusted = host in trusted or hostport in trusted
    secure = parts.scheme.lower() == "https"
    if not origin.startswith("repository"):
        if secure or explicitly_trusted or _is_loopback(host):
            return settings.api_key
        return None  # plain HTTP to a host the user did not list in trusted_hosts: no key in clear text
    if explicitly_trusted or (host in TRUSTED_DEFAULT_HOSTS and secure):
        return settings.api_key
    if _is_loopback(host):
        return None
    if host in TRUSTED_DEFAULT_HOSTS:
        raise ConfigError(
            f"the repository's config sends reviews to {hostport} over plain HTTP, which would expose your API key; "
            f"use https:// (or set base_url in your own config)"
        )
    raise ConfigError(
        f"the repository's config sends reviews to {hostport}, which you have not trusted; to allow it, add "
        f'trusted_hosts = ["{hostport}"] to {user_config_path()} or set REVIEWBOT_TRUSTED_HOSTS={hostport}'
    )


def mask(name: str, value: Any) -> Any:
    if name == "base_url" and isinstance(value, str) and "@" in value:
        parts = urlsplit(value)
        if parts.username or parts.password:  # credentials inside the URL are secrets too
            return parts._replace(netloc=f"****@{parts.hostname}" + (f":{parts.port}" if parts.port else "")).geturl()
    return _mask_secret_names(name, value)


def _mask_secret_names(name: str, value: Any) -> Any:
    if value and isinstance(value, str) and any(s in name for s in ("key", "token", "secret", "password")):
        return "****"
    return value


def toml_literal(value: Any) -> str:
    """A TOML literal for the plain values config keys hold (all fit on one line); `reviewbot init`
    writes them and `reviewbot config` shows them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_literal(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
