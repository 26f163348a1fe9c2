"""Settings as shown and written: secrets masked, values as TOML literals that read back as the same value."""

from __future__ import annotations

import tomllib

import pytest

from reviewbot.config import KEYS, mask, toml_literal


def test_masking():
    assert mask("base_url", "http://user:pw@host:8080/v1") == "http://****@host:8080/v1"
    assert mask("base_url", "http://user@host/v1") == "http://****@host/v1"
    assert mask("base_url", "http://host/v1") == "http://host/v1"
    assert mask("max_request_tokens", 16000) == 16000


@pytest.mark.parametrize("name", ["api_key", "github_token", "client_secret", "proxy_password"])
def test_values_of_keys_named_like_secrets_are_hidden(name):
    assert mask(name, "hunter2") == "****"
    assert mask(name, "") == ""  # nothing to hide


@pytest.mark.parametrize("value", [True, False, 0, 16000, 0.5, 300.0, "", 'quote " and \\ and é',
                                   ["a/**", "b"], [], {"src/**": "be strict", "a\"b": "x"}, {}])
def test_toml_literals_read_back_as_the_same_value(value):
    assert tomllib.loads(f"v = {toml_literal(value)}\n")["v"] == value


def test_every_default_has_a_toml_form_and_none_is_refused():
    for key in KEYS.values():
        if key.default is not None:
            assert "\n" not in toml_literal(key.default)
    assert toml_literal(("a", "b")) == '["a", "b"]'
    with pytest.raises(TypeError, match="no TOML form for None"):
        toml_literal(None)
