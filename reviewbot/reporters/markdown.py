"""Markdown for the GitHub step summary and pull-request review bodies.

Model and repository text goes through `escape_inline`: it cannot close a table cell, open HTML, start a link or
code span, or mention a user or team. The whole document stays under the step summary's 1 MiB limit: when it
would not, table rows and file lists are cut with a note saying how many were left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reviewbot.core.models import Finding, ReviewResult
from reviewbot.reporters.base import (
    TOOL_NAME,
    ReportOptions,
    blocking_findings,
    defuse_ci_commands,
    dropped_totals,
    plural,
    result_blocks,
    sanitize_terminal,
    severity_counts,
)
from reviewbot.reporters.suggestion import advice, advice_heading, replacement

SIZE_LIMIT = 1024 * 1024  # bytes; GitHub rejects a larger step summary
_SAFETY_MARGIN = 16 * 1024  # room for the truncation notes
MAX_CELL_CHARS = 1000  # one enormous message must not crowd out every other row

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]{}()#+!~|])")
_MENTION = re.compile(r"@(?=[\w-])")


def escape_inline(text: str, limit: int | None = None) -> str:
    """Untrusted text as inert inline Markdown on one line (safe in a table cell)."""
    text = " ".join(sanitize_terminal(text).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", text)
    # A zero-width space after "@" keeps the text readable but stops GitHub turning it into a mention.
    return _MENTION.sub("@\u200b", text)


def _size(lines: Iterable[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _fit(lines: list[str], budget: int) -> tuple[list[str], int]:
    """The longest prefix of `lines` within `budget` bytes, and how many lines were left out."""
    used = 0
    for i, line in enumerate(lines):
        used += len(line.encode("utf-8")) + 1
        if used > budget:
            return lines[:i], len(lines) - i
    return lines, 0


def _verdict(result: ReviewResult, options: ReportOptions) -> str:
    if options.fail_on is None:
        return "Blocking is off (`fail-on never`): this review never fails the check."
    blocking = blocking_findings(result.all_findings, options)
    threshold = options.fail_on.label
    if result_blocks(result, options):
        return f"**Blocking:** {plural(len(blocking), 'finding')} at or above `{threshold}`."
    return f"**Not blocking:** no findings at or above `{threshold}`."


def _counts(result: ReviewResult) -> str:
    if not result.findings:
        return "No findings."
    parts = [plural(n, sev.label) for sev, n in severity_counts(result.findings).items() if n]
    return f"{plural(len(result.findings), 'finding')}: {', '.join(parts)}."


def _location(finding: Finding) -> str:
    location = escape_inline(f"{finding.path}:{finding.line}")
    if finding.last_line != finding.line:
        location += f"\u2013{finding.last_line}"
    return location


def _multiline(suggestion: str | None) -> bool:
    return bool(suggestion and suggestion.strip() and "\n" in suggestion.strip("\n"))


def _row(finding: Finding, number: int | None = None) -> str:
    location = _location(finding)
    message = escape_inline(finding.message, MAX_CELL_CHARS)
    code, advised = replacement(finding), advice(finding)
    if number is not None:
        message += f"<br>**Suggested code:** below, {number}."
    elif code is not None:
        message += "<br>**Suggested code:** " + escape_inline(code, MAX_CELL_CHARS)
    elif advised is not None:
        message += f"<br>**{advice_heading(finding)}:** " + escape_inline(advised, MAX_CELL_CHARS)
    cells = [
        finding.severity.label,
        location,
        escape_inline(finding.category, 100),
        escape_inline(finding.agent, 100),
        message,
    ]
    return "| " + " | ".join(cells) + " |"


TABLE_HEAD = ("", "| Severity | Location | Category | Agent | Message |", "|---|---|---|---|---|")
MAX_SUGGESTION_CHARS = 4000


def _code_block(text: str) -> list[str]:
    """Untrusted text as a fenced code block it cannot close: the fence is longer than any backtick run in it.
    Inside a code block Markdown, HTML and mentions are inert."""
    text = defuse_ci_commands(sanitize_terminal(text).strip("\n"))  # the report may be printed in a CI log
    if len(text) > MAX_SUGGESTION_CHARS:
        text = text[:MAX_SUGGESTION_CHARS] + "\n\u2026"
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [fence, *text.splitlines(), fence]


def _suggestion_blocks(numbered: list[tuple[int, Finding]]) -> list[str]:
    lines = ["", "### Suggestions"]
    for number, finding in numbered:
        heading = f"**{number}.** {finding.severity.label} at {_location(finding)}:"
        lines += ["", heading, "", *_code_block(replacement(finding) or "")]
    return lines


def _entry(path: str, reason: str = "") -> str:
    return f"- {escape_inline(path)}: {escape_inline(reason, 300)}" if reason else f"- {escape_inline(path)}"


def _file_list(title: str, total: int, entries: list[str]) -> list[str]:
    return ["", f"<details><summary>{title} ({total:,})</summary>", "", *entries, "", "</details>"]


def _footer(result: ReviewResult, options: ReportOptions) -> list[str]:
    usage = result.usage
    bits = []
    if result.model:
        bits.append(f"Model {escape_inline(result.model)}")
    if result.agents:
        bits.append("agents " + ", ".join(escape_inline(a) for a in result.agents))
    requests = plural(usage.requests, "request")
    counts = (([f"{usage.failed:,} failed"] if usage.failed else [])
              + ([f"{usage.cached:,} cached"] if usage.cached else []))
    if counts:
        requests += f" ({', '.join(counts)})"
    bits.append(requests)
    bits.append(f"{usage.tokens_in:,} tokens in / {usage.tokens_out:,} out")
    bits.append(f"{TOOL_NAME} {escape_inline(options.tool_version)}")
    lines = ["", " \u00b7 ".join(bits)]
    notes = [f"{n:,} dropped ({escape_inline(reason)})" for reason, n in dropped_totals(result).items() if n]
    if result.held_back:
        notes.append(f"{len(result.held_back):,} held back by the findings budget (not listed, still counted)")
    if notes:
        lines += ["", "Not shown: " + "; ".join(notes) + "."]
    return lines


def render_markdown(result: ReviewResult, options: ReportOptions) -> str:
    title = f"## {TOOL_NAME} review"
    if result.description:
        title += f": {escape_inline(result.description, 200)}"
    head = [title, "", _verdict(result, options), "", _counts(result)]
    if result.coverage is not None:
        c = result.coverage
        head += ["", f"Sent to the model: {c.added_sent:,} of {c.added_reviewable:,} added lines of the files reviewed "
                     f"({c.added_total:,} in the whole diff; skipped files are listed below)."]
    if result.failed:
        head += ["", f"**Not reviewed:** {plural(len(result.failed), 'file')} could not be reviewed (listed below)."]
    foot = _footer(result, options)

    lists = [
        ("Files not reviewed (the review failed)", [_entry(s.path, s.reason) for s in result.failed]),
        ("Files skipped", [_entry(s.path, s.reason) for s in result.skipped]),
        ("Files partly sent",
         [_entry(s.path, s.reason) for s in (result.coverage.not_sent if result.coverage else ())]),
        ("Files reviewed", [_entry(p) for p in result.files_reviewed]),
    ]

    budget = SIZE_LIMIT - _SAFETY_MARGIN - _size(head) - _size(foot)
    body: list[str] = []
    if result.findings:
        # Errors first, then warnings, then info; the order within a severity is the report's own.
        ordered = sorted(result.findings, key=lambda f: f.severity, reverse=True)
        numbered = [(n, f) for n, f in enumerate((f for f in ordered if _multiline(replacement(f))), 1)]
        number_of = {id(f): n for n, f in numbered}
        rows, cut = _fit([_row(f, number_of.get(id(f))) for f in ordered], budget - _size(TABLE_HEAD))
        body += [*TABLE_HEAD, *rows]
        if cut:
            body += ["", f"_{plural(cut, 'more finding')} not listed here to stay under the 1 MiB limit; "
                         "see the other reports._"]
        shown = {id(f) for f in ordered[: len(rows)]}
        blocks = _suggestion_blocks([(n, f) for n, f in numbered if id(f) in shown]) if numbered else []
        if blocks and _size(body) + _size(blocks) <= budget - 4096:
            body += blocks
        elif blocks:
            body += ["", "_Suggestions left out to stay under the 1 MiB limit; see the other reports._"]
        budget -= _size(body)
    for heading, entries in lists:
        if not entries:
            continue
        more_note = 64  # room for the "and N more" line
        kept, cut = _fit(entries, budget - _size(_file_list(heading, len(entries), [])) - more_note)
        if cut:
            kept = [*kept, f"- \u2026 and {cut:,} more"]
        section = _file_list(heading, len(entries), kept)
        budget -= _size(section)
        body += section
    return "\n".join(head + body + foot) + "\n"
