"""What an endpoint's URL says: local or hosted, how long to wait, how it is shown."""

from __future__ import annotations

import pytest

from reviewbot.adapters.endpoint import (
    DEFAULT_OPENAI_URL,
    HOSTED_TIMEOUT,
    answer_timeout,
    is_local_url,
    shown_endpoint,
)


@pytest.mark.parametrize("url", ["http://localhost:11434/v1", "http://127.0.0.1:8080/v1", "http://[::1]:1234/v1",
                                 "http://192.168.1.20:8000/v1", "http://10.0.0.5/v1", "http://ollama:11434/v1",
                                 "http://gpu.lan/v1", "http://box.local/v1", "http://api.internal/v1",
                                 "http://169.254.1.1/v1"])
def test_local_endpoints(url):
    assert is_local_url(url)


@pytest.mark.parametrize("url", [DEFAULT_OPENAI_URL, "https://api.example.com/v1", "http://8.8.8.8/v1",
                                 "http://[2001:4860::8888]/v1", "not a url", ""])
def test_hosted_endpoints_and_urls_without_a_host(url):
    assert not is_local_url(url)


def test_local_servers_are_waited_for_by_the_answer_they_are_asked_for():
    assert answer_timeout("http://127.0.0.1:8080/v1", 4096) == 60 + 4096 / 8
    assert answer_timeout("http://127.0.0.1:8080/v1", 256) == 60 + 32
    assert answer_timeout("https://api.example.com/v1", 4096) == HOSTED_TIMEOUT == 120


@pytest.mark.parametrize("url,shown", [
    ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
    ("http://user:pw@host.example:8080/v1?key=s#frag", "http://host.example:8080/v1"),
    ("http://127.0.0.1:1234/v1?api-key=s", "http://127.0.0.1:1234/v1"),
    ("http://u:p@[::1]:8000/v1/", "http://[::1]:8000/v1"),
    ("http://u@host:99999/v1", "http://host/v1"),  # a port out of range is left out, not raised
])
def test_the_shown_endpoint_carries_no_credentials(url, shown):
    assert shown_endpoint(url) == shown
