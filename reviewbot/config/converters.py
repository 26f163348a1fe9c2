"""How a raw setting becomes a typed value: one converter per kind of key.

A raw value comes from a TOML file (already typed: str, int, bool, list, table), from the environment or from the
command line (a string). Each converter returns the value in the type its Settings field declares, or raises
ValueError saying what was expected; the loader names the key and where the value came from around that sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

MAX_LIST_ITEMS = 500  # globs, standards files: every changed file is matched against each, so a bound is a time bound


def string(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("expected a string")
    return v


def whole_number(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("expected a whole number")
    if isinstance(v, str):
        v = v.strip().replace("_", "")
    return int(v)


def number(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("expected a number")
    return float(v)


def at_least(low: float, convert: Callable[[Any], Any] = whole_number) -> Callable[[Any], Any]:
    """A converter for numbers of at least `low` (whole numbers unless `convert` says otherwise)."""

    def check(v: Any) -> Any:
        value = convert(v)
        if not value >= low or value != value or value in (float("inf"), float("-inf")):  # also NaN and inf
            raise ValueError(f"expected a finite number of at least {low:g}")
        return value

    return check


def positive(v: Any) -> float:
    value = number(v)
    if not 0 < value < float("inf"):
        raise ValueError("expected a number above 0")
    return value


def fraction(v: Any) -> float:
    value = number(v)
    if not 0.0 <= value <= 1.0:
        raise ValueError("expected a number from 0 to 1")
    return value


def boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def string_list(v: Any) -> list[str]:
    """A list of strings, or one comma-separated string (the environment's and the command line's form)."""
    if isinstance(v, str):
        return [p.strip() for p in v.split(",") if p.strip()]
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return list(v)
    raise ValueError("expected a list of strings")


def string_table(v: Any) -> dict[str, str]:
    if isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        return dict(v)
    raise ValueError("expected a table of strings")


def http_url(v: Any) -> str:
    text = string(v).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host, e.g. https://api.openai.com/v1")
    try:
        _ = parts.port  # reading it checks the port
    except ValueError:
        raise ValueError("the URL's port is not a number from 0 to 65535") from None
    return text


def bounded_list(v: Any) -> list[str]:
    items = string_list(v)
    if len(items) > MAX_LIST_ITEMS:
        raise ValueError(f"expected at most {MAX_LIST_ITEMS} entries, not {len(items)}")
    return items


def glob_list(v: Any) -> list[str]:
    return [_valid_glob(p) for p in bounded_list(v)]


def glob_table(v: Any) -> dict[str, str]:
    table = string_table(v)
    if len(table) > MAX_LIST_ITEMS:
        raise ValueError(f"expected at most {MAX_LIST_ITEMS} entries, not {len(table)}")
    for pattern in table:
        _valid_glob(pattern)
    return table


def _valid_glob(pattern: str) -> str:
    from reviewbot.pipeline.skip import glob_problem

    problem = glob_problem(pattern)
    if problem:
        raise ValueError(f"the glob {quoted(pattern)!s} is not valid ({problem})")
    return pattern


def quoted(text: str) -> str:
    """A name from a config file, in quotes and safe for one terminal line."""
    from reviewbot.adapters.repository_files import shown

    return "'" + shown(text) + "'"


def report_format(v: Any) -> str:
    from reviewbot.reporters import REPORTERS  # a table of names; the reporters themselves load lazily

    value = string(v).strip().lower()
    if value not in REPORTERS:
        raise ValueError(f"expected one of {', '.join(sorted(REPORTERS))}")
    return value


class Choice:
    """A converter that accepts one of `options` (any case). The allowed values of a choice key are declared here,
    once: the loader checks them, click offers them (`choices_of`), `reviewbot init` lists them."""

    __slots__ = ("options",)

    def __init__(self, options: tuple[str, ...]) -> None:
        self.options = options

    def __call__(self, v: Any) -> str:
        value = string(v).strip().lower()
        if value not in self.options:
            raise ValueError(f"expected one of {', '.join(self.options)}")
        return value


def choice(*options: str) -> Choice:
    return Choice(options)
