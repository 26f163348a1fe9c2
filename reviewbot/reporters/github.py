"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

The runner treats any output line that starts with `::` as a command, and model text is shaped by whoever wrote
the pull request. Escaping CR and LF (as actions/toolkit does) keeps every piece of model text inside the line of
our own annotation, so it can never start a command such as `::add-mask::` or `::stop-commands::`.
"""

from __future__ import annotations

from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters.base import TOOL_NAME, ReportOptions, encodable, one_line, plural, sanitize_terminal

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Message escaping of actions/toolkit `command.ts` (`escapeData`): `%` first, then CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Property-value escaping of `command.ts` (`escapeProperty`): as for data, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def unescape_data(text: str) -> str:
    """The runner's inverse of `escape_data` (used by tests and by anyone reading our output back)."""
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def unescape_property(text: str) -> str:
    return text.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def command(name: str, message: str, properties: dict[str, str] | None = None) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in (properties or {}).items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    title = f"{TOOL_NAME}: {one_line(finding.category) or 'general'}"
    if finding.agent:
        title += f" ({one_line(finding.agent)})"
    properties = {"file": encodable(finding.path), "line": str(finding.line)}
    if finding.last_line != finding.line:
        properties["endLine"] = str(finding.last_line)
    properties["title"] = title
    message = sanitize_terminal(finding.message).strip()
    if finding.suggestion and finding.suggestion.strip():
        message += "\n\nSuggestion:\n" + sanitize_terminal(finding.suggestion).strip("\n")
    return command(COMMANDS[finding.severity], message, properties)


def _limits(result: ReviewResult, limit: int) -> dict[Severity, int]:
    """How many annotations of each type to print. When some must be left out, one notice slot is kept free
    for our own notice saying so (it counts against the notice limit like any other)."""
    limit = max(limit, 1)
    limits = dict.fromkeys(Severity, limit)
    if any(sum(1 for f in result.findings if f.severity is sev) > limit for sev in Severity):
        limits[Severity.INFO] = limit - 1
    return limits


def render_github(result: ReviewResult, options: ReportOptions) -> str:
    limits = _limits(result, options.annotation_limit)
    printed = dict.fromkeys(Severity, 0)
    lines: list[str] = []
    left_out: list[Finding] = []
    for finding in result.findings:
        if printed[finding.severity] < limits[finding.severity]:
            printed[finding.severity] += 1
            lines.append(annotation(finding))
        else:
            left_out.append(finding)
    if left_out:
        kinds = ", ".join(
            plural(n, sev.label)
            for sev in sorted(Severity, reverse=True)
            if (n := sum(1 for f in left_out if f.severity is sev))
        )
        lines.append(
            command(
                "notice",
                f"{TOOL_NAME}: {plural(len(left_out), 'more finding')} ({kinds}) not shown as annotations: "
                f"GitHub shows at most {options.annotation_limit} annotations of each type per step. "
                "Every finding is in the job summary and the report files.",
                {"title": f"{TOOL_NAME}: annotations left out"},
            )
        )
    return "\n".join(lines) + "\n" if lines else ""
