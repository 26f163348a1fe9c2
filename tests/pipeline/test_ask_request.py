"""Asking one planned request (reviewbot/pipeline/ask_request.py) with the real client against the loopback model
server: the cache read and written, the retry with what was wrong, more answer room, two halves, findings kept from
a cut answer, and cache keys that never change (a changed key would invalidate every user's cache)."""

from __future__ import annotations

import json

import pytest

from reviewbot.adapters.model_client import ChatModel, ModelSettings
from reviewbot.adapters.result_cache import ResultCache
from reviewbot.config import Settings
from reviewbot.core.models import Chunk, FileDiff, Hunk, Line
from reviewbot.pipeline.ask_request import ask_request, request_key, request_key_for
from reviewbot.pipeline.plan_records import PlannedRequest
from reviewbot.pipeline.prompt import PromptParts, build_messages
from tests.helpers import TEST_MODEL
from tests.helpers.model_server import error_body


def _file(path: str) -> FileDiff:
    hunk = Hunk(1, 0, 1, 2, "", (Line("+", "a = 1", None, 1), Line("+", "b = eval(a)", None, 2)))
    return FileDiff(path, None, "added", (hunk,))


def _request(*paths: str, answer_tokens: int = 512) -> PlannedRequest:
    """A request about `paths` as plan() builds it (its parts rebuild the messages for half the chunk)."""
    chunk = Chunk(files=tuple(_file(p) for p in paths))
    parts = PromptParts(agent_name="senior", persona="You review code.")
    return PlannedRequest("senior", TEST_MODEL, chunk, tuple(build_messages(parts, chunk)), answer_tokens, seed=0,
                          parts=parts)


def _finding(path: str, message: str = "eval of a variable") -> dict:
    return {"path": path, "line": 2, "end_line": None, "severity": "error", "category": "security",
            "message": message, "suggestion": None, "quote": "b = eval(a)", "confidence": 0.9}


@pytest.fixture
def model(model_server) -> ChatModel:
    return ChatModel(ModelSettings(model=TEST_MODEL, base_url=model_server.url, api_key="k", max_retries=0))


def _key(req: PlannedRequest, model: ChatModel) -> str:
    return request_key(req, model.settings.endpoint, Settings())


def test_the_cache_key_strings_never_change():
    """Pinned: a key computed any other way would make every cached answer unreachable."""
    hunk = Hunk(1, 0, 1, 1, "", (Line("+", "a = 1", None, 1),))
    req = PlannedRequest("senior", "test-model", Chunk(files=(FileDiff("x.py", None, "added", (hunk,)),)),
                         ({"role": "system", "content": "review ü"}, {"role": "user", "content": "x.py"}), 512, seed=3)
    key = request_key(req, "http://127.0.0.1:9/v1", Settings())
    assert key == "1aaa63224e19db879fa653918b75087c88318ef94e6e27300b635d4cb92e2e65"
    assert request_key_for(req, key) == "ca225ab88b384c5b325ec91771941eefcdc33d3a2c14fae7074735b162c8c1d1"


def test_a_review_is_cached_with_how_it_was_asked_for_and_read_back(model, model_server):
    req = _request("x.py")
    model_server.answer_findings([_finding("x.py")], summary="one problem")
    with ResultCache() as cache:
        first = ask_request(model, req, cache, _key(req, model))
        again = ask_request(model, req, cache, _key(req, model))
        stored = json.loads(cache.get(_key(req, model)) or "{}")
    assert [f.message for f in first.findings] == ["eval of a variable"] and first.summary == "one problem"
    assert first.usage.requests == 1 and first.error is None
    assert again.findings == first.findings and again.usage.cached == 1 and again.usage.requests == 0
    assert model_server.request_count == 1
    assert stored["finish_reason"] == "stop" and stored["max_tokens"] == 512 and "response_format" in stored


def test_an_unusable_answer_is_asked_again_once_with_what_was_wrong_and_never_cached(model, model_server):
    req = _request("x.py")
    model_server.answer("I think the code is fine.")
    model_server.answer("Still fine, really.")
    with ResultCache() as cache:
        outcome = ask_request(model, req, cache, _key(req, model))
        assert cache.get(_key(req, model)) is None
    assert outcome.error is not None and outcome.error.startswith(
        f"model '{TEST_MODEL}' at {model.settings.endpoint} answered twice with no usable answer (")
    assert outcome.usage.requests == 2 and outcome.usage.tokens_out == 40  # both answers cost tokens
    retry = model_server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "I think the code is fine."}
    assert retry[-1]["content"].startswith("That answer was not a JSON object in the requested shape")


def test_a_cut_answer_gets_twice_the_room_when_the_budget_allows(model, model_server):
    req = _request("x.py")
    model_server.answer('{"findings": [{"path": "x.py", "line": 2, "message": "ev', usage=(100, 512),
                        finish_reason="length")
    model_server.answer_findings([_finding("x.py")])
    outcome = ask_request(model, req, None, _key(req, model), budget_tokens=100_000)
    assert [f.path for f in outcome.findings] == ["x.py"] and outcome.error is None
    assert [body["max_tokens"] for body in model_server.requests] == [512, 1024]
    assert outcome.notes == ("the answer about x.py was cut off at 512 tokens; asked again with 1024 tokens of room",)


def test_without_room_or_halves_the_complete_findings_of_a_cut_answer_are_kept(model, model_server):
    req = _request("x.py")
    cut = json.dumps({"findings": [_finding("x.py")]})[:-2] + ', {"path": "x.py", "line": 1, "mess'
    model_server.answer(cut, usage=(100, 512), finish_reason="length")
    outcome = ask_request(model, req, None, _key(req, model))  # no budget: no more room is asked for
    assert [f.message for f in outcome.findings] == ["eval of a variable"]
    assert outcome.error == (
        f"the answer of model '{TEST_MODEL}' at {model.settings.endpoint} was cut off at 512 tokens; the chunk is a "
        "single hunk that cannot be split and 1024 tokens of answer room do not fit max_request_tokens; 1 complete "
        "finding(s) from the cut answer are shown")
    assert outcome.notes == ("the answer about x.py was cut off at 512 tokens: 1 complete finding(s) from it are "
                             "shown, anything after them was lost",)


def test_a_request_too_large_for_the_context_is_asked_in_two_halves_each_cached(model, model_server):
    req = _request("a.py", "b.py")
    overflow = error_body(400, "Context size has been exceeded.")
    with ResultCache() as cache:
        model_server.fail(400, overflow)
        model_server.answer_findings([_finding("a.py")])
        model_server.answer_findings([_finding("b.py")])
        outcome = ask_request(model, req, cache, _key(req, model))
        model_server.fail(400, overflow)  # the whole request still does not fit; its halves are in the cache
        again = ask_request(model, req, cache, _key(req, model))
    assert [f.path for f in outcome.findings] == ["a.py", "b.py"] and outcome.error is None
    assert outcome.notes == ("the request about a.py, b.py was too large for the server's context; asked again in "
                             "two halves",)
    assert "b.py" not in model_server.prompt_text(1) and "a.py" not in model_server.prompt_text(2)
    assert again.findings == outcome.findings and again.usage.cached == 2
    assert model_server.request_count == 4


def test_a_failed_half_names_only_its_own_paths(model, model_server):
    req = _request("a.py", "b.py")
    model_server.fail(400, error_body(400, "Context size has been exceeded."))
    model_server.answer_findings([_finding("a.py")])
    model_server.fail(400, error_body(400, "Context size has been exceeded."))
    outcome = ask_request(model, req, None, _key(req, model))
    assert [f.path for f in outcome.findings] == ["a.py"]
    assert outcome.error_paths == ("b.py",)
    assert outcome.error is not None and outcome.error.startswith("the request is too large for the context of")
    assert outcome.error.endswith(" (after splitting the chunk in two)")


def test_a_failed_request_is_the_outcome_and_nothing_is_cached(model, model_server):
    req = _request("x.py")
    model_server.fail(401, error_body(401, "Incorrect API key provided"))
    with ResultCache() as cache:
        outcome = ask_request(model, req, cache, _key(req, model))
        assert cache.get(_key(req, model)) is None
    assert outcome.findings == () and outcome.error == (
        f"model '{TEST_MODEL}' at {model.settings.endpoint} rejected the API key (HTTP 401); check OPENAI_API_KEY")
