"""Reviewdog Diagnostic Format: `rdjson` (one DiagnosticResult) and `rdjsonl` (one Diagnostic per line).

Ranges are line-wise. reviewdog's Range documentation says that when both start and end omit the column the range
is "linewise and includes the end line", and its GitHub reporter turns such a range into a comment on lines
start..end and accepts a line-based suggestion only when the suggestion's range equals the comment's. So a finding
on lines L..E is `start {line: L}, end {line: E}`, and its suggestion (the text replacing those whole lines) uses
the same range. Adding columns would make the range character-wise with an exclusive end, which we cannot fill in
without the file's text.
"""

from __future__ import annotations

from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters.base import TOOL_NAME, ReportOptions, dump_json
from reviewbot.reporters.suggestion import advice, advice_heading, replacement

SEVERITIES = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


def _source(options: ReportOptions, agent: str = "") -> dict[str, str]:
    source = {"name": f"{TOOL_NAME}/{agent}" if agent else TOOL_NAME}
    if options.project_url:
        source["url"] = options.project_url
    return source


def diagnostic(finding: Finding, options: ReportOptions) -> dict[str, object]:
    line_range = {"start": {"line": finding.line}, "end": {"line": finding.last_line}}
    advised = advice(finding)
    message = finding.message + (f"\n\n{advice_heading(finding)}:\n{advised.strip(chr(10))}" if advised else "")
    result: dict[str, object] = {
        "message": message,
        "location": {"path": finding.path, "range": line_range},
        "severity": SEVERITIES[finding.severity],
        "source": _source(options, finding.agent),
        "code": {"value": finding.category},
    }
    code = replacement(finding)
    if code is not None:
        # Whole replacement lines; reviewdog adds the final newline itself. Prose never gets here (suggestion.py).
        result["suggestions"] = [{"range": line_range, "text": code.removesuffix("\n")}]
    return result


def render_rdjson(result: ReviewResult, options: ReportOptions) -> str:
    document = {
        "source": _source(options),
        "diagnostics": [diagnostic(f, options) for f in result.findings],
    }
    return dump_json(document) + "\n"


def render_rdjsonl(result: ReviewResult, options: ReportOptions) -> str:
    # Compact JSON has no raw newlines (they are escaped inside strings), so each diagnostic is exactly one line.
    return "".join(dump_json(diagnostic(f, options), indent=None) + "\n" for f in result.findings)
