"""The response-format ladder: stepping down once per endpoint, what counts as a refusal, what is asked for."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reviewbot.adapters.response_format import (
    RESPONSE_FORMATS,
    FormatLadder,
    format_request,
    format_used,
    rejects_format,
)
from reviewbot.core.errors import ConfigError

SCHEMA = {"type": "object", "properties": {"findings": {"type": "array"}}}
LLAMA_CPP_PYTHON = Path(__file__).parents[1] / "fixtures" / "real_answers" / "llama-cpp-python-json-schema-500.json"


def test_auto_steps_down_to_no_format_and_says_why():
    ladder = FormatLadder()
    assert ladder.setting == "auto" and ladder.current == "json_schema"
    assert ladder.step_down("json_schema", "HTTP 400: no schema") and ladder.current == "json_object"
    assert ladder.step_down("json_object", "HTTP 500: no grammar") and ladder.current == "none"
    assert not ladder.step_down("none", "anything")  # nothing below
    assert ladder.rejections == ["json_schema: HTTP 400: no schema", "json_object: HTTP 500: no grammar"]
    assert ladder.hint("none") == ""


def test_a_rung_another_thread_left_already_is_not_left_twice():
    ladder = FormatLadder("auto")
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(ladder.step_down("json_schema", "no")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8 and ladder.current == "json_object" and len(ladder.rejections) == 1


@pytest.mark.parametrize("setting", ["json_schema", "json_object", "none"])
def test_a_fixed_setting_is_one_rung_with_a_hint(setting):
    ladder = FormatLadder(setting)
    assert ladder.current == setting and not ladder.step_down(setting, "refused") and not ladder.rejections
    assert ladder.hint(setting) == f' (response_format = {setting} is set; try response_format = "auto")'


def test_an_unknown_setting_is_a_config_error():
    with pytest.raises(ConfigError, match="response_format must be one of auto, json_schema, json_object, none"):
        FormatLadder("xml")
    assert RESPONSE_FORMATS == ("auto", "json_schema", "json_object", "none")


@pytest.mark.parametrize("status", [400, 415, 422])
def test_a_4xx_about_the_request_rejects_the_format(status):
    assert rejects_format(status, "json_schema", "anything")


@pytest.mark.parametrize("status", [401, 403, 404, 408, 409, 429])
def test_a_4xx_about_the_key_model_path_or_rate_does_not(status):
    assert not rejects_format(status, "json_schema", "response_format")


def test_a_5xx_rejects_the_format_only_when_it_names_it():
    body = json.loads(LLAMA_CPP_PYTHON.read_text(encoding="utf-8"))["replies"][0]["body"]
    assert rejects_format(500, "json_schema", body["error"]["message"])
    assert rejects_format(503, "json_object", "grammar-based sampling is not supported")
    assert not rejects_format(500, "json_schema", "CUDA out of memory")


def test_nothing_is_rejected_when_no_format_was_asked_for():
    assert not rejects_format(400, "none", "response_format")


def test_what_each_rung_asks_for():
    assert format_request("json_schema", SCHEMA, "review") == {
        "type": "json_schema", "json_schema": {"name": "review", "strict": True, "schema": SCHEMA}}
    assert format_request("json_schema", None, "review") == {"type": "json_object"}
    assert format_request("json_object", SCHEMA, "review") == {"type": "json_object"}
    assert format_request("none", SCHEMA, "review") is None
    assert [format_used(r, SCHEMA) for r in ("json_schema", "json_object", "none")] == [
        "json_schema", "json_object", "none"]
    assert format_used("json_schema", None) == "json_object"
