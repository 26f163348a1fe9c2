"""Reading a server's failure: real errors from the real openai client against the loopback model server."""

from __future__ import annotations

import email.utils
import json
import time
from pathlib import Path

import openai
import pytest

from reviewbot.adapters.server_errors import (
    MAX_REASON_CHARS,
    congestion,
    connection_refused,
    endpoint_failed,
    exception_line,
    explain,
    failure_kind,
    is_context_overflow,
    is_retryable,
    one_line,
    retry_after,
    server_reason,
)
from tests.helpers.model_server import ModelServer, error_body
from tests.helpers.ports import closed_port

REAL_ANSWERS = Path(__file__).parents[1] / "fixtures" / "real_answers"


def _first_reply(fixture: str) -> tuple[int, dict]:
    reply = json.loads((REAL_ANSWERS / fixture).read_text(encoding="utf-8"))["replies"][0]
    return reply["status"], reply["body"]


def _ask(url: str, timeout: float = 10.0) -> openai.APIError:
    client = openai.OpenAI(api_key="sk-test", base_url=url, max_retries=0, timeout=timeout)
    with pytest.raises(openai.APIError) as raised:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    return raised.value


def _failure(server: ModelServer, status: int, body: dict | str | None = None,
             headers: dict[str, str] | None = None) -> openai.APIError:
    server.fail(status, body, headers)
    return _ask(server.url)


# --- the server's words ----------------------------------------------------------------------------------------------


def test_one_line_removes_escapes_controls_and_bidi_and_joins_lines():
    said = "bad \x1b[31mred\x1b[0m\n\ttext \x1b]52;c;aGk=\x07copied \u202eevil\rend\x00"
    assert one_line(said) == "bad red text copied evil end"
    assert one_line("x" * 600) == "x" * (MAX_REASON_CHARS - 1) + "…"
    assert one_line("a b  c", limit=3) == "a…" and one_line("abc", limit=3) == "abc"


def test_exception_line_falls_back_to_the_type_name():
    assert exception_line(ValueError("two\nlines")) == "two lines"
    assert exception_line(KeyboardInterrupt()) == "KeyboardInterrupt"


def test_the_reason_is_the_message_of_an_openai_style_body(model_server):
    exc = _failure(model_server, 400, error_body(400, "first\nsecond line: the cause"))
    assert server_reason(exc) == "first second line: the cause"


def test_the_reason_keeps_a_code_the_message_does_not_name(model_server):
    body = {"error": {"message": "This model's limit is 8192 tokens", "type": "invalid_request_error",
                      "code": "context_length_exceeded"}}
    exc = _failure(model_server, 400, body)
    assert server_reason(exc) == "This model's limit is 8192 tokens (context_length_exceeded)"


def test_the_reason_reads_fastapis_detail_and_a_plain_body(model_server):
    detail = _failure(model_server, 422, {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]})
    assert "field required" in server_reason(detail) and server_reason(detail).startswith("[{")
    plain = _failure(model_server, 502, "<html>\x1b[2J Bad gateway</html>")
    assert server_reason(plain) == "<html> Bad gateway</html>"


def test_the_pause_a_server_asks_for(model_server):
    assert retry_after(_failure(model_server, 429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after(_failure(model_server, 429, headers={"retry-after-ms": "1500"})) == 1.5
    later = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 95 < (retry_after(_failure(model_server, 503, headers={"Retry-After": later})) or 0) <= 100
    assert retry_after(_failure(model_server, 429, headers={"Retry-After": "soon"})) is None
    assert retry_after(_failure(model_server, 429)) is None
    assert retry_after(ValueError("no response")) is None


@pytest.mark.parametrize("fixture", ["llama-server-context-size-exceeded-500.json",
                                     "llama-server-prompt-exceeds-context-400.json"])
def test_real_context_overflows_are_recognised(model_server, fixture):
    exc = _failure(model_server, *_first_reply(fixture))
    assert is_context_overflow(exc, server_reason(exc))
    assert failure_kind(exc, "json_schema") is None  # the request's fault, not the endpoint's


def test_a_413_is_an_overflow_whatever_it_says_and_other_errors_are_not(model_server):
    assert is_context_overflow(_failure(model_server, 413, "too big"), "too big")
    exc = _failure(model_server, 500, error_body(500, "CUDA out of memory"))
    assert not is_context_overflow(exc, server_reason(exc))
    assert failure_kind(exc) == "server error"


def test_congestion_is_a_429_or_503(model_server):
    assert congestion(_failure(model_server, 429)) == "HTTP 429"
    assert congestion(_failure(model_server, 503)) == "HTTP 503"
    assert congestion(_failure(model_server, 500)) is None


@pytest.mark.parametrize("status,retryable", [(408, True), (409, True), (429, True), (500, True), (503, True),
                                              (400, False), (401, False), (404, False), (422, False)])
def test_which_statuses_are_retried(model_server, status, retryable):
    assert is_retryable(_failure(model_server, status)) is retryable


def test_the_servers_own_word_on_retrying_wins(model_server):
    assert not is_retryable(_failure(model_server, 500, headers={"x-should-retry": "false"}))
    assert is_retryable(_failure(model_server, 400, headers={"x-should-retry": "true"}))


def test_a_refused_connection_is_seen_through_the_cause_chain():
    exc = _ask(f"http://127.0.0.1:{closed_port()}/v1")
    assert isinstance(exc, openai.APIConnectionError) and connection_refused(exc)
    assert is_retryable(exc) and endpoint_failed(exc) and failure_kind(exc) == "connection"
    assert explain(exc, "model 'm' at here", 1).startswith("could not connect to model 'm' at here: ")
    assert not connection_refused(ValueError("no cause"))


def test_a_timeout_is_an_endpoint_failure_with_the_wait_named(model_server):
    model_server.stall(2.0)
    exc = _ask(model_server.url, timeout=0.2)
    assert failure_kind(exc) == "timeout" and endpoint_failed(exc)
    assert explain(exc, "model 'm' at here", 0.2) == ("model 'm' at here did not answer within 0.2 s "
                                                     "(set --timeout to wait longer)")


@pytest.mark.parametrize("status,kind,down,sentence", [
    (401, "auth", True, "W rejected the API key (HTTP 401); check OPENAI_API_KEY"),
    (403, "auth", True, "W answered HTTP 403: scripted error 403"),
    (404, None, True, "W answered 404: the model or the endpoint path does not exist (check --model and --base-url)"),
    (429, None, False, "W answered 429 (rate limited)"),
    (500, "server error", False, "W answered HTTP 500: scripted error 500"),
])
def test_each_status_as_a_kind_and_a_sentence(model_server, status, kind, down, sentence):
    exc = _failure(model_server, status)
    assert failure_kind(exc) == kind and endpoint_failed(exc) is down
    assert explain(exc, "W", 60) == sentence


def test_a_refused_format_is_not_counted_against_the_endpoint(model_server):
    exc = _failure(model_server, *_first_reply("llama-cpp-python-json-schema-500.json"))
    assert failure_kind(exc, "json_schema") is None
    assert failure_kind(exc, "none") == "server error"  # no format asked for: the 500 is the server's fault
