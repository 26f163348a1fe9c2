"""The Settings record and KEYS: one key per typed field, choices declared once, defaults never shared."""

from __future__ import annotations

from dataclasses import fields

from reviewbot.adapters.response_format import RESPONSE_FORMATS
from reviewbot.config import KEYS, Settings, choices_of
from reviewbot.core.models import Severity
from reviewbot.pipeline.findings import FILTER_MODES
from reviewbot.rules.agents import DEFAULT_AGENT


def test_every_field_but_the_bookkeeping_is_a_key():
    names = [f.name for f in fields(Settings)]
    assert list(KEYS) == [n for n in names if n not in ("origins", "warnings", "api_key")]
    for key in KEYS.values():
        assert key.help and "\n" not in key.help and key.convert is not None
        assert getattr(Settings(), key.name) == key.default


def test_choice_keys_offer_the_values_the_modules_using_them_declare():
    assert choices_of("fail_on") == ("error", "warning", "info", "never")
    assert choices_of("on_error") == ("warn", "fail")
    assert choices_of("filter_mode") == FILTER_MODES
    assert choices_of("response_format") == RESPONSE_FORMATS
    assert choices_of("model") == () and choices_of("format") == ()  # format: the reporters' table decides
    assert Settings().agent == DEFAULT_AGENT


def test_list_and_table_defaults_are_not_shared():
    first, second = Settings(), Settings()
    first.exclude.append("x")
    first.path_instructions["a"] = "b"
    assert second.exclude == [] and second.path_instructions == {} and KEYS["exclude"].default == []


def test_derived_values():
    s = Settings(fail_on="warning", agents=["a", "b"], api_key="sk-secret")
    assert s.fail_on_severity is Severity.WARNING and Settings(fail_on="never").fail_on_severity is None
    assert s.agent_refs == ["a", "b"] and Settings(agent="solo").agent_refs == ["solo"]
    assert dict(s.values) == {name: getattr(s, name) for name in KEYS} and "api_key" not in s.values
    assert "sk-secret" not in repr(s)
