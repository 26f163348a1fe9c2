"""Editor-friendly lines: `path:line: severity: message [agent/category]`, details indented below.

The first line of each finding stays parseable by editors and CI problem matchers (Vim `%f:%l: %m`, GNU
`file:line: message`), so everything optional (more message lines, confidence, re-anchoring, the suggestion)
goes on indented lines after it.
"""

from __future__ import annotations

from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters.base import ReportOptions, defuse_ci_commands, one_line, sanitize_terminal

INDENT = "    "

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_SEVERITY_COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}


def _paint(text: str, code: str, options: ReportOptions) -> str:
    return f"{code}{text}{_RESET}" if options.color else text


def tag(finding: Finding) -> str:
    """`[agent/category]`, or `[category]` when no agent is named."""
    category = one_line(finding.category) or "general"
    agent = one_line(finding.agent)
    return f"[{agent}/{category}]" if agent else f"[{category}]"


def location(finding: Finding) -> str:
    # A path with a newline in it must not start a line of its own: show the newline as an escape.
    path = sanitize_terminal(finding.path.replace("\n", "\\n").replace("\t", "\\t"))
    return f"{path}:{finding.line}"


def detail_notes(finding: Finding) -> str:
    """`(confidence 0.82) (moved from line 18)`, or empty."""
    notes = []
    if finding.confidence is not None:
        notes.append(f"(confidence {finding.confidence:.2f})")
    if finding.reanchored_from is not None and finding.reanchored_from != finding.line:
        notes.append(f"(moved from line {finding.reanchored_from})")
    return " ".join(notes)


def format_finding(finding: Finding, options: ReportOptions) -> list[str]:
    message_lines = [ln.rstrip() for ln in sanitize_terminal(finding.message).strip().splitlines()] or [""]
    severity = _paint(finding.severity.label, _SEVERITY_COLOURS[finding.severity], options)
    head = f"{_paint(location(finding), _BOLD, options)}: {severity}: {message_lines[0]}"
    lines = [f"{head} {_paint(tag(finding), _DIM, options)}"]
    lines.extend(INDENT + ln for ln in message_lines[1:] if ln.strip())
    notes = detail_notes(finding)
    if notes:
        lines.append(INDENT + notes)
    if finding.suggestion and finding.suggestion.strip():
        from reviewbot.reporters.suggestion import replacement

        lines.append(INDENT + ("suggestion:" if replacement(finding) is not None else "advice:"))
        lines.extend(INDENT * 2 + ln.rstrip() for ln in sanitize_terminal(finding.suggestion).strip("\n").splitlines())
    return lines


def render_text(result: ReviewResult, options: ReportOptions) -> str:
    lines = [ln for f in result.findings for ln in format_finding(f, options)]
    # Text is printed in CI logs too, where a runner must not read a model's words as a workflow command.
    return defuse_ci_commands("\n".join(lines)) + "\n" if lines else ""
