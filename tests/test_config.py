"""Layered settings: precedence, origins, validation, the credential trust rule, masking."""

from __future__ import annotations

import pytest

from reviewbot.config import key_for_endpoint, load_settings, mask
from reviewbot.errors import ConfigError
from reviewbot.sources import MemorySource


def _settings(repo_toml: str | None = None, *, env=None, cli=None, user: str | None = None, tmp_path=None):
    files = {".reviewbot.toml": repo_toml} if repo_toml is not None else {}
    user_path = None
    if user is not None:
        user_path = tmp_path / "user.toml"
        user_path.write_text(user, encoding="utf-8")
    return load_settings(repo_source=MemorySource(files), cli=cli or {}, environ=env or {},
                         user_path=user_path or (tmp_path / "none.toml" if tmp_path else None))


def test_precedence_and_origins(tmp_path):
    s = _settings('fail_on = "warning"\nconcurrency = 2\n', env={"REVIEWBOT_CONCURRENCY": "6"},
                  cli={"timeout": 5.0}, user='fail_on = "info"\nmodel = "m-user"\n', tmp_path=tmp_path)
    assert (s.fail_on, s.concurrency, s.timeout, s.model) == ("warning", 6, 5.0, "m-user")
    assert s.origins["fail_on"].startswith("repository")
    assert s.origins["concurrency"] == "env REVIEWBOT_CONCURRENCY"
    assert s.origins["timeout"] == "command line"
    assert s.origins["model"].startswith("user config")


@pytest.mark.parametrize("key, value", [
    ("timeout", "0"), ("timeout", "-1"), ("timeout", "inf"), ("timeout", "nan"), ("context_lines", "-3"),
    ("concurrency", "0"), ("max_request_tokens", "0"), ("samples", "0"), ("sample_share", "1.5"),
    ("min_confidence", "2"), ("fail_on", "sometimes"), ("cache", "maybe"),
])
def test_out_of_range_values_are_config_errors(key, value, tmp_path):
    with pytest.raises(ConfigError) as err:
        _settings(env={f"REVIEWBOT_{key.upper()}": value}, tmp_path=tmp_path)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_repository_cannot_trust_hosts_and_untrusted_endpoint_is_refused(tmp_path):
    s = _settings('base_url = "https://evil.example.com/v1"\ntrusted_hosts = ["evil.example.com"]\n',
                  env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    assert any("trusted_hosts" in w for w in s.warnings)
    with pytest.raises(ConfigError) as err:
        key_for_endpoint(s)
    assert "trusted_hosts" in str(err.value) and "sk-user" not in str(err.value)
    trusted = _settings('base_url = "https://evil.example.com/v1"\n',
                        env={"OPENAI_API_KEY": "sk-user", "REVIEWBOT_TRUSTED_HOSTS": "evil.example.com"},
                        tmp_path=tmp_path)
    assert key_for_endpoint(trusted) == "sk-user"


def test_repository_loopback_endpoint_gets_no_key(tmp_path):
    s = _settings('base_url = "http://127.0.0.1:9/v1"\n', env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    assert key_for_endpoint(s) is None
    mine = _settings(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://10.1.2.3/v1"}, tmp_path=tmp_path)
    assert key_for_endpoint(mine) == "sk-user"


def test_masking():
    assert mask("base_url", "http://user:pw@host:8080/v1") == "http://****@host:8080/v1"
    assert mask("base_url", "http://host/v1") == "http://host/v1"
    assert mask("max_request_tokens", 16000) == 16000
