"""Where a finding's comment goes on the pull request (a diff line GitHub shows, or the review body) and its stable
fingerprint."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.core.models import Diff, FileDiff, Finding


def _slug(category: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-") or "general"


def _squash(text: str) -> str:
    return " ".join(text.split())


def flagged_text(finding: Finding, diff: Diff) -> str:
    """What the finding points at: the flagged line's code, else the model's quote, else (last resort) its message."""
    f = diff.file(finding.path)
    line_text = f.new_line_text(finding.line) if f else None
    if line_text is not None and line_text.strip():
        return "line:" + _squash(line_text)
    if finding.quote and finding.quote.strip():
        return "line:" + _squash(finding.quote)
    return "message:" + _squash(finding.message)


def fingerprints(findings: Sequence[Finding], diff: Diff) -> list[str]:
    """One fingerprint per finding, independent of line numbers and wording; repeats made distinct in order."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        parts = ("reviewbot-pr/v1", finding.path, finding.agent, _slug(finding.category), flagged_text(finding, diff))
        base = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else hashlib.sha256(f"{base}/{n}".encode()).hexdigest()[:32])
    return out


@dataclass(frozen=True, slots=True)
class Placement:
    line: int
    start_line: int | None = None  # set when the comment spans lines
    whole_range: bool = True  # False when only the first line could be placed (no suggestion block then)


def placement(finding: Finding, f: FileDiff | None) -> Placement | None:
    """Where on the pull request's RIGHT side a comment can go: lines GitHub shows, inside one hunk."""
    if f is None or f.status == "deleted" or f.is_binary:
        return None
    for hunk in f.hunks:
        shown = set(hunk.new_lines)
        if finding.line not in shown:
            continue
        last = finding.last_line
        if last != finding.line and all(n in shown for n in range(finding.line, last + 1)):
            return Placement(line=last, start_line=finding.line)
        return Placement(line=finding.line, whole_range=last == finding.line)
    return None
