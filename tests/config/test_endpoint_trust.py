"""Which endpoint may receive the user's API key: HTTPS, loopback or a trusted host; never one the repository chose
and the user did not trust."""

from __future__ import annotations

import pytest

from reviewbot.config import Settings, key_for_endpoint
from reviewbot.core.errors import ConfigError
from tests.config.support import load

REPOSITORY = "repository (.reviewbot.toml)"


def _chosen_by(origin: str, base_url: str | None, trusted: list[str] | None = None) -> Settings:
    return Settings(base_url=base_url, trusted_hosts=trusted or [], origins={"base_url": origin}, api_key="sk-user")


def test_repository_cannot_trust_hosts_and_untrusted_endpoint_is_refused(tmp_path):
    s = load('base_url = "https://evil.example.com/v1"\ntrusted_hosts = ["evil.example.com"]\n',
             env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    assert any("trusted_hosts" in w for w in s.warnings)
    with pytest.raises(ConfigError) as err:
        key_for_endpoint(s)
    assert "trusted_hosts" in str(err.value) and "sk-user" not in str(err.value)
    trusted = load('base_url = "https://evil.example.com/v1"\n',
                   env={"OPENAI_API_KEY": "sk-user", "REVIEWBOT_TRUSTED_HOSTS": "evil.example.com"}, tmp_path=tmp_path)
    assert key_for_endpoint(trusted) == "sk-user"


def test_repository_loopback_endpoint_gets_no_key(tmp_path):
    s = load('base_url = "http://127.0.0.1:9/v1"\n', env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    assert key_for_endpoint(s) is None
    mine = load(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "https://10.1.2.3/v1"}, tmp_path=tmp_path)
    assert key_for_endpoint(mine) == "sk-user"


def test_the_key_never_travels_over_plain_http_unless_trusted(tmp_path):
    # The user's own plain-HTTP endpoint gets requests, but the key only once the user lists its host.
    plain = load(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://10.1.2.3/v1"}, tmp_path=tmp_path)
    assert key_for_endpoint(plain) is None
    listed = load(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://10.1.2.3/v1",
                       "REVIEWBOT_TRUSTED_HOSTS": "10.1.2.3"}, tmp_path=tmp_path)
    assert key_for_endpoint(listed) == "sk-user"
    assert key_for_endpoint(load(env={"OPENAI_API_KEY": "sk-user", "OPENAI_BASE_URL": "http://localhost:8/v1"},
                                 tmp_path=tmp_path)) == "sk-user"
    # A repository naming OpenAI's host over plain HTTP is refused (it would expose the key in clear text).
    clear = load('base_url = "http://api.openai.com/v1"\n', env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    with pytest.raises(ConfigError) as err:
        key_for_endpoint(clear)
    assert "plain HTTP" in str(err.value) and "sk-user" not in str(err.value)
    secure = load('base_url = "https://api.openai.com/v1"\n', env={"OPENAI_API_KEY": "sk-user"}, tmp_path=tmp_path)
    assert key_for_endpoint(secure) == "sk-user"


def test_without_a_base_url_the_key_goes_to_the_sdks_default():
    assert key_for_endpoint(_chosen_by("default", None)) == "sk-user"


@pytest.mark.parametrize("url", ["http://localhost:8080/v1", "http://localhost.localdomain/v1",
                                 "http://llm.localhost/v1", "http://127.0.0.2/v1", "http://[::1]:8000/v1"])
def test_loopback_gets_the_users_key_but_never_the_repositorys_choice(url):
    assert key_for_endpoint(_chosen_by("env OPENAI_BASE_URL", url)) == "sk-user"
    assert key_for_endpoint(_chosen_by(REPOSITORY, url)) is None


def test_a_trusted_host_may_be_named_with_its_port_in_any_case():
    assert key_for_endpoint(_chosen_by(REPOSITORY, "http://GPU.example:8000/v1", ["gpu.example:8000"])) == "sk-user"
    assert key_for_endpoint(_chosen_by(REPOSITORY, "http://gpu.example:8000/v1", ["GPU.EXAMPLE"])) == "sk-user"
    with pytest.raises(ConfigError) as err:
        key_for_endpoint(_chosen_by(REPOSITORY, "http://gpu.example:8000/v1", ["gpu.example:9000"]))
    assert "gpu.example:8000, which you have not trusted" in str(err.value)
    assert 'trusted_hosts = ["gpu.example:8000"]' in str(err.value)
    assert "REVIEWBOT_TRUSTED_HOSTS=gpu.example:8000" in str(err.value)
