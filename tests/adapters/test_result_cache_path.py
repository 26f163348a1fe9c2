"""Cache first, model later: a review whose answers all come from the cache builds no model client.

Building a ChatModel imports openai (~0.45 s). `review.execute` keys the cache on the endpoint alone and builds each
model's client on its first cache miss, so an unchanged rerun never imports openai and sends nothing.

Whether openai was imported is read from the interpreter's own import log (`PYTHONPROFILEIMPORTTIME=1`, the
environment form of `python -X importtime`): it lists every module the process imported, threads included, and needs
no hook inside the program under test.
"""

from __future__ import annotations

import re
import threading

import pytest

from reviewbot.adapters.git import DiffSpec
from reviewbot.adapters.model_client import ChatModel
from reviewbot.pipeline import execution, review
from reviewbot.session import collect_diff, load_agents, make_model_factory, model_for_agent, prepare
from tests.helpers import TEST_MODEL

BEFORE = "".join(f"value_{i} = {i}\n" for i in range(1, 21))
ADDED = ["async def handler(request):", "    time.sleep(5)", "    return request"]
PATH = "app/service.py"


def _stage(repo, path: str = PATH) -> None:
    repo.write(path, BEFORE)
    repo.add(path)
    repo.commit(f"base of {path}")
    repo.write(path, BEFORE + "".join(line + "\n" for line in ADDED))
    repo.add(path)


def _imported(stderr: str) -> set[str]:
    """Top-level packages named in a PYTHONPROFILEIMPORTTIME log ("import time: self | cumulative | name")."""
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", stderr, re.MULTILINE)
    return {name.split(".")[0] for name in names}


def _review(run_reviewbot, *args: str):
    proc = run_reviewbot("diff", "--staged", *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    return proc, _imported(proc.stderr)


def test_unchanged_rerun_imports_no_openai_and_sends_nothing(repo, model_server, run_reviewbot, isolated_env):
    _stage(repo)
    first, first_imports = _review(run_reviewbot)
    assert first.returncode == 0, first.stderr[-2000:]
    assert model_server.request_count == 1
    assert "openai" in first_imports  # the probe sees the import when it happens
    assert "reviewbot" in first_imports
    assert list(isolated_env.cache.glob("reviewbot/cache.sqlite3"))  # the cache lives in the isolated XDG folder

    again, again_imports = _review(run_reviewbot)
    assert again.returncode == 0, again.stderr[-2000:]
    assert model_server.request_count == 1  # nothing sent
    assert "openai" not in again_imports
    assert {"httpx", "pydantic"}.isdisjoint(again_imports)
    assert "reviewbot" in again_imports  # the log was written: an empty one would prove nothing
    assert again.stdout == first.stdout
    assert "1 cached" in again.stderr


def test_cached_findings_and_verification_need_no_client(repo, model_server, run_reviewbot):
    """With --verify the verification answers are cached too; a rerun reads both without building a client."""
    _stage(repo)

    def route(body):
        if "verification pass" in body["messages"][0]["content"]:
            return {"verdicts": [{"id": 1, "verdict": "confirm", "reason": "sleep blocks the loop"}]}
        return {"findings": [{"path": PATH, "line": 22, "severity": "error", "category": "async",
                              "message": "time.sleep blocks the event loop"}], "summary": ""}

    model_server.default = route
    first, first_imports = _review(run_reviewbot, "--verify")
    assert first.returncode == 1, first.stderr[-2000:]
    assert f"{PATH}:22: error: time.sleep blocks the event loop" in first.stdout
    assert model_server.request_count == 2 and "openai" in first_imports

    again, again_imports = _review(run_reviewbot, "--verify")
    assert again.returncode == 1, again.stderr[-2000:]
    assert again.stdout == first.stdout
    assert model_server.request_count == 2
    assert "openai" not in again_imports and "reviewbot" in again_imports


def test_a_changed_diff_builds_the_client_for_its_miss(repo, model_server, run_reviewbot):
    _stage(repo)
    first, _ = _review(run_reviewbot)
    assert first.returncode == 0, first.stderr[-2000:]
    repo.write("app/other.py", "def other():\n    return 1\n")
    repo.add("app/other.py")
    again, imports = _review(run_reviewbot)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "openai" in imports  # a miss needs the client, built on demand
    assert model_server.request_count == 2
    assert "app/other.py" in model_server.prompt_text(-1)


# --- in-process: the endpoint in the key, one client per model ------------------------------------------------


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

    from reviewbot.adapters.result_cache import ResultCache

    with ResultCache() as cache:
        result = execution.execute(the_plan, ctx.settings, model_factory=counting_factory, cache=cache)
        assert result.usage.requests == 4 and not result.failed
        assert built == [TEST_MODEL]  # four concurrent misses, one client

        built.clear()
        again = execution.execute(the_plan, ctx.settings, model_factory=counting_factory, cache=cache)
    assert again.usage.cached == 4 and again.usage.requests == 0
    assert built == []  # every answer from the cache: no client at all
    assert model_server.request_count == 4
