"""The model-answer parser and the findings filter, on hand-made inputs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from reviewbot.core.errors import OutputParseError
from reviewbot.core.models import Diff, FileDiff, Finding, Hunk, Line, Severity
from reviewbot.pipeline.answer import parse_answer
from reviewbot.pipeline.findings import anchor, apply_budget, deduplicate, filter_findings


def _file(path="app.py", start=10, texts=("a = 1", "b = 2", "c = 3"), added=(1,)):
    lines = []
    for i, t in enumerate(texts):
        kind = "+" if i in added else " "
        lines.append(Line(kind, t, None if kind == "+" else start + i, start + i))
    return FileDiff(path=path, old_path=path, status="modified",
                    hunks=(Hunk(start, len(texts), start, len(texts), "", tuple(lines)),))


def _finding(line, **kw):
    base = {"path": "app.py", "line": line, "severity": Severity.ERROR, "category": "bug", "message": "m"}
    base.update(kw)
    return Finding(**base)


def test_parses_fenced_json_with_prose():
    text = 'Here you go:\n```json\n{"findings": [{"path": "a.py", "line": "3", "severity": "CRITICAL", ' \
           '"category": "Data Loss", "message": "x"}]}\n```\nThanks'
    parsed = parse_answer(text, agent="bot")
    (f,) = parsed.findings
    assert (f.line, f.severity, f.category, f.agent) == (3, Severity.ERROR, "data-loss", "bot")


def test_invalid_findings_are_counted_not_fatal():
    text = json.dumps({"findings": [
        {"path": "a.py", "line": 0, "message": "bad line"},
        {"path": "a.py", "line": 2},
        {"line": 2, "message": "no path"},
        {"path": "a.py", "line": 2, "message": "ok", "severity": "whatever", "confidence": 80},
    ]})
    parsed = parse_answer(text)
    assert parsed.invalid == 3
    (f,) = parsed.findings
    assert f.severity == Severity.WARNING and f.confidence == pytest.approx(0.8)


@pytest.mark.parametrize("text", ["", "   ", "no json here", "[1, 2", "```\n```"])
def test_unreadable_answers_raise_own_error(text):
    with pytest.raises(OutputParseError):
        parse_answer(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                                         lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=20)
                 .map(json.dumps)))
def test_parser_raises_only_its_own_error(text):
    try:
        parse_answer(text)
    except OutputParseError:
        pass


def test_quote_reanchors_to_the_changed_line():
    f = _file(texts=("a = 1", "time.sleep(5)", "c = 3"), added=(1,))
    moved = anchor(_finding(14, quote="time.sleep(5)"), f, "added")
    assert moved.line == 11 and moved.reanchored_from == 14


def test_quote_matching_no_changed_line_is_unanchored():
    diff = Diff((_file(),))
    out = filter_findings([_finding(11, quote="something else entirely")], diff, "added")
    assert out.kept == () and out.dropped["unanchored"] == 1


def test_filter_modes_and_unknown_files():
    diff = Diff((_file(),))
    items = [_finding(11), _finding(10), _finding(500), _finding(11, path="other.py")]
    assert [f.line for f in filter_findings(items, diff, "added").kept] == [11]
    assert [f.line for f in filter_findings(items, diff, "diff_context").kept] == [11, 10]
    assert len(filter_findings(items, diff, "file").kept) == 3
    assert len(filter_findings(items, diff, "nofilter").kept) == 4
    assert filter_findings([_finding(11, path="b/app.py")], diff, "added").kept[0].path == "app.py"


def test_dedupe_keeps_most_severe():
    kept, dropped = deduplicate([_finding(11, severity=Severity.WARNING), _finding(11)])
    assert dropped == 1 and kept[0].severity == Severity.ERROR


def test_budget_holds_back_least_severe():
    items = [_finding(1, severity=Severity.INFO), _finding(2), _finding(3, severity=Severity.WARNING)]
    shown, held = apply_budget(items, 2, None)
    assert [f.line for f in shown] == [2, 3] and [f.line for f in held] == [1]
