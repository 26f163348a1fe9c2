"""Read the model's answer and decide whether it is a review at all.

An answer is a review only when it holds one JSON object with a `findings` array (the answer schema in prompt.py):
`{"error": ...}`, `{"summary": "Looks good"}`, `{"result": {"findings": [...]}}`, a bare list or prose are
unusable answers, never "no findings". Models wrap the object in code fences, put reasoning or `<think>` blocks
before it, or add prose after it: that is read through. One malformed finding does not discard the good ones (it is
counted as invalid), but an answer whose findings are all malformed, or only echo the prompt's template back
(`<file path as shown>`, a data fence's tag as a path), is unusable too.

Reading is bounded: at most MAX_ANSWER_CHARS characters and MAX_DEPTH levels of nesting, and the text is scanned in
linear time (a 3 MB nested answer once took 115 s). Anything unusable raises OutputParseError, the only error this
module raises.

A cut answer (finish_reason "length") is never read as a whole; `complete_findings` takes from it only the findings
that provably ended before the cut, for the caller to keep with a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from reviewbot.core.errors import OutputParseError
from reviewbot.core.models import Finding, Severity

MAX_ANSWER_CHARS = 1_000_000  # ~250k tokens: far beyond any answer allowance reviewbot asks for
MAX_DEPTH = 32  # a finding sits at depth 3; nothing legitimate comes near this
MAX_VALUES = 64  # JSON values in one answer looked at; the answer comes first, not after 64 others
MAX_CANDIDATES = 4  # unbalanced openers in prose restart the scan at most this many times (keeps it linear)


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    findings: tuple[Finding, ...]
    invalid: int  # findings dropped because a required field was missing or unusable
    summary: str = ""
    echoed: int = 0  # findings dropped because they repeat the prompt's template or fence tags


def parse_answer(text: str, *, agent: str = "") -> ParsedAnswer:
    """The review in a complete answer, or OutputParseError saying why the answer is not one."""
    data = extract_json(text)
    if not isinstance(data, dict):
        raise OutputParseError("the model's answer is a JSON list, not an object with a findings array")
    raw_findings = data.get("findings")
    if raw_findings is None:
        keys = ", ".join(sorted(str(k)[:40] for k in data)[:6]) or "none"
        raise OutputParseError(f"the model's answer has no findings array (its keys: {keys})")
    if not isinstance(raw_findings, list):
        raise OutputParseError("the model's answer has a findings value that is not an array")
    findings, invalid, echoed = _read_findings(raw_findings, agent)
    if raw_findings and not findings:
        what = "only repeat the prompt's template" if echoed else "are all malformed"
        raise OutputParseError(f"the model's answer lists {len(raw_findings)} finding(s) that {what}")
    summary = data.get("summary")
    return ParsedAnswer(tuple(findings), invalid, summary if isinstance(summary, str) else "", echoed)


def _read_findings(items: list[object], agent: str) -> tuple[list[Finding], int, int]:
    findings, invalid, echoed = [], 0, 0
    for item in items:
        if isinstance(item, dict) and echoes_prompt(item):
            echoed += 1
            continue
        finding = _to_finding(item, agent)
        if finding is None:
            invalid += 1
        else:
            findings.append(finding)
    return findings, invalid, echoed


# -- finding the JSON value ------------------------------------------------------------------------------------------

_THINK = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)


def strip_reasoning(text: str) -> str:
    """The text without `<think>...</think>` blocks (an unclosed one hides everything after it)."""
    out, pos, lowered = [], 0, text.lower()
    while True:
        opened = _THINK.search(text, pos)
        if opened is None:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:opened.start()])
        closer = f"</{opened.group(1).lower()}>"
        end = lowered.find(closer, opened.end())
        if end < 0:
            return "".join(out)
        pos = end + len(closer)


def _check_size(text: str, what: str) -> None:
    if len(text) > MAX_ANSWER_CHARS:
        raise OutputParseError(f"{what} is {len(text):,} characters long, more than the {MAX_ANSWER_CHARS:,} "
                               "reviewbot reads")


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Start and end of each balanced {...} or [...] outside strings, in order, in linear time.

    Strings are tracked only inside a value (quotes in prose mean nothing). When an opener never closes (prose, or a
    cut answer), the balanced values found inside it are given instead; failing those, the scan restarts just after
    that opener, at most MAX_CANDIDATES times. Nesting deeper than MAX_DEPTH raises.
    """
    n, pos, restarts = len(text), 0, 0
    pairs = {"}": "{", "]": "["}
    while pos < n:
        start = _next_opener(text, pos)
        if start < 0:
            return
        stack: list[int] = []  # positions of the open brackets
        inner: list[tuple[int, int]] = []  # values that closed inside the outermost one
        i, whole = start, False
        while True:
            found = _STRUCTURE.search(text, i)
            if found is None:
                i = n
                break
            i = found.start()
            ch = text[i]
            if ch == '"':
                end = _string_end(text, i + 1)
                if end < 0:
                    i = n
                    break
                i = end + 1
                continue
            if ch in "{[":
                stack.append(i)
                if len(stack) > MAX_DEPTH:
                    raise OutputParseError(f"the model's answer is nested more than {MAX_DEPTH} levels deep")
            else:
                opened = stack.pop()
                if text[opened] != pairs[ch]:
                    break  # not JSON after all: go on after the mismatch
                if not stack:
                    whole = True
                    break
                inner.append((opened, i + 1))
            i += 1
        if whole:
            yield start, i + 1
            pos = i + 1
            continue
        covered = -1
        for span in sorted(inner):  # the outermost of the values that closed (they nest or stand apart)
            if span[0] >= covered:
                covered = span[1]
                yield span
        if i < n:  # a mismatched closer
            pos = i + 1
        else:  # ran off the end: the opener was prose (or the answer was cut); try after it
            restarts += 1
            if restarts > MAX_CANDIDATES:
                return
            pos = start + 1


_STRUCTURE = re.compile(r'[\[\]{}"]')
_STRING_STOP = re.compile(r'["\\]')


def _string_end(text: str, pos: int) -> int:
    """The index of the quote that closes a JSON string whose text starts at `pos`, or -1."""
    while True:
        found = _STRING_STOP.search(text, pos)
        if found is None:
            return -1
        if text[found.start()] == '"':
            return found.start()
        pos = found.start() + 2


def _next_opener(text: str, pos: int) -> int:
    brace, bracket = text.find("{", pos), text.find("[", pos)
    if brace < 0:
        return bracket
    if bracket < 0:
        return brace
    return min(brace, bracket)


def extract_json(text: str, *, prefer: tuple[str, ...] = ("findings",), what: str = "the model's answer") -> object:
    """The JSON value in a model's answer: the whole text, or else the first top-level object holding one of
    `prefer`'s keys, or else the first top-level object or list that parses. Reasoning blocks are skipped; nested
    objects are never picked out of a larger one (`{"result": {"findings": []}}` is an object without findings)."""
    if not isinstance(text, str) or not text.strip():
        raise OutputParseError(f"{what} is empty")
    _check_size(text, what)
    stripped = strip_reasoning(text).strip()
    if not stripped:
        raise OutputParseError(f"{what} holds nothing but reasoning")
    best = None
    for number, (start, end) in enumerate(_spans(stripped)):
        if number >= MAX_VALUES:
            break
        try:
            value = json.loads(stripped[start:end])
        except (ValueError, RecursionError):
            continue
        if start == 0 and end == len(stripped):
            return value
        if isinstance(value, dict) and any(key in value for key in prefer):
            return value
        if best is None:
            best = value
    if best is None:
        raise OutputParseError(f"{what} contains no JSON")
    return best


# -- cut answers -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CutAnswer:
    """What survives of an answer cut off by the token limit."""

    findings: tuple[Finding, ...]  # findings whose JSON closed before the cut
    array_closed: bool  # the findings array itself closed before the cut
    looping: bool  # the text ends in one piece repeated over and over


def complete_findings(text: str, *, agent: str = "") -> CutAnswer:
    """The findings of a cut answer that provably ended before the cut: elements of the top-level object's
    `findings` array whose closing brace came before the end of the text."""
    looping = is_looping(text)
    if not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
        return CutAnswer((), False, looping)
    text = strip_reasoning(text)
    items, closed = _array_items(text)
    findings, _, _ = _read_findings(items, agent)
    return CutAnswer(tuple(findings), closed, looping)


def _array_items(text: str) -> tuple[list[object], bool]:
    start = text.find("{")
    if start < 0:
        return [], False
    stack: list[str] = []
    in_string = False
    string_start = -1
    last_key = None
    array_at = -1  # index in text where the findings array opened
    element_start = -1
    items: list[object] = []
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
                if len(stack) == 1:
                    last_key = text[string_start + 1:i]
        elif ch == '"':
            in_string, string_start = True, i
        elif ch in "{[":
            if len(stack) == 1 and ch == "[" and last_key == "findings" and array_at < 0:
                array_at = i
            stack.append(ch)
            if len(stack) > MAX_DEPTH:
                return items, False
            if array_at >= 0 and len(stack) == 3 and ch == "{":
                element_start = i
        elif ch in "}]":
            if not stack:
                return items, False
            stack.pop()
            if array_at >= 0 and len(stack) == 2 and ch == "}" and element_start >= 0:
                try:
                    items.append(json.loads(text[element_start:i + 1]))
                except (ValueError, RecursionError):
                    pass
                element_start = -1
            elif array_at >= 0 and len(stack) == 1 and ch == "]":
                return items, True
        elif ch == "," and len(stack) == 1:
            last_key = None
        i += 1
    return items, False


def is_looping(text: str, *, tail: int = 2000, min_repeats: int = 3) -> bool:
    """True when the text ends in one piece (up to 500 characters) repeated at least `min_repeats` times, as small
    models do when they loop until the token limit."""
    if not isinstance(text, str):
        return False
    end = text.rstrip()[-tail:]
    for period in range(1, 501):
        need = period * min_repeats
        if need > len(end):
            break
        window = end[-need:]
        if window == window[-period:] * min_repeats and window.strip():
            return True
    return False


# -- findings --------------------------------------------------------------------------------------------------------

# The placeholders of the answer format in prompt.PROTOCOL, which small models copy instead of filling in.
_PLACEHOLDER = re.compile(r"^\s*<[^<>]{1,60}>\s*$")
_FENCE_TAG = re.compile(r"(<<<|>>>|\bDATA-[0-9a-f]{6,}\b)", re.IGNORECASE)


def echoes_prompt(item: Mapping[str, object]) -> bool:
    """A finding that repeats the prompt instead of reviewing: a placeholder (`<file path as shown>`) as its path or
    message, or a data fence's marker (`<<<DATA-3f2a...`) as its path."""
    path = item.get("path") or item.get("file")
    message = item.get("message") or item.get("description") or item.get("comment")
    for value in (path, message):
        if isinstance(value, str) and _PLACEHOLDER.match(value):
            return True
    return isinstance(path, str) and bool(_FENCE_TAG.search(path))


def as_int(value: object) -> int | None:
    """A whole number from JSON that models write as 3, 3.0 or "3"; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 12:
        return int(value.strip())
    return None


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _to_finding(item: object, agent: str) -> Finding | None:
    if not isinstance(item, dict):
        return None
    path = _text(item.get("path") or item.get("file"))
    line = as_int(item.get("line", item.get("start_line")))
    message = _text(item.get("message") or item.get("description") or item.get("comment"))
    if path is None or line is None or line < 1 or message is None:
        return None
    end_line = as_int(item.get("end_line"))
    if end_line is not None and end_line < line:
        end_line = None
    severity = Severity.parse(item.get("severity")) or Severity.WARNING  # unknown words: neither block nor vanish
    category = _text(item.get("category")) or "general"
    category = "-".join(category.lower().split())[:64]
    confidence = item.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or confidence != confidence:
        confidence = None
    elif not 0.0 <= float(confidence) <= 1.0:
        # Some models answer on a 0-10 or 0-100 scale.
        confidence = float(confidence) / (10.0 if confidence <= 10 else 100.0)
        confidence = min(max(confidence, 0.0), 1.0)
    return Finding(
        path=path.removeprefix("./"),
        line=line,
        end_line=end_line,
        severity=severity,
        category=category,
        message=message,
        suggestion=(
            item.get("suggestion") if isinstance(item.get("suggestion"), str) and item.get("suggestion") else None
        ),
        agent=agent,
        quote=quote if isinstance(quote := item.get("quote"), str) and quote.strip() else None,
        confidence=float(confidence) if confidence is not None else None,
    )
