"""Scanning text for secrets in time linear in its length: private-key blocks, windowed searches of long lines, the
rules' needles."""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from reviewbot.secrets.detectors import (
    _ASSIGNMENT_NEEDLES,
    _ASSIGNMENT_PRIORITY,
    _LIBRARY_PLUGINS,
    _OWN_BASE,
    _OWN_RULES,
    _OWN_TOKEN_RULES,
    _QUOTED_ASSIGNMENT,
    _SLOT,
    _STEP,
    _UNQUOTED_ASSIGNMENT,
    _assignment_check,
    _library_kind,
    _plugin_rules,
    _Rule,
)
from reviewbot.secrets.literals import _ALLOWLIST_RE, _PLACEHOLDER_RE, _is_placeholder
from reviewbot.secrets.records import PRIVATE_KEY, SECRET_ASSIGNMENT, SecretHit

_BEGIN_KEY = re.compile(r"-{4,5} ?BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
_END_KEY = re.compile(r"-{4,5} ?END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
_KEY_BODY_RUN = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_KEY_BODY_LINE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_MAX_KEY_LINES = 400
# Characters other than "\n" that str.splitlines() treats as line breaks: a span never includes one.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_OTHER_BREAKS_SPLIT = re.compile(f"({_OTHER_BREAKS.pattern})")


def _body_span(line: str) -> tuple[int, int] | None:
    """The key material on a line inside a key block. Short runs before it (a rendered line number) and a leading
    diff "+" stay: at most one character of key."""
    runs = list(_KEY_BODY_RUN.finditer(line))
    if not runs:
        return None
    first = next((r for r in runs if len(r.group()) >= 4), max(runs, key=lambda r: len(r.group())))
    start, end = first.start(), runs[-1].end()
    if line[start] == "+" and end - start > 1:
        start += 1
    return start, end


def _key_blocks(lines: Sequence[str]) -> list[tuple[int, int, int]]:
    """(line index, start, end) of every line of every private-key block: header, body and footer."""
    spans: list[tuple[int, int, int]] = []
    # Footers and key-material lines are looked up once each, not once per header above them: many headers over
    # a long text would otherwise rescan up to _MAX_KEY_LINES lines apiece.
    footers: list[int] | None = None
    material: dict[int, bool] = {}

    def is_material(j: int) -> bool:
        found = material.get(j)
        if found is None:
            found = material[j] = _KEY_BODY_LINE.search(lines[j]) is not None
        return found

    i = 0
    while i < len(lines):
        begin = _BEGIN_KEY.search(lines[i])
        if not begin:
            i += 1
            continue
        line = lines[i]
        end_same = _END_KEY.search(line, begin.end())
        if end_same:  # a one-line key with escaped newlines, e.g. JSON service-account files
            if _KEY_BODY_LINE.search(line, begin.end(), end_same.start()):
                spans.append((i, begin.start(), end_same.end()))
            i += 1
            continue
        if footers is None:
            footers = [j for j, text in enumerate(lines) if "END" in text and _END_KEY.search(text)]
        after = bisect.bisect_right(footers, i)
        footer = footers[after] if after < len(footers) and footers[after] <= i + _MAX_KEY_LINES else None
        if footer is not None:
            body = range(i + 1, footer)
        else:  # no footer in sight (a clipped hunk): the block runs while lines look like key material
            j = i + 1
            while j < len(lines) and is_material(j):
                j += 1
            body = range(i + 1, j)
        if not any(is_material(j) for j in body):
            i += 1  # a header mentioned in code, not a key
            continue
        spans.append((i, begin.start(), len(line.rstrip())))
        for j in body:
            span = _body_span(lines[j])
            if span:
                spans.append((j, *span))
        if footer is not None:
            m = _END_KEY.search(lines[footer])
            assert m is not None
            spans.append((footer, m.start(), m.end()))
            i = footer + 1
        else:
            i = body.stop
    return spans


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class _Needles:
    exact: tuple[str, ...]  # needles with capitals, looked up as written
    folded: tuple[str, ...]  # the others, looked up in the ASCII-lower-cased text

    @classmethod
    def of(cls, needles: Iterable[str]) -> _Needles:
        unique = sorted(set(needles))
        return cls(tuple(n for n in unique if n != n.lower()), tuple(n for n in unique if n == n.lower()))


# Every needle of every rule, from the static tables: deciding which rules could match imports nothing.
_NEEDLES = _Needles.of([n for p in _LIBRARY_PLUGINS for n in p.needles]
                       + [n for rule in _OWN_TOKEN_RULES for n in rule.needles] + list(_ASSIGNMENT_NEEDLES))


class _Text:
    """A text with its line starts, for turning offsets into (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        # Each line starts one past the previous line's end (its "\n"); summed in C rather than a Python loop.
        self.starts = list(itertools.accumulate(map((1).__add__, map(len, self.lines[:-1])), initial=0))
        self._lower: str | None = None
        self._needles: dict[str, list[int]] = {}
        self._longest: int | None = None

    def lines_longer_than(self, limit: int) -> list[int]:
        """Indexes of the lines longer than the limit, in order."""
        if self._longest is None:
            self._longest = max(map(len, self.lines))
        return [i for i, line in enumerate(self.lines) if len(line) > limit] if self._longest > limit else []

    @property
    def lower(self) -> str:
        """ASCII-lower-cased text: str.lower() may change the length (İ), which would shift every offset."""
        if self._lower is None:
            self._lower = self.text.translate(_ASCII_LOWER)
        return self._lower

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def lines_holding(self, needles: Sequence[str]) -> list[int]:
        """Indexes of the lines holding any of the needles, in order."""
        found: set[int] = set()
        for needle in needles:
            found.update(self._needle_lines(needle))
        return sorted(found)

    def _needle_lines(self, needle: str) -> list[int]:
        cached = self._needles.get(needle)
        if cached is None:
            cached = []
            hay = self.text if needle != needle.lower() else self.lower
            pos = hay.find(needle)
            while pos != -1:
                index = self.line_of(pos)
                cached.append(index)
                pos = hay.find(needle, self.starts[index] + len(self.lines[index]) + 1)
            self._needles[needle] = cached
        return cached

    def present(self, needles: _Needles) -> frozenset[str]:
        """Which of the needles occur anywhere in the text."""
        text, lower = self.text, self.lower
        return frozenset([n for n in needles.exact if n in text] + [n for n in needles.folded if n in lower])


# Long lines are searched in windows of 2 * step characters, each starting `step` after the previous one. Some of
# the library's patterns backtrack quadratically in the length of what they search (the JWT pattern takes ~5 s on
# a 120 kB line of "eyJ"; OpenAI's ~50 s on a line of "sk-" holding one "T3BlbkFJ"); a window bounds that
# cost, so a line costs time in proportion to its length (and to the step). A window reports only the matches
# that start in its first `step` characters; the next window, which starts there, finds the rest. So every match
# up to `step` long is found whole, as in a search of the whole line (lookbehinds and "^" see the real line: a
# search position does not cut the string). A match the window cuts is longer than `step`: it is matched again
# from its start over up to _LONGEST characters, one attempt, so a 3 kB bearer token is still redacted whole.
# The default step, 2,048, is more than a JWT of 1-2 kB or any other token we know; windows twice the step cost
# the least for that overlap.
_LONGEST = 16_384


def _windowed(pattern: re.Pattern[str], line: str, step: int = _STEP) -> Iterator[re.Match[str]]:
    """The matches of a pattern in one line, in order: all at once for a line up to 2 * step long, window by
    window for a longer one."""
    if len(line) <= 2 * step:
        yield from pattern.finditer(line)
        return
    pos = 0  # like finditer, a match never starts before the end of the previous one
    for first in range(0, len(line), step):
        handoff, stop = first + step, first + 2 * step
        if stop >= len(line):
            yield from pattern.finditer(line, max(pos, first))
            return
        if pos >= handoff:
            continue
        for m in pattern.finditer(line, max(pos, first), stop):
            if m.start() >= handoff:
                break
            if m.end() == stop:  # cut by the window (or ends there): match it again over more of the line
                m = pattern.match(line, m.start(), min(len(line), m.start() + _LONGEST)) or m
            yield m
            pos = m.end()
            if pos >= stop:  # the search goes on after it, in the window where it ends
                break


def _matches(pattern: re.Pattern[str], doc: _Text, needles: Sequence[str],
             step: int | None = _STEP) -> Iterator[tuple[re.Match[str], int]]:
    """Matches in text order, with the offset of the string they were found in (a line, when needles narrow the
    search). Long lines are searched in windows (see _windowed); step None: not windowed, for patterns known to
    run in linear time."""
    if not needles:
        done = 0  # the text before here has been searched
        for index in doc.lines_longer_than(2 * step) if step else ():
            line_start = doc.starts[index]
            for m in pattern.finditer(doc.text, done, line_start):
                yield m, 0
            assert step is not None  # lines are windowed only when there is a step
            for m in _windowed(pattern, doc.lines[index], step):
                yield m, line_start
            done = line_start + len(doc.lines[index])
        for m in pattern.finditer(doc.text, done):
            yield m, 0
        return
    for index in doc.lines_holding(needles):
        line = doc.lines[index]
        for m in _windowed(pattern, line, step) if step else pattern.finditer(line):
            yield m, doc.starts[index]


def _span(m: re.Match[str], group: int | str) -> tuple[int, int] | None:
    if group == -1:
        for g in range(1, (m.re.groups or 0) + 1):
            if m.group(g):
                return m.span(g)
        return None
    if m.group(group) is None:
        return None
    return m.span(group)


# How many more candidates are checked inside the extended span of a candidate that was turned down (see
# _token_hits); real text never comes near this, a line of "eyJa." repeated has tens of thousands.
_RETRIES = 8


@functools.cache
def _extension(chars: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(chars)}]*")


def _token_hits(rule: _Rule, doc: _Text) -> Iterator[tuple[int, int]]:
    text = doc.text
    extension = _extension(rule.extend) if rule.extend else None
    # A rule's `extend` carries a candidate over the rest of its run of token characters, up to `reach`. A later
    # candidate that starts and ends inside that run extends to the same `reach`: it is skipped when the earlier
    # one was a secret (its span holds the later one), and only a few are tried when it was not (each check reads
    # the whole rest of the run: checking them all is quadratic on a long run such as "eyJa.eyJa.eyJa...").
    reach, accepted, retries = -1, False, 0
    for m, base in _matches(rule.pattern, doc, rule.needles, rule.step):
        span = _span(m, rule.group)
        if span is None:
            continue
        start, end = span[0] + base, span[1] + base
        while start < end and text[start] in " \t\"':=":  # patterns that include their delimiters
            start += 1
        while end > start and text[end - 1] in " \t\"'\r":
            end -= 1
        if start >= end:
            continue
        if rule.boundary and start > 0 and text[start - 1].isalnum():
            continue
        if extension is not None:
            if start < reach and end <= reach:
                retries += 1
                if accepted or retries > _RETRIES:
                    continue
                end = reach
            else:
                grown = extension.match(text, end)
                assert grown is not None  # "[...]*" always matches, if only the empty string
                end = grown.end()
                reach, accepted, retries = end, False, 0
        value = text[start:end]
        if _is_placeholder(value) or (rule.check and not rule.check(value)):
            continue
        accepted = True
        yield start, end


def _assignment_hits(doc: _Text) -> Iterator[tuple[int, int]]:
    for pattern, quoted in ((_QUOTED_ASSIGNMENT, True), (_UNQUOTED_ASSIGNMENT, False)):
        check = _assignment_check(quoted)
        # Not windowed: both patterns run in linear time (bounded names, a value that stops at the first quote or
        # space), and a long value, such as a base64 key, must be seen whole.
        for m, base in _matches(pattern, doc, _ASSIGNMENT_NEEDLES, step=None):
            if check(m):
                start, end = m.span("value")
                yield start + base, end + base


def _active_rules(doc: _Text, present: frozenset[str]) -> list[tuple[int, _Rule]]:
    """(priority, rule) of every rule that could match: a library plugin only when its gate matches."""
    rules: list[tuple[int, _Rule]] = []
    for index, plugin in enumerate(_LIBRARY_PLUGINS):
        if plugin.needles and present.isdisjoint(plugin.needles):
            continue
        if next(_matches(plugin.gate, doc, plugin.needles), None) is not None:
            rules.extend(_plugin_rules(index))
    rules.extend(_OWN_RULES)
    return rules


def _raw_hits(doc: _Text) -> list[tuple[int, int, int, int]]:
    """(priority, line index, start, end) for every candidate, before filtering and merging."""
    found = [(0, i, s, e) for i, s, e in _key_blocks(doc.lines)] if "PRIVATE KEY" in doc.text else []
    present = doc.present(_NEEDLES)  # one pass decides which rules can match at all
    for priority, rule in _active_rules(doc, present):
        if rule.needles and present.isdisjoint(rule.needles):
            continue
        for start, end in _token_hits(rule, doc):
            index = doc.line_of(start)
            line_end = doc.starts[index] + len(doc.lines[index])
            found.append((priority, index, start - doc.starts[index], min(end, line_end) - doc.starts[index]))
    if not present.isdisjoint(_ASSIGNMENT_NEEDLES):
        for start, end in _assignment_hits(doc):
            index = doc.line_of(start)
            found.append((_ASSIGNMENT_PRIORITY, index, start - doc.starts[index], end - doc.starts[index]))
    return found


def _kind(priority: int) -> str:
    if priority == 0:
        return PRIVATE_KEY
    if priority >= _ASSIGNMENT_PRIORITY:
        return SECRET_ASSIGNMENT
    if priority >= _OWN_BASE:
        return _OWN_TOKEN_RULES[priority - _OWN_BASE].kind
    plugin_index, pattern_index = divmod(priority - 1, _SLOT)
    return _library_kind(_LIBRARY_PLUGINS[plugin_index], pattern_index)


def _scan(text: str) -> list[SecretHit]:
    doc = _Text(text)
    by_line: dict[int, list[tuple[int, int, int]]] = {}
    for priority, index, start, end in _raw_hits(doc):
        line = doc.lines[index]
        brk = _OTHER_BREAKS.search(line, start, end)
        if brk:
            end = brk.start()
        if start >= end:
            continue
        by_line.setdefault(index, []).append((start, end, priority))
    hits: list[SecretHit] = []
    for index in sorted(by_line):
        line = doc.lines[index]
        if _ALLOWLIST_RE.search(line):
            continue
        spans = _outside(by_line[index], [m.span() for m in _PLACEHOLDER_RE.finditer(line)])
        for start, end, priority in _merge(spans):
            hits.append(SecretHit(_kind(priority), index + 1, start, end))
    return hits


def _outside(spans: list[tuple[int, int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The spans that overlap none of the taken ones (sorted, apart): a bisection each, not a look at them all."""
    if not taken:
        return spans
    ends = [end for _, end in taken]
    kept = []
    for span in spans:
        nearest = bisect.bisect_right(ends, span[0])  # the first taken span ending after this one starts
        if nearest == len(taken) or taken[nearest][0] >= span[1]:
            kept.append(span)
    return kept


def _merge(spans: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Overlapping spans become one, covering them all, with the kind of the best-priority rule among them."""
    merged: list[list[int]] = []
    for start, end, priority in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2] = min(last[2], priority)
        else:
            merged.append([start, end, priority])
    return [(s, e, p) for s, e, p in merged]


def find_secrets(text: str) -> list[SecretHit]:
    """Every secret in the text, in order; lines are counted by "\\n" as git does. Multi-line key blocks give one
    hit per line of the block. Already-redacted placeholders and allowlisted lines are never reported."""
    if not text:
        return []
    # A review scans most texts more than once (a file's new side for the local findings, then again with its old
    # side for redaction; the same standards for every chunk): remember results by a digest of the text.
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    hits = _SCANNED.get(key)
    if hits is None:
        hits = tuple(_scan(text))
        if len(_SCANNED) >= _SCANNED_LIMIT:
            _SCANNED.clear()
        _SCANNED[key] = hits
    return list(hits)


_SCANNED: dict[bytes, tuple[SecretHit, ...]] = {}
_SCANNED_LIMIT = 50_000  # ~100 bytes an entry without hits
