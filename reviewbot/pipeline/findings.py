"""Decide which of the model's findings are shown: anchor them to the diff, filter, deduplicate, budget.

Like reviewdog's diff filter, this is a pure function of (findings, parsed diff, mode). Nothing is dropped
silently: every removal is counted under a reason that the summary reports.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from reviewbot.core.models import Diff, DropReason, FileDiff, Finding, LineIndex, squash

FILTER_MODES = ("added", "diff_context", "file", "nofilter")

# A quote shorter than this (squashed) may only match a whole line: "return x" is too common to search for inside
# other lines, and a short exact match only moves a finding a few lines (it is too common to trust further).
MIN_PARTIAL_QUOTE = 8
SHORT_QUOTE_REACH = 3
# How far (in lines) a partial match may move a finding. Bounded, so each finding costs the same whatever the
# file's size (a quote matching nothing is the worst case: the search ends at the window's edges).
PARTIAL_REACH = 200

# Models sometimes copy the prompt's line prefix ("  12 + code") into the quote.
_PROMPT_PREFIX = re.compile(r"^\s*\d+ [+ -] ")


@dataclass(frozen=True, slots=True)
class Filtered:
    kept: tuple[Finding, ...]
    dropped: Counter[DropReason]


def _clean_quote(quote: str) -> str:
    first = next((ln for ln in quote.splitlines() if ln.strip()), "")  # a multi-line quote: its first line
    return squash(_PROMPT_PREFIX.sub("", first, count=1))


def _quote_matches(quote: str, line_text: str | None) -> bool:
    """Whether a line's text holds the quote: whole (whitespace aside), or for a long enough quote, inside it."""
    if line_text is None:
        return False
    q, t = _clean_quote(quote), squash(line_text)
    if not q:
        return False
    return q == t or (len(q) >= MIN_PARTIAL_QUOTE and q in t)


def _resolve_path(path: str, diff: Diff) -> FileDiff | None:
    found = diff.file(path)
    if found is None and path[:2] in ("a/", "b/"):
        found = diff.file(path[2:])  # models sometimes copy git's a/ b/ prefixes
    if found is None:
        found = diff.file(path.lstrip("/"))
    if found is None:
        found = _by_shown_name(diff).get(path)  # a name with a line break, quoted back as the prompt showed it
    return found


def _by_shown_name(diff: Diff) -> dict[str, FileDiff]:
    from reviewbot.pipeline.prompt import inline

    return {inline(f.path): f for f in diff.files if inline(f.path) != f.path}


def _indexes(f: FileDiff, sent: FileDiff | None) -> tuple[LineIndex, ...]:
    """The file's lines as they are, and (when they differ, e.g. redacted) as they were sent to the model."""
    return (f.index,) if sent is None or sent is f else (f.index, sent.index)


def _exact_at(q: str, number: int, indexes: Sequence[LineIndex]) -> bool:
    return any(ix.squashed.get(number) == q for ix in indexes)


def _partial_at(q: str, number: int, indexes: Sequence[LineIndex]) -> bool:
    return len(q) >= MIN_PARTIAL_QUOTE and any(q in ix.squashed.get(number, "") for ix in indexes)


def _nearest_exact(q: str, cited: int, allowed: frozenset[int], indexes: Sequence[LineIndex]) -> int | None:
    reach = None if len(q) >= MIN_PARTIAL_QUOTE else SHORT_QUOTE_REACH
    best: tuple[int, int] | None = None
    for ix in indexes:
        numbers = ix.by_squashed.get(q, ())
        at = bisect.bisect_left(numbers, cited)
        # Walk outwards from the cited line to the nearest allowed line on each side.
        for step, stop in ((-1, -1), (1, len(numbers))):
            i = at - 1 if step < 0 else at
            while i != stop:
                n = numbers[i]
                if reach is not None and abs(n - cited) > reach:
                    break
                if n in allowed:
                    key = (abs(n - cited), n)
                    if best is None or key < best:
                        best = key
                    break
                i += step
    return best[1] if best else None


def _nearest_partial(q: str, cited: int, mode: str, indexes: Sequence[LineIndex]) -> int | None:
    """The changed line nearest to `cited` (within PARTIAL_REACH) whose text contains the quote."""
    if len(q) < MIN_PARTIAL_QUOTE:
        return None
    best: tuple[int, int] | None = None
    for ix in indexes:
        numbers = ix.changed(mode)
        text, starts = ix.joined(mode)
        lo = bisect.bisect_left(numbers, cited - PARTIAL_REACH)
        hi = bisect.bisect_right(numbers, cited + PARTIAL_REACH)
        if lo >= hi:
            continue
        end = starts[hi] - 1 if hi < len(starts) else len(text)
        at = text.find(q, starts[lo], end)
        while at != -1:  # usually none at all: the whole window is rejected in one search
            i = bisect.bisect_right(starts, at) - 1
            if at + len(q) <= starts[i] + len(ix.squashed[numbers[i]]):  # inside one line, not across two
                key = (abs(numbers[i] - cited), numbers[i])
                if best is None or key < best:
                    best = key
            at = text.find(q, at + 1, end)
    return best[1] if best else None


def anchor(finding: Finding, f: FileDiff, mode: str, sent: FileDiff | None = None) -> Finding | None:
    """Put the finding on the line its quote names, or give up: right line or no line.

    Order of preference: the cited line when its text is the quote; the nearest changed line whose text is the
    quote; the cited line when its text contains the quote; the nearest changed line (within PARTIAL_REACH) that
    contains it. `sent` is the file as the model saw it (redacted), whose lines count as well. Returns the
    (possibly moved) finding, or None when a quote was given and no line holds it. A finding without a quote is
    left where the model put it.
    """
    if not finding.quote:
        return finding
    q = _clean_quote(finding.quote)
    if not q:
        return finding
    indexes = _indexes(f, sent)
    if _exact_at(q, finding.line, indexes):
        return finding
    candidates = f.index.changed(mode)
    allowed = f.index.added if mode == "added" else f.index.shown
    target = _nearest_exact(q, finding.line, allowed, indexes)
    if target is None:
        if _partial_at(q, finding.line, indexes):
            return finding
        target = _nearest_partial(q, finding.line, mode, indexes)
    if target is None:
        return None
    return _moved(finding, target, candidates)


def _moved(finding: Finding, target: int, candidates: Sequence[int]) -> Finding:
    """The finding on `target`, keeping only lines it cited.

    When the quote sits inside the cited span the model named the right span and quoted one line of it: the span
    starts at the quote and ends where the model said. Otherwise the numbers were off: the span moves as a whole
    only when every line of the moved span is a changed line (the block moved together); if not, the finding
    keeps its one quoted line rather than claim lines the model never cited.
    """
    end = finding.end_line if finding.end_line and finding.end_line > finding.line else None
    if end is not None and finding.line <= target <= end:
        new_end: int | None = end
    elif end is not None:
        shifted = end + (target - finding.line)
        lo = bisect.bisect_left(candidates, target)
        hi = bisect.bisect_right(candidates, shifted)
        new_end = shifted if hi - lo == shifted - target + 1 else None
    else:
        new_end = None
    return replace(
        finding,
        line=target,
        end_line=new_end if new_end is not None and new_end > target else None,
        reanchored_from=finding.line,
    )


def _on_diff(finding: Finding, f: FileDiff, mode: str) -> bool:
    if mode in ("file", "nofilter"):
        return True
    return LineIndex.any_between(f.index.changed(mode), finding.line, finding.last_line)


def filter_findings(
    findings: Iterable[Finding], diff: Diff, mode: str = "added", sent: Mapping[str, FileDiff] | None = None
) -> Filtered:
    """Keep findings that point into the diff according to `mode` (reviewdog's filter modes).

    `sent` maps a path to the file as it was sent to the model (redacted), so a quote of a redacted line matches.
    """
    kept: list[Finding] = []
    dropped: Counter[DropReason] = Counter()
    for finding in findings:
        f = _resolve_path(finding.path, diff)
        if f is None:
            if mode == "nofilter":
                kept.append(finding)
            else:
                dropped[DropReason.UNKNOWN_FILE] += 1
            continue
        if f.path != finding.path:
            finding = replace(finding, path=f.path)
        anchored = anchor(finding, f, mode, sent.get(f.path) if sent else None) if mode != "nofilter" else finding
        if anchored is None:
            dropped[DropReason.UNANCHORED] += 1
            continue
        if not _on_diff(anchored, f, mode):
            dropped[DropReason.OFF_DIFF] += 1
            continue
        if anchored.end_line is not None and mode == "added":
            # Clip a range to the file's added lines so annotations never claim unchanged code.
            last = LineIndex.last_between(f.index.added_sorted, anchored.line, anchored.end_line) or anchored.line
            if last != anchored.end_line:  # a suggestion written for the cited range no longer fits the new one
                anchored = replace(anchored, end_line=last if last > anchored.line else None,
                                   clipped_from=anchored.end_line)
        kept.append(anchored)
    return Filtered(tuple(kept), dropped)


def sort_key(f: Finding) -> tuple[str, int, int, str, str, str]:
    return (f.path, f.line, -int(f.severity), f.category, f.agent, f.message)


def deduplicate(findings: Iterable[Finding]) -> tuple[tuple[Finding, ...], int]:
    """One finding per (path, line, category, agent): the most severe, then the first in stable order."""
    best: dict[tuple[str, int, str, str], Finding] = {}
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
    per_file: Counter[str] = Counter()
    for f in ranked:
        if (max_total and len(shown) >= max_total) or (max_per_file and per_file[f.path] >= max_per_file):
            held.append(f)
            continue
        per_file[f.path] += 1
        shown.append(f)
    return tuple(sorted(shown, key=sort_key)), tuple(sorted(held, key=sort_key))


