"""Loading the settings in layers: precedence, origins, the repository's limits, files that are not what they
should be, one-line errors naming the key and where it came from."""

from __future__ import annotations

import json

import pytest

from reviewbot.adapters.repository_files import MemorySource
from reviewbot.config import REPO_CAPS, load_settings, read_repo_config, user_config_path
from reviewbot.core.errors import ConfigError
from tests.config.support import load


def test_precedence_and_origins(tmp_path):
    s = load('fail_on = "warning"\nconcurrency = 2\n', env={"REVIEWBOT_CONCURRENCY": "6"},
             cli={"timeout": 5.0}, user='fail_on = "info"\nmodel = "m-user"\n', tmp_path=tmp_path)
    assert (s.fail_on, s.concurrency, s.timeout, s.model) == ("warning", 6, 5.0, "m-user")
    assert s.origins["fail_on"].startswith("repository")
    assert s.origins["concurrency"] == "env REVIEWBOT_CONCURRENCY"
    assert s.origins["timeout"] == "command line"
    assert s.origins["model"].startswith("user config")
    assert s.origins["seed"] == "default"


def test_flags_left_unset_do_not_count_and_command_defaults_are_named(tmp_path):
    s = load_settings(repo_source=None, cli={"model": None, "agents": (), "samples": 2}, environ={},
                      user_path=tmp_path / "none.toml", command_defaults={"format": "github"})
    assert (s.model, s.agents, s.samples, s.format) == (None, [], 2, "github")
    assert s.origins["format"] == "default for this command" and s.origins["model"] == "default"


def test_the_environment_names_keys_and_openai_base_url_is_a_fallback(tmp_path):
    s = load(env={"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "REVIEWBOT_EXCLUDE": "a/**, b/**",
                  "REVIEWBOT_CACHE": "", "OPENAI_API_KEY": "sk-openai"}, tmp_path=tmp_path)
    assert s.base_url == "http://127.0.0.1:1/v1" and s.origins["base_url"] == "env OPENAI_BASE_URL"
    assert s.exclude == ["a/**", "b/**"] and s.cache is True  # an empty variable is unset
    assert s.api_key == "sk-openai"
    own = load(env={"OPENAI_BASE_URL": "http://a/v1", "REVIEWBOT_BASE_URL": "http://b/v1",
                    "OPENAI_API_KEY": "sk-openai", "REVIEWBOT_API_KEY": "sk-own"}, tmp_path=tmp_path)
    assert own.base_url == "http://b/v1" and own.api_key == "sk-own"


@pytest.mark.parametrize("key, value", [
    ("timeout", "0"), ("timeout", "-1"), ("timeout", "inf"), ("timeout", "nan"), ("context_lines", "-3"),
    ("concurrency", "0"), ("max_request_tokens", "0"), ("samples", "0"), ("sample_share", "1.5"),
    ("min_confidence", "2"), ("fail_on", "sometimes"), ("cache", "maybe"),
])
def test_out_of_range_values_are_config_errors(key, value, tmp_path):
    with pytest.raises(ConfigError) as err:
        load(env={f"REVIEWBOT_{key.upper()}": value}, tmp_path=tmp_path)
    assert key in str(err.value) and "\n" not in str(err.value)
    assert f"env REVIEWBOT_{key.upper()}" in str(err.value)


def test_base_url_and_model_come_from_the_user_before_the_repository(tmp_path):
    repo = 'base_url = "https://api.openai.com/v1"\nmodel = "very-expensive"\nfail_on = "warning"\n'
    s = load(repo, user='base_url = "https://llm.example/v1"\nmodel = "cheap"\nfail_on = "info"\n', tmp_path=tmp_path)
    assert (s.base_url, s.model) == ("https://llm.example/v1", "cheap")
    assert s.origins["model"].startswith("user config") and s.origins["base_url"].startswith("user config")
    assert s.fail_on == "warning"  # other settings: the repository's still win over the user file
    alone = load(repo, tmp_path=tmp_path)  # the user set none: the repository's apply
    assert (alone.base_url, alone.model) == ("https://api.openai.com/v1", "very-expensive")


def test_a_repository_cannot_trust_hosts(tmp_path):
    s = load('trusted_hosts = ["evil.example.com"]\n', tmp_path=tmp_path)
    assert s.trusted_hosts == []
    assert s.warnings == ("'trusted_hosts' in repository (.reviewbot.toml) is ignored: only your own settings may "
                          "trust hosts",)


def test_repository_cost_settings_are_capped_and_the_users_are_not(tmp_path):
    s = load("samples = 300\nconcurrency = 64\nmax_answer_tokens = 1000000\nretries = 50\n"
             "max_requests = 100000\nagents = ['a', 'b', 'c', 'd', 'e', 'f']\n", tmp_path=tmp_path)
    assert (s.samples, s.concurrency, s.max_answer_tokens, s.retries, s.max_requests) == (
        REPO_CAPS["samples"], REPO_CAPS["concurrency"], REPO_CAPS["max_answer_tokens"], REPO_CAPS["retries"],
        REPO_CAPS["max_requests"])
    assert len(s.agents) == 4
    assert sum("above what a repository may ask for" in w for w in s.warnings) == 5
    mine = load("samples = 300\n", env={"REVIEWBOT_SAMPLES": "7"}, tmp_path=tmp_path)
    assert mine.samples == 7
    user = load(user="samples = 9\n", tmp_path=tmp_path)
    assert user.samples == 9


def test_a_capped_float_stays_a_float(tmp_path):
    s = load("timeout = 9000\n", tmp_path=tmp_path)
    assert s.timeout == 300.0 and isinstance(s.timeout, float)


@pytest.mark.parametrize("toml, needle", [
    ("[tool]\nreviewbot = 5\n", "[tool]"),
    ("tool = 5\n", "[tool]"),
    ('base_url = "https://x:+443/v1"\n', "base_url"),
    ('base_url = "ftp://x/v1"\n', "base_url"),
    ('include = ["[z-a]"]\n', "include"),
    ('[path_instructions]\n"[z-a]" = "x"\n', "path_instructions"),
    ("fail_on = \n", "not valid TOML"),
    ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
])
def test_hostile_config_shapes_are_one_line_config_errors(toml, needle, tmp_path):
    with pytest.raises(ConfigError) as err:
        load(toml, tmp_path=tmp_path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_pyproject_tool_reviewbot_that_is_not_a_table(tmp_path):
    src = MemorySource({"pyproject.toml": "[tool]\nreviewbot = 5\n"})
    with pytest.raises(ConfigError) as err:
        load_settings(repo_source=src, cli={}, environ={}, user_path=tmp_path / "none.toml")
    assert "pyproject.toml" in str(err.value)


def test_which_repository_file_is_read():
    assert read_repo_config(None) == ({}, None)
    assert read_repo_config(MemorySource({})) == ({}, None)
    both = MemorySource({".reviewbot.toml": "samples = 2\n", "pyproject.toml": "[tool.reviewbot]\nsamples = 3\n"})
    assert read_repo_config(both) == ({"samples": 2}, ".reviewbot.toml")
    nested = MemorySource({".reviewbot.toml": "[tool.reviewbot]\nsamples = 2\n"})
    assert read_repo_config(nested) == ({"samples": 2}, ".reviewbot.toml")
    pyproject = MemorySource({"pyproject.toml": "[tool.black]\nline-length = 9\n[tool.reviewbot]\nsamples = 3\n"})
    assert read_repo_config(pyproject) == ({"samples": 3}, "pyproject.toml [tool.reviewbot]")
    assert read_repo_config(MemorySource({"pyproject.toml": "[tool.black]\n"})) == ({}, None)


def test_the_user_file_is_under_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_config_path() == tmp_path / "xdg" / "reviewbot" / "config.toml"
    user_config_path().parent.mkdir(parents=True)
    user_config_path().write_text('model = "from-xdg"\n', encoding="utf-8")
    s = load_settings(repo_source=None, environ={})
    assert s.model == "from-xdg" and s.origins["model"] == f"user config ({user_config_path()})"


def test_an_unreadable_user_file_is_a_config_error(tmp_path):
    bad = tmp_path / "user.toml"
    bad.write_bytes(b'model = "\xff"\n')
    with pytest.raises(ConfigError, match="cannot read .*user.toml"):
        load_settings(repo_source=None, environ={}, user_path=bad)


def test_unknown_key_names_cannot_reach_the_terminal_raw(tmp_path):
    s = load('"evil\\u001b]52;c;Y3VybA==\\u0007\\u001b[2J" = 1\n', tmp_path=tmp_path)
    (warning,) = s.warnings
    assert "\x1b" not in warning and "\x07" not in warning and "unknown setting" in warning


def test_glob_and_file_lists_are_bounded(tmp_path):
    many = ", ".join(f'"dir{i}/**"' for i in range(501))
    with pytest.raises(ConfigError) as err:
        load(f"exclude = [{many}]\n", tmp_path=tmp_path)
    assert "exclude" in str(err.value) and "at most 500" in str(err.value)
    assert len(load(f"exclude = [{many.rsplit(', ', 1)[0]}]\n", tmp_path=tmp_path).exclude) == 500


@pytest.mark.parametrize("pattern", ["*a*a*a*b", "/".join(["**"] * 4) + "/x", "x" * 600, "{a,b}{c,d}{e,f}{g,h}{i,j}"])
def test_globs_whose_matching_could_take_minutes_are_refused(pattern, tmp_path):
    with pytest.raises(ConfigError) as err:
        load(f"include = [{json.dumps(pattern)}]\n", tmp_path=tmp_path)
    assert "include" in str(err.value)
