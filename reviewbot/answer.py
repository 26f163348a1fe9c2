"""Read the model's answer tolerantly and validate each finding on its own.

Models wrap JSON in code fences, add prose around it, or return a bare list; one bad finding must not
discard the good ones. Anything unreadable raises OutputParseError, the only error this module raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reviewbot.errors import OutputParseError
from reviewbot.models import Finding, Severity


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    findings: tuple[Finding, ...]
    invalid: int  # findings dropped because a required field was missing or unusable
    summary: str = ""


def parse_answer(text: str, *, agent: str = "") -> ParsedAnswer:
    data = extract_json(text)
    if isinstance(data, list):
        data = {"findings": data}
    if not isinstance(data, dict):
        raise OutputParseError("the model's answer is not a JSON object")
    raw_findings = data.get("findings", data.get("issues", data.get("comments")))
    if raw_findings is None:
        raw_findings = []
    if not isinstance(raw_findings, list):
        raise OutputParseError("the model's answer has no list of findings")
    findings, invalid = [], 0
    for item in raw_findings:
        finding = _to_finding(item, agent)
        if finding is None:
            invalid += 1
        else:
            findings.append(finding)
    summary = data.get("summary")
    return ParsedAnswer(tuple(findings), invalid, summary if isinstance(summary, str) else "")


def extract_json(text: str, *, prefer: tuple[str, ...] = ("findings", "issues"), what: str = "the model's answer"):
    """The JSON value in a model's answer: the whole text, or else the first object holding one of `prefer`'s
    keys, or else the first object or list that parses (answers come fenced or wrapped in prose)."""
    if not isinstance(text, str) or not text.strip():
        raise OutputParseError(f"{what} is empty")
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):
        pass
    decoder = json.JSONDecoder()
    best = None
    for i, ch in enumerate(stripped):
        if ch not in "{[":
            continue
        try:
            value, _ = decoder.raw_decode(stripped, i)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict) and any(key in value for key in prefer):
            return value
        if best is None and isinstance(value, (dict, list)):
            best = value
    if best is None:
        raise OutputParseError(f"{what} contains no JSON")
    return best


def as_int(value) -> int | None:
    """A whole number from JSON that models write as 3, 3.0 or "3"; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _to_finding(item, agent: str) -> Finding | None:
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
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
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
        suggestion=item.get("suggestion") if isinstance(item.get("suggestion"), str) and item.get("suggestion") else None,
        agent=agent,
        quote=item.get("quote") if isinstance(item.get("quote"), str) and item.get("quote").strip() else None,
        confidence=float(confidence) if confidence is not None else None,
    )
