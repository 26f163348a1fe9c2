"""YAML front matter (`---` ... `---` at the top of a Markdown file), read the way hand-written files need.

Agent files, Copilot `.instructions.md` and Cursor `.mdc` rules all start with a front-matter block, and many
real ones are not strict YAML: Claude Code's own agent wizard writes descriptions such as
`description: Use this agent when... Examples: <example>Context: ...` (an unquoted `: ` inside a plain value),
and Cursor rules say `globs: *.ts, *.tsx` (a `*` that YAML reads as an alias). Strict YAML is tried first; when
it fails, single-line `key: value` entries are quoted and parsed again. Anything still unreadable, such as an
unclosed `[` or `"`, is a ConfigError naming the file.

Most front matter is only `key: plain text` lines (every bundled agent's is). Those are read without PyYAML, which
costs ~10 ms to import on every run, but only when YAML itself would read each value as exactly that string (see
`_simple_mapping`); anything else goes to PyYAML as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reviewbot.core.errors import ConfigError

_FENCE = re.compile(r"^---[ \t]*$")
_KEY_LINE = re.compile(r"^([A-Za-z_][\w.-]*):(?:[ \t]+(.*?))?[ \t]*$")
# Values that start like YAML syntax were meant as YAML; quoting them would hide a real mistake.
_STRUCTURAL_STARTS = ("[", "{", '"', "'", "|", ">")
# `key: text` where YAML reads the key and the text as plain strings: printable ASCII, the text starting with a letter
# (a digit, sign, dot or indicator could make it a number, date, alias, tag, quoted or block scalar).
_SIMPLE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*): +([A-Za-z][\x20-\x7e]*)")
# Plain words YAML 1.1 (PyYAML) reads as booleans or null, in any letter case to stay on the safe side.
_NOT_STRINGS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})


def split_front_matter(text: str, *, path: str) -> tuple[dict[str, Any] | None, str]:
    """Return (front matter mapping, body). The mapping is None when the text has no front matter."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or not _FENCE.match(lines[0]):
        return None, text
    for end in range(1, len(lines)):
        if _FENCE.match(lines[end]):
            break
    else:
        raise ConfigError(f"{path}: the front matter opened by '---' on line 1 is never closed by another '---'.")
    block = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :])
    return _load_mapping(block, path=path), body


def _load_mapping(block: str, *, path: str) -> dict[str, Any]:
    simple = _simple_mapping(block)
    if simple is not None:
        return simple
    import yaml  # PyYAML; imported here so that `reviewbot --help` stays fast

    try:
        data = yaml.safe_load(block)
    except RecursionError:  # nesting deep enough to exhaust the parser's stack: a repository file can do that
        raise ConfigError(f"{path}: the front matter is nested too deeply to read.") from None
    except yaml.YAMLError:
        lenient = _quote_plain_values(block)
        try:
            data = yaml.safe_load(lenient)
        except RecursionError:
            raise ConfigError(f"{path}: the front matter is nested too deeply to read.") from None
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            # Line numbers still match the file only when no continuation lines were folded together.
            same_lines = lenient.count("\n") == block.count("\n")
            line = f" (line {where.line + 2})" if where is not None and same_lines else ""
            raise ConfigError(f"{path}: the front matter is not valid YAML{line}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the front matter must be a list of 'key: value' lines.")
    try:
        return {str(k): v for k, v in data.items()}
    except RecursionError:  # a key that is a deeply nested structure
        raise ConfigError(f"{path}: the front matter is nested too deeply to read.") from None


def _simple_mapping(block: str) -> dict[str, Any] | None:
    """The mapping of a block made only of `key: plain text` lines (and empty lines), exactly as yaml.safe_load
    reads it; None when any line is something else, so that PyYAML decides.

    Accepted lines hold nothing YAML treats specially in a one-line plain scalar: no tab, no `: ` or trailing `:`
    (a nested mapping, or an error), no ` #` (a comment), no boolean or null word as the whole key or value.
    Spaces inside a value are kept and trailing ones dropped, as YAML does; a repeated key keeps its first
    position and its last value, as safe_load's mapping does.
    """
    out: dict[str, Any] = {}
    for line in block.split("\n"):
        if not line:
            continue
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.group(1), match.group(2).rstrip(" ")
        if (": " in value or value.endswith(":") or " #" in value
                or key.lower() in _NOT_STRINGS or value.lower() in _NOT_STRINGS):
            return None
        out[key] = value
    return out


def _quote_plain_values(block: str) -> str:
    """Rewrite top-level `key: plain text` entries (with indented continuation lines) as quoted YAML strings."""
    lines = block.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _KEY_LINE.match(lines[i])
        value = match.group(2) if match else None
        if not match or not value or value.startswith(_STRUCTURAL_STARTS):
            out.append(lines[i])
            i += 1
            continue
        parts = [value]
        i += 1
        # A plain value may continue on indented lines; YAML folds them with single spaces.
        while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
            parts.append(lines[i].strip())
            i += 1
        # JSON string syntax is a subset of YAML's double-quoted style.
        out.append(f"{match.group(1)}: {json.dumps(' '.join(parts), ensure_ascii=False)}")
    return "\n".join(out)


def text_value(value: object) -> str | None:
    """A front-matter scalar as text (YAML may have read `name: 2024` as a number); None when absent or not scalar."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()
