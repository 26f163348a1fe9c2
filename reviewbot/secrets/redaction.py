"""Replacing secrets with «REDACTED:kind» placeholders in text and in a file's diff, before anything is sent."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Iterable, Sequence

from reviewbot.core.models import FileDiff
from reviewbot.secrets.detectors import _ASSIGNMENT_PRIORITY, _RANKS
from reviewbot.secrets.records import PRIVATE_KEY, SecretHit
from reviewbot.secrets.scanning import _OTHER_BREAKS_SPLIT, _kind, _merge, find_secrets


def placeholder(kind: str) -> str:
    return f"«REDACTED:{kind}»"


def _secret_count(hits: Sequence[SecretHit]) -> int:
    """Secrets, not spans: the lines of one key block count once."""
    return len(_group(hits))


def _group(hits: Sequence[SecretHit]) -> list[list[SecretHit]]:
    groups: list[list[SecretHit]] = []
    for hit in sorted(hits, key=lambda h: (h.line, h.start)):
        last = groups[-1][-1] if groups else None
        if (last is not None and hit.kind == PRIVATE_KEY and last.kind == PRIVATE_KEY
                and hit.line - last.line <= 2):  # a blank line may follow a block's own headers
            groups[-1].append(hit)
        else:
            groups.append([hit])
    return groups


def _replaced(line: str, hits: Iterable[SecretHit]) -> str:
    """The line with each hit's span (apart, in order) replaced by its placeholder, built in one pass: one slice
    per hit would copy a long line once for each of its secrets."""
    pieces: list[str] = []
    done = 0
    for hit in hits:
        pieces += (line[done:hit.start], placeholder(hit.kind))
        done = hit.end
    pieces.append(line[done:])
    return "".join(pieces)


def _blanked(line: str, hits: Iterable[SecretHit]) -> str:
    """The line with each part holding a hit replaced whole by one placeholder. Parts are what str.splitlines()
    sees (a span never crosses their breaks), so the line counts stay; a part that is one placeholder is never
    matched again, so this ends the rounds of redaction."""
    parts = _OTHER_BREAKS_SPLIT.split(line)  # text, break, text, break, ..., text
    offsets = list(itertools.accumulate(map(len, parts), initial=0))
    kinds: dict[int, str] = {}
    for hit in hits:
        index = bisect.bisect_right(offsets, hit.start) - 1
        kinds.setdefault(index - index % 2, hit.kind)  # a hit starts in a text part, never in a break
    return "".join(placeholder(kinds[i]) if i in kinds else part for i, part in enumerate(parts))


# Rounds of redaction before the parts of lines that still show a secret are redacted whole. Real text needs one,
# rarely two (a secret that another candidate's span hid). A hostile line can make each round expose one more,
# and a round is a scan of the whole text.
_ROUNDS = 3


def _redacted_line(line: str, hits: Iterable[SecretHit], round_: int) -> str:
    return _replaced(line, hits) if round_ < _ROUNDS else _blanked(line, hits)


def _apply(lines: list[str], hits: Iterable[SecretHit], round_: int = 0) -> None:
    ordered = sorted(hits, key=lambda h: (h.line, h.start))
    for line, group in itertools.groupby(ordered, key=lambda h: h.line):
        lines[line - 1] = _redacted_line(lines[line - 1], group, round_)


def redact(text: str) -> tuple[str, int]:
    """The text with every secret value replaced by «REDACTED:kind», and how many secrets were replaced.

    Deterministic, keeps the number of lines (by "\\n" and by str.splitlines()), and idempotent: it repeats until
    nothing is left to find, so redact(redact(x)[0]) == redact(x).
    """
    total = 0
    for round_ in range(len(text) + 1):  # each round shrinks the unredacted text, so this always ends
        hits = find_secrets(text)
        if not hits:
            break
        total += _secret_count(hits)
        lines = text.split("\n")
        _apply(lines, hits, round_)
        text = "\n".join(lines)
    return text, total


def _rank(kind: str) -> int:
    """A kind's priority: the private-key rule first, then the single-line rules in order, assignments last."""
    return _RANKS.get(kind, _ASSIGNMENT_PRIORITY)


Position = tuple[int, int]  # (hunk index, line index within the hunk)


def _side(f: FileDiff, left_out: str) -> list[Position]:
    """A file's lines on one side, across its hunks: the new side leaves out "-" lines, the old side "+" lines."""
    return [(h, i) for h, hunk in enumerate(f.hunks) for i, ln in enumerate(hunk.lines) if ln.kind != left_out]


def _scan_positions(texts: Sequence[Sequence[str]], positions: Sequence[Position]) -> list[tuple[Position, SecretHit]]:
    """Scan the lines at these positions as one text (a key block may run across hunks of a file)."""
    if not positions:
        return []
    # A line text never holds "\n"; should one, a space keeps every offset and the line count intact.
    joined = "\n".join(texts[h][i].replace("\n", " ") for h, i in positions)
    return [(positions[hit.line - 1], hit) for hit in find_secrets(joined)]


def _file_hits(f: FileDiff, texts: Sequence[Sequence[str]]) -> list[tuple[Position, SecretHit]]:
    """Hits on both sides of a file's diff, merged per line (a context line is seen from both sides)."""
    per_line: dict[Position, list[tuple[int, int, int]]] = {}
    for left_out in ("-", "+"):
        for pos, hit in _scan_positions(texts, _side(f, left_out)):
            per_line.setdefault(pos, []).append((hit.start, hit.end, _rank(hit.kind)))
    order = {pos: n for n, pos in enumerate(sorted(per_line))}
    return [(pos, SecretHit(_kind(priority), order[pos] + 1, start, end))
            for pos in sorted(per_line) for start, end, priority in _merge(per_line[pos])]


def redact_file_diff(f: FileDiff) -> tuple[FileDiff, int]:
    """The same FileDiff with secrets in its line texts (added, removed and context) and hunk headers redacted.

    A private-key block has every one of its lines redacted. Returns the number of secrets replaced.
    """
    if not f.hunks:
        return f, 0
    texts = [[ln.text for ln in hunk.lines] for hunk in f.hunks]
    total = 0
    for round_ in range(sum(len(t) for lines in texts for t in lines) + 1):  # until nothing is left to find
        found = _file_hits(f, texts)
        if not found:
            break
        total += _secret_count([hit for _, hit in found])
        ordered = sorted(found, key=lambda item: (item[0], item[1].start))
        for (h, i), group in itertools.groupby(ordered, key=lambda item: item[0]):
            texts[h][i] = _redacted_line(texts[h][i], (hit for _, hit in group), round_)
    hunks = []
    for hunk, lines in zip(f.hunks, texts):
        section, n = redact(hunk.section)
        total += n
        new_lines = tuple(ln if ln.text == t else dataclasses.replace(ln, text=t) for ln, t in zip(hunk.lines, lines))
        hunks.append(dataclasses.replace(hunk, lines=new_lines, section=section))
    return (dataclasses.replace(f, hunks=tuple(hunks)) if total else f), total
