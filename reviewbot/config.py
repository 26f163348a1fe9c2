"""Layered settings: defaults < user file < repository file < REVIEWBOT_* environment < command line.

Config keys are exactly the long option names with '_' for '-'. Every value remembers where it came from,
which `reviewbot config` shows and the credential check relies on: a repository's own file is written by
whoever wrote the repository, so it may not send the user's key to a host the user never trusted.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from reviewbot.errors import ConfigError
from reviewbot.models import Severity
from reviewbot.sources import FileSource

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


def _choice(*options: str) -> Callable[[Any], str]:
    def convert(v: Any) -> str:
        v = _str(v).strip().lower()
        if v not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return v

    return convert


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    convert: Callable[[Any], Any]
    default: Any
    help: str


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("model", _str, None, "model id sent to the endpoint"),
        Key("base_url", _str, None, "OpenAI-compatible endpoint, e.g. http://localhost:11434/v1"),
        Key("agent", _str, DEFAULT_AGENT, "agent name or path to an agent file"),
        Key("agents", _list, [], "several agents, each reviewing with its own persona"),
        Key("fail_on", _choice(*FAIL_ON), "error", "lowest severity that blocks: error, warning, info, never"),
        Key("on_error", _choice(*ON_ERROR), None, "when the review cannot complete: warn (exit 0) or fail (exit 3)"),
        Key("filter_mode", _choice(*FILTER_MODES), "added", "which findings count: added, diff_context, file, nofilter"),
        Key("format", _str, "text", "report format on stdout"),
        Key("standards", _list, None, "exactly these standards files instead of discovery"),
        Key("max_standards_chars", _at_least(0), 12000, "budget for standards text per request"),
        Key("context_lines", _at_least(0), 3, "unchanged lines shown around each change"),
        Key("max_request_tokens", _at_least(1), 16000, "token budget of one request, answer included"),
        Key("max_answer_tokens", _at_least(1), 4096, "tokens reserved for the model's answer"),
        Key("concurrency", _at_least(1), 4, "requests in flight at once"),
        Key("cache", _bool, True, "reuse answers for unchanged content"),
        Key("timeout", _positive, 120.0, "seconds to wait for one model answer"),
        Key("retries", _at_least(0), 3, "retries on 429, 5xx and connection errors"),
        Key("temperature", _at_least(0, _float), 0.0, "sampling temperature"),
        Key("seed", _int, 0, "sampling seed, where the server supports it"),
        Key("include", _list, [], "only review paths matching these globs"),
        Key("exclude", _list, [], "never review paths matching these globs"),
        Key("max_file_bytes", _int, 400_000, "skip files whose diff is larger than this"),
        Key("path_instructions", _table, {}, "glob -> extra instructions for matching files"),
        Key("trusted_hosts", _list, [], "hosts (host or host:port) that may receive your API key"),
        Key("model_aliases", _table, {}, "agent front-matter model alias -> model id"),
        Key("min_confidence", _fraction, None, "drop findings below this confidence"),
        Key("max_findings", _at_least(0), None, "show at most this many findings per run"),
        Key("max_findings_per_file", _at_least(0), None, "show at most this many findings per file"),
        Key("verify", _bool, False, "second request per chunk to confirm or reject findings"),
        Key("samples", _at_least(1), 1, "independent reviews per chunk, findings kept by vote"),
        Key("sample_share", _fraction, 0.5, "share of samples that must report a finding"),
        Key("baseline", _str, ".reviewbot-baseline.json", "baseline file of accepted findings"),
        Key("post_review", _bool, False, "ci: post a pull-request review"),
        Key("secret_scan", _bool, True, "report committed secrets locally, without a model"),
        Key("context", _bool, True, "show the code the change depends on (definitions, callers) as context"),
        Key("context_budget", _fraction, 0.2, "share of max_request_tokens that context may take"),
        Key("tools", _bool, False, "let the model read, search and list the reviewed revision through tools"),
    )
}

# Keys a repository may not set: they decide where the user's credentials and data go.
USER_ONLY_KEYS = frozenset({"trusted_hosts"})


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    origins: Mapping[str, str]  # key -> "default", "user config (path)", "repository (.reviewbot.toml)", "env X", "command line"
    warnings: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def fail_on_severity(self) -> Severity | None:
        return None if self.values["fail_on"] == "never" else Severity.parse(self.values["fail_on"])

    @property
    def agent_refs(self) -> list[str]:
        return list(self.values["agents"]) or [self.values["agent"]]


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "reviewbot" / "config.toml"


def _parse_toml(text: str, label: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML: {exc}") from None


def read_repo_config(source: FileSource | None) -> tuple[dict, str | None]:
    """The repository's table and its label: .reviewbot.toml wins over pyproject.toml's [tool.reviewbot]."""
    if source is None:
        return {}, None
    text = source.read_text(".reviewbot.toml")
    if text is not None:
        data = _parse_toml(text, ".reviewbot.toml")
        return data.get("tool", {}).get("reviewbot", data) if "tool" in data else data, ".reviewbot.toml"
    text = source.read_text("pyproject.toml")
    if text is not None:
        data = _parse_toml(text, "pyproject.toml")
        table = data.get("tool", {}).get("reviewbot")
        if isinstance(table, dict):
            return table, "pyproject.toml [tool.reviewbot]"
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
    origins: dict[str, str] = {k: "default" for k in KEYS}
    for k, v in (command_defaults or {}).items():
        values[k], origins[k] = v, "default for this command"
    warnings: list[str] = []

    def apply(layer: Mapping[str, Any], label: str, *, repo: bool = False) -> None:
        for name, raw in layer.items():
            if isinstance(raw, tuple) and len(raw) == 2 and isinstance(raw[1], str) and raw[1].startswith("env "):
                raw, where = raw
            else:
                where = label
            key = KEYS.get(name.replace("-", "_"))
            if key is None:
                warnings.append(f"unknown setting '{name}' in {where} (ignored)")
                continue
            if repo and key.name in USER_ONLY_KEYS:
                warnings.append(f"'{name}' in {where} is ignored: only your own settings may trust hosts")
                continue
            try:
                values[key.name] = key.convert(raw)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"setting '{name}' in {where}: {exc}") from None
            origins[key.name] = where

    path = user_path or user_config_path()
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        data = _parse_toml(text, str(path))
        apply(data, f"user config ({path})")
    repo_table, repo_label = read_repo_config(repo_source)
    if repo_table:
        apply(repo_table, f"repository ({repo_label})", repo=True)
    apply(_env_layer(environ), "env")
    apply({k: v for k, v in (cli or {}).items() if v is not None and v != ()}, "command line")
    api_key = environ.get("REVIEWBOT_API_KEY") or environ.get("OPENAI_API_KEY") or None
    return Settings(values=values, origins=origins, warnings=tuple(warnings), api_key=api_key)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_for_endpoint(settings: Settings) -> str | None:
    """The API key to send to the configured endpoint, or ConfigError when the endpoint is not trusted.

    Endpoints named by the user (command line, environment, user config) are trusted. An endpoint from the
    repository's own config is trusted only if its host is in trusted_hosts or is OpenAI's; a loopback
    endpoint from the repository still gets a request, but never the user's key.
    """
    base_url = settings.values.get("base_url")
    origin = settings.origins.get("base_url", "default")
    if not base_url or not origin.startswith("repository"):
        return settings.api_key
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    hostport = f"{host}:{parts.port}" if parts.port else host
    trusted = {h.lower() for h in settings.values.get("trusted_hosts") or []}
    if host in TRUSTED_DEFAULT_HOSTS or host in trusted or hostport in trusted:
        return settings.api_key
    if _is_loopback(host):
        return None
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
