"""Executing a plan: the cache key holds the endpoint a built client reports, and each model's client is built once,
on its first cache miss (an all-cached run builds none)."""

from __future__ import annotations

import threading

import pytest

from reviewbot.adapters.git import DiffSpec
from reviewbot.adapters.model_client import ChatModel
from reviewbot.adapters.result_cache import ResultCache
from reviewbot.pipeline import execution, review
from reviewbot.session import collect_diff, load_agents, make_model_factory, model_for_agent, prepare
from tests.helpers import TEST_MODEL
from tests.helpers.service_change import stage as _stage


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
    assert execution.model_endpoint(ctx.settings) == client.settings.endpoint
    assert "pw" not in client.settings.endpoint and "k=s" not in client.settings.endpoint


def _planned(repo, samples: int):
    """A plan of `samples` requests (one chunk, sampled with different seeds), run 4 at a time."""
    _stage(repo)
    cli = {"samples": samples, "concurrency": 4}
    ctx = prepare(cli, cwd=repo.path)
    diff = collect_diff(ctx, DiffSpec(staged=True))
    agents = load_agents(ctx)
    return ctx, review.plan(diff, ctx.settings, agents=agents, source=ctx.source,
                            model_for=model_for_agent(ctx.settings))


def test_execute_builds_one_client_per_model_on_the_first_miss(repo, model_server):
    ctx, the_plan = _planned(repo, 4)
    assert len(the_plan.requests) == 4
    real_factory = make_model_factory(ctx.settings)
    built: list[str] = []
    lock = threading.Lock()

    def counting_factory(name: str) -> ChatModel:
        with lock:
            built.append(name)
        return real_factory(name)

    with ResultCache() as cache:
        result = execution.execute(the_plan, ctx.settings, model_factory=counting_factory, cache=cache)
        assert result.usage.requests == 4 and not result.failed
        assert built == [TEST_MODEL]  # four concurrent misses, one client

        built.clear()
        again = execution.execute(the_plan, ctx.settings, model_factory=counting_factory, cache=cache)
    assert again.usage.cached == 4 and again.usage.requests == 0
    assert built == []  # every answer from the cache: no client at all
    assert model_server.request_count == 4
