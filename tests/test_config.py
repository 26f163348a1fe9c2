"""Layered settings: precedence, origins, validation, the credential trust rule, masking."""

from __future__ import annotations

import json

import pytest

from reviewbot.adapters.repository_files import MemorySource
from reviewbot.config import key_for_endpoint, load_settings, mask
from reviewbot.core.errors import ConfigError


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
    mine = _settings(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "https://10.1.2.3/v1"}, tmp_path=tmp_path)
    assert key_for_endpoint(mine) == "sk-user"


def test_the_key_never_travels_over_plain_http_unless_trusted(tmp_path):
    # The user's own plain-HTTP endpoint gets requests, but the key only once the user lists its host.
    plain = _settings(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://10.1.2.3/v1"}, tmp_path=tmp_path)
    assert key_for_endpoint(plain) is None
    listed = _settings(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://10.1.2.3/v1",
                            "REVIEWBOT_TRUSTED_HOSTS": "10.1.2.3"}, tmp_path=tmp_path)
    assert key_for_endpoint(listed) == "sk-user"
    assert key_for_endpoint(_settings(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://localhost:8/v1"},
                                      tmp_path=tmp_path)) == "sk-user"
    # A repository naming OpenAI's host over plain HTTP is refused (it would expose the key in clear text).
    clear = _settings('base_url = "http://api.openai.com/v1"\n', env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    with pytest.raises(ConfigError) as err:
        key_for_endpoint(clear)
    assert "plain HTTP" in str(err.value) and "sk-user" not in str(err.value)
    secure = _settings('base_url = "https://api.openai.com/v1"\n', env={"OPENAI_API_KEY": "sk-user"},
                       tmp_path=tmp_path)
    assert key_for_endpoint(secure) == "sk-user"


def test_base_url_and_model_come_from_the_user_before_the_repository(tmp_path):
    repo = 'base_url = "https://api.openai.com/v1"\nmodel = "very-expensive"\nfail_on = "warning"\n'
    s = _settings(repo, user='base_url = "https://llm.example/v1"\nmodel = "cheap"\nfail_on = "info"\n',
                  tmp_path=tmp_path)
    assert (s.base_url, s.model) == ("https://llm.example/v1", "cheap")
    assert s.origins["model"].startswith("user config") and s.origins["base_url"].startswith("user config")
    assert s.fail_on == "warning"  # other settings: the repository's still win over the user file
    alone = _settings(repo, tmp_path=tmp_path)  # the user set none: the repository's apply
    assert (alone.base_url, alone.model) == ("https://api.openai.com/v1", "very-expensive")


def test_repository_cost_settings_are_capped_and_the_users_are_not(tmp_path):
    from reviewbot.config import REPO_CAPS

    s = _settings("samples = 300\nconcurrency = 64\nmax_answer_tokens = 1000000\nretries = 50\n"
                  "max_requests = 100000\nagents = ['a', 'b', 'c', 'd', 'e', 'f']\n", tmp_path=tmp_path)
    assert (s.samples, s.concurrency, s.max_answer_tokens, s.retries, s.max_requests) == (
        REPO_CAPS["samples"], REPO_CAPS["concurrency"], REPO_CAPS["max_answer_tokens"], REPO_CAPS["retries"],
        REPO_CAPS["max_requests"])
    assert len(s.agents) == 4
    assert sum("above what a repository may ask for" in w for w in s.warnings) == 5
    mine = _settings("samples = 300\n", env={"REVIEWBOT_SAMPLES": "7"}, tmp_path=tmp_path)
    assert mine.samples == 7
    user = _settings(user="samples = 9\n", tmp_path=tmp_path)
    assert user.samples == 9


@pytest.mark.parametrize("toml, needle", [
    ("[tool]\nreviewbot = 5\n", "[tool]"),
    ("tool = 5\n", "[tool]"),
    ('base_url = "https://x:+443/v1"\n', "base_url"),
    ('base_url = "ftp://x/v1"\n', "base_url"),
    ('include = ["[z-a]"]\n', "include"),
    ('[path_instructions]\n"[z-a]" = "x"\n', "path_instructions"),
])
def test_hostile_config_shapes_are_one_line_config_errors(toml, needle, tmp_path):
    with pytest.raises(ConfigError) as err:
        _settings(toml, tmp_path=tmp_path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_pyproject_tool_reviewbot_that_is_not_a_table(tmp_path):
    src = MemorySource({"pyproject.toml": "[tool]\nreviewbot = 5\n"})
    with pytest.raises(ConfigError) as err:
        load_settings(repo_source=src, cli={}, environ={}, user_path=tmp_path / "none.toml")
    assert "pyproject.toml" in str(err.value)


def test_unknown_key_names_cannot_reach_the_terminal_raw(tmp_path):
    s = _settings('"evil\\u001b]52;c;Y3VybA==\\u0007\\u001b[2J" = 1\n', tmp_path=tmp_path)
    (warning,) = s.warnings
    assert "\x1b" not in warning and "\x07" not in warning and "unknown setting" in warning


def test_masking():
    assert mask("base_url", "http://user:pw@host:8080/v1") == "http://****@host:8080/v1"
    assert mask("base_url", "http://host/v1") == "http://host/v1"
    assert mask("max_request_tokens", 16000) == 16000


def test_glob_and_file_lists_are_bounded(tmp_path):
    many = ", ".join(f'"dir{i}/**"' for i in range(501))
    with pytest.raises(ConfigError) as err:
        _settings(f"exclude = [{many}]\n", tmp_path=tmp_path)
    assert "exclude" in str(err.value) and "at most 500" in str(err.value)
    assert len(_settings(f"exclude = [{many.rsplit(', ', 1)[0]}]\n", tmp_path=tmp_path).exclude) == 500


@pytest.mark.parametrize("pattern", ["*a*a*a*b", "/".join(["**"] * 4) + "/x", "x" * 600, "{a,b}{c,d}{e,f}{g,h}{i,j}"])
def test_globs_whose_matching_could_take_minutes_are_refused(pattern, tmp_path):
    with pytest.raises(ConfigError) as err:
        _settings(f"include = [{json.dumps(pattern)}]\n", tmp_path=tmp_path)
    assert "include" in str(err.value)
