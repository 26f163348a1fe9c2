"""What every reporter shares: the options, the blocking rule and the cleaning of untrusted text.

Everything a reporter prints that came from the model (messages, suggestions, categories, quotes) or from the
repository (paths, reasons) is untrusted: a pull request can shape it. Reporters for terminals and Markdown pass it
through `sanitize_terminal`; data formats (JSON, SARIF, XML) keep it intact and rely on their own escaping.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from reviewbot import __version__
from reviewbot.core.models import Finding, ReviewResult, Severity

TOOL_NAME = "reviewbot"


@dataclass(frozen=True, slots=True)
class ReportOptions:
    fail_on: Severity | None = Severity.ERROR  # None means "never block"
    color: bool = False
    tool_version: str = __version__
    annotation_limit: int = 10  # github: the runner shows 10 annotations per type per step
    project_url: str = ""  # informationUri (SARIF) and source.url (rdjson) when known


def is_blocking(finding: Finding, options: ReportOptions) -> bool:
    from reviewbot.core.blocking import is_blocking as blocks

    return blocks(finding, options.fail_on)


def blocking_findings(findings: Iterable[Finding], options: ReportOptions) -> tuple[Finding, ...]:
    return tuple(f for f in findings if is_blocking(f, options))


def result_blocks(result: ReviewResult, options: ReportOptions) -> bool:
    """The verdict: held-back findings count too, the budget only hides them."""
    return any(is_blocking(f, options) for f in result.all_findings)


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """Counts for every level, highest first, zeros included."""
    counts = Counter(f.severity for f in findings)
    return {sev: counts.get(sev, 0) for sev in sorted(Severity, reverse=True)}


def dropped_totals(result: ReviewResult) -> dict[str, int]:
    """`result.dropped` summed per reason, in order of first appearance."""
    totals: dict[str, int] = {}
    for reason, count in result.dropped:
        totals[reason] = totals.get(reason, 0) + count
    return totals


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (plural_noun or noun + 's')}"


# Escape sequences first (so their parameters go too), then single control characters.
_ESCAPE_SEQUENCES = re.compile(
    r"""
      \x1b\[ [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?          # CSI: colours, cursor moves, erase
    | \x9b [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?            # 8-bit CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|(?=\n)|$)   # OSC, DCS, SOS, PM, APC
    | \x1b [\x20-\x2f]* [\x30-\x7e]?                         # other ESC sequences (reset, charset, keypad)
    """,
    re.VERBOSE,
)
# C0 controls except \t and \n, DEL, C1 controls, and the bidirectional overrides/isolates that can make text
# display in an order different from the one it is read in ("Trojan Source").
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def sanitize_terminal(text: str) -> str:
    """Remove control characters and ANSI/OSC escape sequences from untrusted text; keep newlines and tabs.

    A carriage return is removed too: on a terminal it lets later text overwrite what came before it. Lone
    surrogates (undecodable bytes carried through surrogateescape) become U+FFFD so the text can be encoded.
    """
    text = _ESCAPE_SEQUENCES.sub("", text)
    text = _CONTROL_CHARS.sub("", text)
    return _LONE_SURROGATES.sub("\ufffd", text)


def encodable(text: str) -> str:
    """Lone surrogates (from undecodable bytes) replaced with U+FFFD, so the text encodes as UTF-8."""
    return _LONE_SURROGATES.sub("\ufffd", text)


def one_line(text: str) -> str:
    """Sanitized text squeezed onto a single line (for paths, reasons and other short fields)."""
    return " ".join(sanitize_terminal(text).split())


# GitHub's runner reads a line as a command when its first non-blank characters are `::`, and (legacy syntax) when
# `##[name]` appears anywhere in it; Azure Pipelines does the same with `##vso[`.
_CI_LEGACY_COMMAND = re.compile(r"(##(?:vso)?)\[", re.IGNORECASE)
_CI_LINE_COMMAND = re.compile(r"^([^\S\n]*):(?=:)", re.MULTILINE)


def defuse_ci_commands(text: str, *, bracket: str = "\u200b[", colon: str = ":\u200b") -> str:
    """Untrusted text that CI runners cannot mistake for a workflow command, whatever line it ends up on.

    The `[` of `##[` and the first `:` of a line-leading `::` are rewritten: by default with a zero-width space
    that a reader does not see; data formats pass their own escape for the same character instead.
    """
    text = _CI_LEGACY_COMMAND.sub(lambda m: m.group(1) + bracket, text)
    return _CI_LINE_COMMAND.sub(lambda m: m.group(1) + colon, text)


# Outside string literals JSON holds only ASCII, so any of these characters is inside a string and may be written
# as a \u escape: C1 controls (8-bit CSI and friends that terminals honour), line/paragraph separators (which break
# JavaScript consumers), bidi controls, and lone surrogates that could not be encoded as UTF-8 at all.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def dump_json(data: object, *, indent: int | None = 2) -> str:
    """JSON that keeps non-ASCII text readable yet is safe to print on a terminal and to encode as UTF-8."""
    separators = None if indent is not None else (",", ":")
    text = json.dumps(data, indent=indent, ensure_ascii=False, separators=separators)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    # `##[` can only occur inside a string: its bracket written as an escape keeps the value intact.
    return defuse_ci_commands(text, bracket="\\u005b", colon="\\u003a")
