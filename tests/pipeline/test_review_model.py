"""The model as the pipeline uses it (reviewbot/pipeline/review_model.py): the cache key's endpoint is the one a built
client reports, and LazyModel builds one client per model on its first real request, never before, and not at all
when nothing listens on a loopback endpoint."""

from __future__ import annotations

import socket
import threading

import pytest

from reviewbot.adapters.model_client import ChatModel, ModelSettings
from reviewbot.adapters.request_gate import RequestGate
from reviewbot.core.errors import ModelError
from reviewbot.pipeline.review_model import LazyModel, model_endpoint
from reviewbot.session import make_model_factory, prepare
from tests.helpers import TEST_MODEL

MESSAGES = [{"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": "x.py"}]


@pytest.mark.parametrize(("flag", "env_url"), [
    (None, None),  # the SDK default
    (None, "http://127.0.0.1:9/v1/"),  # OPENAI_BASE_URL, which config maps into settings.base_url
    ("https://user:pw@models.example/v1?k=s", None),  # --base-url with credentials, which the key must not hold
])
def test_model_endpoint_is_the_built_clients_endpoint(repo, monkeypatch, flag, env_url):
    """The key's endpoint must be the one a built client reports, or cached answers would never be found again."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    if env_url:
        monkeypatch.setenv("OPENAI_BASE_URL", env_url)
    ctx = prepare({"base_url": flag} if flag else {}, cwd=repo.path)
    client = make_model_factory(ctx.settings)(TEST_MODEL)  # builds the client; sends nothing
    assert model_endpoint(ctx.settings) == client.settings.endpoint
    assert "pw" not in client.settings.endpoint and "k=s" not in client.settings.endpoint


class _Factory:
    """Builds real clients for the loopback server and records every build."""

    def __init__(self, url: str, schema: dict | None = None) -> None:
        self.url, self.schema = url, schema
        self.built: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, name: str) -> ChatModel:
        with self._lock:
            self.built.append(name)
        return ChatModel(ModelSettings(model=name, base_url=self.url, api_key="k", max_retries=0),
                         use_schema=self.schema)


def test_nothing_is_built_until_a_request_is_sent_and_then_once(model_server):
    factory = _Factory(model_server.url)
    gate = RequestGate(4)
    lazy = LazyModel(TEST_MODEL, model_server.url, factory, gate)
    assert (lazy.settings.model, lazy.settings.endpoint) == (TEST_MODEL, model_server.url)
    assert lazy.format_rejections() == () and factory.built == []  # asking what was refused builds nothing

    threads = [threading.Thread(target=lazy.complete, args=(MESSAGES,), kwargs={"seed": n}) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert factory.built == [TEST_MODEL]  # four first requests at once, one client
    assert model_server.request_count == 4
    assert gate.stats().sent == 4  # the run's gate was handed to the client: every attempt went through it
    assert lazy.describe() == f"model '{TEST_MODEL}' at {model_server.url}"


def test_the_formats_the_server_refused_are_the_built_models(model_server):
    model_server.reject_response_format()
    lazy = LazyModel(TEST_MODEL, model_server.url, _Factory(model_server.url, schema={"type": "object"}))
    answer = lazy.complete(MESSAGES, max_tokens=64)
    assert answer.response_format == "none"
    refused = lazy.format_rejections()
    assert [r.split(":")[0] for r in refused] == ["json_schema", "json_object"]
    assert all("response_format json_schema is not supported by this server" in r for r in refused)


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_loopback_endpoint_with_nothing_listening_fails_before_any_client_is_built():
    endpoint = f"http://127.0.0.1:{_free_loopback_port()}/v1"
    factory = _Factory(endpoint)
    gate = RequestGate(4)
    lazy = LazyModel(TEST_MODEL, endpoint, factory, gate)
    with pytest.raises(ModelError) as refused:
        lazy.complete(MESSAGES)
    assert str(refused.value) == (f"could not connect to model '{TEST_MODEL}' at {endpoint}: connection refused "
                                  "(is the model server running?)")
    assert factory.built == []
    flow = gate.stats()
    assert (flow.sent, flow.failed) == (1, 1) and gate.is_open  # one attempt, and the run stops sending
    with pytest.raises(ModelError, match="reviewbot stopped sending requests after the first failure"):
        lazy.complete(MESSAGES)
    assert factory.built == []
