"""The verification pass: verdicts read from tolerant answer shapes, and verify_chunk keeping, rejecting, or (when the
answer is unreadable) keeping everything, against the real client and the loopback model server."""

from __future__ import annotations

from reviewbot.adapters.model_client import ChatModel, ModelSettings
from reviewbot.core.models import Chunk, FileDiff, Finding, Hunk, Line, Severity
from reviewbot.pipeline.verify import parse_verdicts, verify_chunk
from tests.helpers import TEST_MODEL


def test_verify_chunk_reads_prose_wrapped_answers(model_server):
    """verify_chunk against the real client: tolerant parsing, positions when ids are missing."""
    hunk = Hunk(1, 0, 1, 2, "", (Line("+", "a = 1", None, 1), Line("+", "b = 2", None, 2)))
    chunk = Chunk(files=(FileDiff("x.py", None, "added", (hunk,)),))
    findings = [Finding("x.py", 1, Severity.ERROR, "bug", "one"), Finding("x.py", 2, Severity.INFO, "style", "two")]
    model = ChatModel(ModelSettings(model=TEST_MODEL, base_url=model_server.url, api_key="k", max_retries=0),
                      use_schema={"type": "object"})
    model_server.answer('Here you go:\n```json\n{"verdicts": [{"verdict": "confirmed"}, {"verdict": "REJECT"}]}\n```')
    outcome = verify_chunk(model, findings, chunk, seed=0, temperature=0.0, cache=None)
    assert [f.message for f in outcome.kept] == ["one"]
    assert [f.message for f in outcome.rejected] == ["two"]
    assert outcome.usage.requests == 1 and outcome.error is None

    model_server.answer("no json here")
    outcome = verify_chunk(model, findings, chunk, seed=0, temperature=0.0, cache=None)
    assert len(outcome.kept) == 2 and outcome.error and "unreadable" in outcome.error


def test_parse_verdicts_shapes():
    assert {n: v.confirmed for n, v in parse_verdicts('[{"id": "2", "verdict": "reject"}]', 2).items()} == {2: False}
    assert parse_verdicts('{"verdicts": [{"id": 9, "verdict": "reject"}]}', 2) == {}  # out of range: ignored
    assert parse_verdicts('{"verdicts": [{"id": 1, "verdict": "maybe"}]}', 1) == {}  # undecided: no verdict
    assert parse_verdicts('{"verdicts": [{"id": 1, "valid": false}]}', 1)[1].confirmed is False
