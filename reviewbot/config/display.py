"""Settings as the user sees and writes them: secrets masked for `reviewbot config`, values as TOML literals for
`reviewbot config` and `reviewbot init`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit


def mask(name: str, value: Any) -> Any:
    """`value` fit to show: credentials inside base_url, and any value of a key named like a secret, as ****."""
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
