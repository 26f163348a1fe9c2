"""Loading the settings in layers: defaults < user file < repository file < REVIEWBOT_* environment < command line.

Every value remembers where it came from, which `reviewbot config` shows and the credential check
(endpoint_trust.py) relies on: a repository's own file is written by whoever wrote the repository. So:
- `base_url`, `model` and `model_aliases` (USER_FIRST_KEYS) are taken from the user's own settings (command line,
  environment, user config) before the repository's: the repository's value applies only when the user set none.
- A repository may not set USER_ONLY_KEYS (`trusted_hosts`) at all.
- A repository may lower cost settings but not raise them above REPO_CAPS (a larger value is clamped, with a
  warning); the user's own settings are not capped. `max_requests` bounds the requests one run may plan.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reviewbot.adapters.repository_files import FileSource
from reviewbot.config.converters import quoted
from reviewbot.config.settings import KEYS, Settings
from reviewbot.core.errors import ConfigError

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


def _parse_toml(text: str, label: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label} is not valid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep exhaust tomllib's stack
        raise ConfigError(f"{label} is nested too deeply to read; fix the file") from None


def read_repo_config(source: FileSource | None) -> tuple[dict[str, object], str | None]:
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


def _read_user_config(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return _parse_toml(text, str(path))


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
                warnings.append(f"unknown setting {quoted(str(name))} in {where} (ignored)")
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
        apply(_read_user_config(path), f"user config ({path})")
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
