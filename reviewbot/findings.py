"""Decide which of the model's findings are shown: anchor them to the diff, filter, deduplicate, budget.

Like reviewdog's diff filter, this is a pure function of (findings, parsed diff, mode). Nothing is dropped
silently: every removal is counted under a reason that the summary reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from reviewbot.models import Diff, FileDiff, Finding, Severity

FILTER_MODES = ("added", "diff_context", "file", "nofilter")


@dataclass(frozen=True, slots=True)
class Filtered:
    kept: tuple[Finding, ...]
    dropped: Counter  # reason -> count


def _squash(text: str) -> str:
    return "".join(text.split())


def _quote_matches(quote: str, line_text: str | None) -> bool:
    if line_text is None:
        return False
    q, t = _squash(quote), _squash(line_text)
    if not q:
        return False
    return q == t or (len(q) >= 8 and q in t)


def _resolve_path(path: str, diff: Diff) -> FileDiff | None:
    found = diff.file(path)
    if found is None and path[:2] in ("a/", "b/"):
        found = diff.file(path[2:])  # models sometimes copy git's a/ b/ prefixes
    if found is None:
        found = diff.file(path.lstrip("/"))
    return found


def anchor(finding: Finding, f: FileDiff, mode: str) -> Finding | None:
    """Check the finding's quote against its line; move it to the changed line that holds the quote, or give up.

    Returns the (possibly moved) finding, or None when a quote was given and no changed line holds it.
    """
    if not finding.quote:
        return finding
    if _quote_matches(finding.quote, f.new_line_text(finding.line)):
        return finding
    candidates = f.added_lines if mode == "added" else f.diff_lines
    # Nearest first; lines of the hunk the model cited win ties by being nearer.
    for number in sorted(candidates, key=lambda n: (abs(n - finding.line), n)):
        if _quote_matches(finding.quote, f.new_line_text(number)):
            span = (finding.end_line - finding.line) if finding.end_line else None
            return replace(
                finding,
                line=number,
                end_line=number + span if span is not None else None,
                reanchored_from=finding.line,
            )
    return None


def _on_diff(finding: Finding, f: FileDiff, mode: str) -> bool:
    if mode in ("file", "nofilter"):
        return True
    lines = f.added_lines if mode == "added" else f.diff_lines
    return any(n in lines for n in range(finding.line, finding.last_line + 1))


def filter_findings(findings: Iterable[Finding], diff: Diff, mode: str = "added") -> Filtered:
    """Keep findings that point into the diff according to `mode` (reviewdog's filter modes)."""
    kept: list[Finding] = []
    dropped: Counter = Counter()
    for finding in findings:
        f = _resolve_path(finding.path, diff)
        if f is None:
            if mode == "nofilter":
                kept.append(finding)
            else:
                dropped["unknown file"] += 1
            continue
        if f.path != finding.path:
            finding = replace(finding, path=f.path)
        anchored = anchor(finding, f, mode) if mode != "nofilter" else finding
        if anchored is None:
            dropped["unanchored"] += 1
            continue
        if not _on_diff(anchored, f, mode):
            dropped["off-diff"] += 1
            continue
        if anchored.end_line is not None and mode == "added":
            # Clip a range to the file's changed lines so annotations never claim unchanged code.
            last = max((n for n in f.diff_lines if anchored.line <= n <= anchored.end_line), default=anchored.line)
            anchored = replace(anchored, end_line=last if last > anchored.line else None)
        kept.append(anchored)
    return Filtered(tuple(kept), dropped)


def sort_key(f: Finding):
    return (f.path, f.line, -int(f.severity), f.category, f.agent, f.message)


def deduplicate(findings: Iterable[Finding]) -> tuple[tuple[Finding, ...], int]:
    """One finding per (path, line, category, agent): the most severe, then the first in stable order."""
    best: dict[tuple, Finding] = {}
    total = 0
    for f in sorted(findings, key=sort_key):
        total += 1
        key = (f.path, f.line, f.category, f.agent)
        if key not in best:
            best[key] = f
    kept = tuple(sorted(best.values(), key=sort_key))
    return kept, total - len(kept)


def apply_min_confidence(findings: Sequence[Finding], minimum: float | None) -> tuple[tuple[Finding, ...], int]:
    if not minimum:
        return tuple(findings), 0
    kept = tuple(f for f in findings if f.confidence is None or f.confidence >= minimum)
    return kept, len(findings) - len(kept)


def apply_budget(
    findings: Sequence[Finding], max_total: int | None, max_per_file: int | None
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """Keep the most severe and most confident findings within the budgets; return (shown, held back)."""
    ranked = sorted(findings, key=lambda f: (-int(f.severity), -(f.confidence if f.confidence is not None else 0.5),
                                             sort_key(f)))
    shown: list[Finding] = []
    held: list[Finding] = []
    per_file: Counter = Counter()
    for f in ranked:
        if (max_total and len(shown) >= max_total) or (max_per_file and per_file[f.path] >= max_per_file):
            held.append(f)
            continue
        per_file[f.path] += 1
        shown.append(f)
    return tuple(sorted(shown, key=sort_key)), tuple(sorted(held, key=sort_key))


def is_blocking(finding: Finding, fail_on: Severity | None) -> bool:
    return fail_on is not None and finding.severity >= fail_on
