"""What a comment says (neutralised model text, suggestion blocks, the hidden fingerprint marker) and reading the
comments already there."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reviewbot.adapters.github import (
    _BACKTICK_RUN,
    _FENCE_RUN,
    _MARKER,
    _MARKER_AT_END,
    _MARKER_IN_LIST,
    _MENTION,
    _RESOLVED,
    _SUGGESTION_FENCE,
)
from reviewbot.core.models import Finding
from reviewbot.reporters.base import sanitize_terminal
from reviewbot.reporters.suggestion import advice, advice_heading, replacement


def neutralise(text: str) -> str:
    """Model text made harmless for a GitHub comment while keeping its Markdown.

    GitHub sanitises HTML itself; what is left to stop is text that pings people (@user, @org/team), HTML comments
    (which could hide the rest of our comment or imitate our marker) and code fences that would swallow what follows.
    """
    text = sanitize_terminal(text)
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    text = _FENCE_RUN.sub(lambda m: "\\" + "\\".join(m.group(1)), text)
    return _MENTION.sub("@\u200b", text)


def _inline(text: str) -> str:
    """Untrusted text for our header line: one line, no Markdown or HTML of its own."""
    from reviewbot.reporters.markdown import escape_inline

    return escape_inline(text, 100)


def fence(code: str, info: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside, as GitHub requires for suggestions."""
    longest = max((len(m.group()) for m in _BACKTICK_RUN.finditer(code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{code}\n{ticks}"


def comment_body(finding: Finding, fp: str, *, suggestion_block: bool = True) -> str:
    header = f"**{finding.severity.label}** \u00b7 {_inline(finding.category) or 'general'}"
    if finding.agent:
        header += f" \u00b7 {_inline(finding.agent)}"
    parts = [header, "", neutralise(finding.message).strip()]
    # Only code written for exactly these lines becomes a block GitHub can apply; prose is advice (suggestion.py).
    suggestion = sanitize_terminal(replacement(finding) or "").removesuffix("\n")
    advised = advice(finding)
    if advised is not None:
        parts += ["", f"**{advice_heading(finding)}:**", "", fence(sanitize_terminal(advised).strip("\n"))]
    elif suggestion.strip():
        if suggestion_block:
            parts += ["", fence(suggestion, "suggestion")]
        else:
            lines = f"lines {finding.line}\u2013{finding.last_line}" if finding.last_line != finding.line else \
                f"line {finding.line}"
            parts += ["", f"Suggested replacement for {lines}:", "", fence(suggestion)]
    parts += ["", "<sub>reviewbot</sub>", _MARKER.format(fp)]
    return "\n".join(parts)


def _retired_body(old_body: str, fp: str, note: str) -> str:
    """A comment we no longer stand by: a struck-through note, the old text folded away, no live suggestion."""
    previous = _MARKER_AT_END.sub("", old_body).rstrip()
    previous = _SUGGESTION_FENCE.sub(r"\1", previous)  # a plain code block: nothing left to apply
    return "\n".join([_RESOLVED, note, "", "<details><summary>Previous comment</summary>", "", previous, "",
                      "</details>", _MARKER.format(fp)])


def body_entry(finding: Finding, fp: str) -> str:
    """One list item of the review body for a finding that has no diff line to sit on."""
    from reviewbot.reporters.markdown import escape_inline

    where = escape_inline(f"{finding.path}:{finding.line}")
    what = escape_inline(finding.message, 500)
    return f"- **{finding.severity.label}** {where} ({escape_inline(finding.category, 100)}): {what} " \
           + _MARKER.format(fp)




@dataclass(frozen=True, slots=True)
class ExistingComment:
    id: int
    path: str
    line: int | None  # GitHub's current line; None when the comment is outdated
    fingerprint: str
    resolved: bool
    body: str


# A comment or review as GitHub's API sends it (JSON): every field is read defensively where it is used.
def is_ours(item: Mapping[str, Any], login: str | None) -> bool:
    """Written by the account that runs reviewbot: the given login, else any GitHub App / Actions bot."""
    user = item.get("user") or {}
    name = str(user.get("login") or "")
    if login:
        return name == login
    return name.endswith("[bot]") or user.get("type") == "Bot"


def read_comment(item: Mapping[str, Any]) -> ExistingComment | None:
    body = str(item.get("body") or "")
    match = _MARKER_AT_END.search(body)
    if not match:
        return None
    line = item.get("line")
    return ExistingComment(id=int(item["id"]), path=str(item.get("path") or ""),
                           line=line if isinstance(line, int) else None, fingerprint=match.group(1),
                           resolved=body.startswith(_RESOLVED), body=body)


def body_fingerprints(review_bodies: Iterable[str]) -> set[str]:
    return {m.group(1) for body in review_bodies for m in _MARKER_IN_LIST.finditer(body or "")}
