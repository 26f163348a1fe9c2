"""The model client: its settings, the retry loop, the shared format ladder, errors that never show the key, and a
refused connection that is not retried and opens the request gate's breaker. Against the loopback model server."""

from __future__ import annotations

import pytest

from reviewbot.adapters.model_client import ChatModel, Completion, ModelSettings
from reviewbot.adapters.request_gate import RequestGate
from reviewbot.adapters.response_format import FormatLadder
from reviewbot.core.errors import ConfigError, ContextOverflowError, ModelError
from tests.helpers.model_server import error_body
from tests.helpers.ports import closed_port

HI = [{"role": "user", "content": "hi"}]
SCHEMA = {"type": "object", "properties": {"findings": {"type": "array"}}}


def _model(url: str, *, api_key: str = "sk-x", max_retries: int = 3, response_format: str = "auto") -> ChatModel:
    return ChatModel(ModelSettings(model="m", base_url=url, api_key=api_key, max_retries=max_retries,
                                   response_format=response_format), use_schema=SCHEMA)


def test_timeouts_by_endpoint_kind():
    local = ModelSettings(model="m", base_url="http://127.0.0.1:8080/v1")
    assert local.timeout_for(4096) == 60 + 4096 / 8 and local.timeout_for(256) == 60 + 32
    for url in ("http://localhost:11434/v1", "http://192.168.1.20:8000/v1", "http://ollama:11434/v1",
                "http://[::1]:1234/v1"):
        assert ModelSettings(model="m", base_url=url).is_local, url
    hosted = ModelSettings(model="m", base_url="https://api.example.com/v1")
    assert not hosted.is_local and hosted.timeout_for(4096) == 120
    assert ModelSettings(model="m", base_url="http://127.0.0.1/v1", timeout=7).timeout_for(4096) == 7
    assert ModelSettings(model="m").endpoint == "https://api.openai.com/v1" and not ModelSettings(model="m").is_local


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), True])
def test_a_timeout_that_is_not_a_positive_number_is_a_config_error(timeout):
    with pytest.raises(ConfigError, match="timeout must be a positive number of seconds"):
        ChatModel(ModelSettings(model="m", base_url="http://127.0.0.1:1/v1", timeout=timeout))


def test_an_answer_says_what_it_was_asked_with(model_server):
    model_server.answer('{"findings": []}', usage=(120, 7))
    model = _model(model_server.url)
    assert model.describe() == f"model 'm' at {model_server.url}"
    got = model.complete(HI, max_tokens=300, seed=5)
    assert got == Completion('{"findings": []}', tokens_in=120, tokens_out=7, finish_reason="stop",
                             response_format="json_schema", max_tokens=300)
    sent = model_server.requests[0]
    assert sent["max_tokens"] == 300 and sent["seed"] == 5 and sent["temperature"] == 0.0
    assert sent["response_format"]["json_schema"] == {"name": "review", "strict": True, "schema": SCHEMA}


def test_a_refused_format_steps_down_for_every_model_sharing_the_ladder(model_server):
    model_server.fail(400, error_body(400, "response_format json_schema is not supported"))
    ladder = FormatLadder("auto")
    first = ChatModel(ModelSettings(model="a", base_url=model_server.url), use_schema=SCHEMA, ladder=ladder)
    second = ChatModel(ModelSettings(model="b", base_url=model_server.url), use_schema=SCHEMA, ladder=ladder)
    assert first.complete(HI).response_format == "json_object"
    assert second.complete(HI).response_format == "json_object"
    kinds = [r["response_format"]["type"] for r in model_server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert ladder.rejections == ["json_schema: response_format json_schema is not supported"]


def test_a_context_overflow_is_raised_at_once_without_a_retry(model_server):
    model_server.fail(400, error_body(400, "This model's maximum context length is 4096 tokens"), times=3)
    with pytest.raises(ContextOverflowError, match="too large for the context of model 'm'.*HTTP 400"):
        _model(model_server.url).complete(HI)
    assert model_server.request_count == 1


def test_a_429_is_retried_after_the_pause_it_asks_for(model_server):
    model_server.fail(429, headers={"Retry-After": "0"}, times=2)
    model_server.answer("fine")
    assert _model(model_server.url).complete(HI).text == "fine"
    assert model_server.request_count == 3


def test_a_server_fault_is_given_up_after_max_retries_naming_them(model_server):
    model_server.fail(500, error_body(500, "CUDA out of memory"), headers={"Retry-After": "0"}, times=3)
    with pytest.raises(ModelError) as raised:
        _model(model_server.url, max_retries=2).complete(HI)
    assert str(raised.value) == (f"model 'm' at {model_server.url} answered HTTP 500: CUDA out of memory "
                                 "(gave up after 2 retries)")


def test_a_key_the_server_echoes_back_never_reaches_the_message(model_server):
    model_server.fail(400, error_body(400, "invalid key sk-secret-123 for this model"))
    with pytest.raises(ModelError) as raised:
        _model(model_server.url, api_key="sk-secret-123", response_format="none").complete(HI)
    assert "sk-secret-123" not in str(raised.value) and "invalid key *** for this model" in str(raised.value)


def test_once_the_endpoint_failed_later_requests_fail_without_asking(model_server):
    model_server.fail(404)
    model = _model(model_server.url)
    with pytest.raises(ModelError, match="answered 404") as first:
        model.complete(HI)
    with pytest.raises(ModelError) as second:
        model.complete(HI)
    assert str(second.value) == str(first.value) and model_server.request_count == 1


def test_tool_calls_come_back_without_a_format(model_server):
    model_server.call_tools(("read_file", {"path": "a.py"}))
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}]
    got = _model(model_server.url).complete(HI, tools=tools)
    ((call_id, name, arguments),) = got.tool_calls
    assert name == "read_file" and arguments == '{"path": "a.py"}' and call_id
    assert "response_format" not in model_server.requests[0]


def test_an_empty_answer_is_an_error_unless_it_was_cut(model_server):
    model_server.answer("  ")
    with pytest.raises(ModelError, match="returned an empty answer"):
        _model(model_server.url).complete(HI)
    model_server.answer("", finish_reason="length")
    assert _model(model_server.url).complete(HI).cut_off


def test_the_client_does_not_retry_a_refused_connection_either():
    # The run checks loopback endpoints before building a client; the client itself also gives up on a refused
    # connection without retrying (for endpoints the check does not cover), and opens the breaker.
    model = ChatModel(ModelSettings(model="m", base_url=f"http://127.0.0.1:{closed_port()}/v1", api_key="sk-x",
                                    max_retries=3))
    model.gate = RequestGate(4)
    with pytest.raises(ModelError, match="could not connect"):
        model.complete(HI)
    assert model.gate.stats().sent == 1 and model.gate.stats().failed == 1  # one attempt, no retries
    assert model.gate.is_open
