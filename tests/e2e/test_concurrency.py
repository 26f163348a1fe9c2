"""Issue 15: fewer, fuller requests; adaptive concurrency; a stable prompt prefix; a circuit breaker.

End to end through the CLI, the real openai client and the loopback model server (which can limit how many requests
it works on at once, answering 429 beyond, and report a prompt cache), plus the flow-control logic
(reviewbot/adapters/request_gate.py) on its own with a clock the test owns. No test here times anything: the wall-time
targets are measured by benchmarks/latency.py.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import Fail
from tests.helpers.ports import closed_port

FILES = 16
# Small requests, so that every file is a request of its own: the protocol and persona take ~1,300 tokens.
ONE_FILE_PER_REQUEST = {"REVIEWBOT_MAX_REQUEST_TOKENS": "2800", "REVIEWBOT_MAX_ANSWER_TOKENS": "256"}


def _module(i: int, lines: int = 40) -> str:
    return "".join(f"def handler_{i}_{n}(request):\n    return request.get('k{n}')\n" for n in range(lines // 2))


@pytest.fixture
def many_files(repo):
    repo.commit_files({"README.md": "base\n"})
    for i in range(FILES):
        repo.write(f"app/mod_{i:02d}.py", _module(i))
    repo.stage_all()
    return repo


def _paths_in(body: dict) -> set[str]:
    text = "\n".join(m.get("content") or "" for m in body["messages"])
    return {line.split("## File: ", 1)[1].split(" (", 1)[0]
            for line in text.splitlines() if line.startswith("## File: ")}


def _review_json(run_cli, *args: str, env: dict | None = None) -> tuple[object, dict]:
    result = run_cli("diff", "--staged", "--format", "json", *args, env={**ONE_FILE_PER_REQUEST, **(env or {})})
    assert "Traceback" not in result.stderr
    return result, json.loads(result.stdout)["summary"]


# --- fewer, fuller requests ------------------------------------------------------------------------------------------


def test_a_known_model_gets_fewer_fuller_requests_covering_the_same_lines(repo, run_cli):
    repo.commit_files({"README.md": "base\n"})
    for i in range(40):
        repo.write(f"app/mod_{i:02d}.py", _module(i, 120))
    repo.stage_all()

    def planned(model: str) -> tuple[int, set[str]]:
        result = run_cli("diff", "--staged", "--dry-run", "--no-cache", env={"REVIEWBOT_MODEL": model,
                                                                            "OPENAI_API_KEY": "sk-x"})
        assert result.exit_code == 0, result.stderr
        headers = [ln for ln in result.stdout.splitlines() if ln.startswith("=== request ")]
        files = {ln.split("## File: ", 1)[1] for ln in result.stdout.splitlines() if ln.startswith("## File: ")}
        return len(headers), files

    small, small_files = planned("local-model")
    big, big_files = planned("gpt-4o-mini")
    assert big_files == small_files and len(big_files) == 40  # the same files, every one of them
    assert big < small  # 32k budget instead of 16k
    assert big <= small * 0.6


# --- adaptive concurrency --------------------------------------------------------------------------------------------


def test_busy_server_gets_fewer_requests_at_once_and_no_request_is_lost(many_files, model_server, run_cli):
    model_server.latency = 0.4  # long enough that the first wave overlaps even on a busy machine
    model_server.max_concurrent = 2
    model_server.busy_retry_after = "0"

    result, summary = _review_json(run_cli)

    assert result.exit_code == 0, result.stderr
    assert summary["failed"] == [] and len(summary["files_reviewed"]) == FILES  # no request lost
    answered = model_server.request_count - model_server.busy_rejections
    assert answered == FILES
    seen = set().union(*(_paths_in(b) for b in model_server.requests))
    assert seen == set(summary["files_reviewed"])
    assert model_server.busy_rejections > 0  # the first wave (8) was more than the server takes
    flow = summary["concurrency"]
    assert flow["cap"] == 16 and flow["lowest"] is not None and flow["lowest"] <= 2 and flow["backoffs"] >= 1
    # Every attempt the server saw is counted, the turned-away ones as failed.
    assert summary["usage"]["requests"] == model_server.request_count
    assert summary["usage"]["failed"] == model_server.busy_rejections
    assert f"({model_server.busy_rejections} failed)" in result.stderr
    assert "backed off to" in result.stderr


def test_the_users_concurrency_cap_is_respected(many_files, model_server, run_cli):
    model_server.latency = 0.2
    result, summary = _review_json(run_cli, "--concurrency", "3")
    assert result.exit_code == 0, result.stderr
    assert model_server.peak_in_flight <= 3
    assert summary["concurrency"]["cap"] == 3 and summary["concurrency"]["peak"] <= 3
    assert model_server.request_count == FILES and summary["usage"]["failed"] == 0


def test_a_healthy_server_gets_the_whole_cap_after_the_first_answer(many_files, model_server, run_cli):
    for i in range(FILES, FILES + 8):  # 24 requests: the probe window of 8, then the other 16 at once
        many_files.write(f"app/mod_{i:02d}.py", _module(i))
    many_files.stage_all()
    model_server.latency = 0.5
    result, summary = _review_json(run_cli)
    assert result.exit_code == 0, result.stderr
    assert model_server.request_count == FILES + 8
    assert summary["concurrency"]["final"] == 16 and summary["concurrency"]["lowest"] is None
    assert model_server.peak_in_flight > 8  # beyond the probe window once the endpoint answered
    assert "up to " in result.stderr and " at once" in result.stderr


# --- fail fast -------------------------------------------------------------------------------------------------------


def test_breaker_stops_an_all_500_run_within_a_few_requests(many_files, model_server, run_cli):
    model_server.default = lambda body: Fail(500)

    result, summary = _review_json(run_cli)

    assert result.exit_code == 3
    assert model_server.request_count <= 10  # not 16 files x 4 attempts
    assert summary["files_reviewed"] == [] and len(summary["failed"]) == FILES  # every file named
    reasons = {f["reason"] for f in summary["failed"]}
    assert any("stopped sending requests after 5 failures in a row" in r for r in reasons)
    assert summary["usage"]["requests"] == model_server.request_count
    assert summary["usage"]["failed"] == model_server.request_count
    n = model_server.request_count
    assert f"{n} requests ({n} failed)" in result.stderr


def test_refused_connection_is_not_retried(repo, run_cli):
    repo.commit_files({"README.md": "base\n"})
    repo.write("app/a.py", _module(1))
    repo.add("app/a.py")
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "OPENAI_API_KEY": "sk-x",
           "REVIEWBOT_MODEL": "m", "REVIEWBOT_RETRIES": "3"}
    result = run_cli("diff", "--staged", "--format", "json", env=env)
    assert result.exit_code == 3 and "Traceback" not in result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["usage"]["requests"] == 1 and summary["usage"]["failed"] == 1  # one try, no retries
    assert summary["concurrency"]["lowest"] is None and "refused" in summary["concurrency"]["stopped"]
    assert "could not connect" in summary["failed"][0]["reason"]


def test_refused_connection_stops_a_large_run_at_the_first_wave(many_files, run_cli):
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "OPENAI_API_KEY": "sk-x",
           "REVIEWBOT_MODEL": "m"}
    result, summary = _review_json(run_cli, env=env)
    assert result.exit_code == 3
    assert summary["usage"]["requests"] <= 8  # at most the probe window, each tried once
    assert len(summary["failed"]) == FILES


# --- a stable prefix -------------------------------------------------------------------------------------------------


def _prompt(body: dict) -> str:
    return "".join(f"<|{m['role']}|>{m['content']}" for m in body["messages"])


def _common_prefix(texts: list[str]) -> str:
    return os.path.commonprefix(texts)


def test_every_request_starts_with_the_same_bytes_and_the_server_cache_is_reported(repo, model_server, run_cli):
    repo.commit_files({
        "AGENTS.md": "ROOT-RULE: log with structlog.\n",
        "api/AGENTS.md": "API-RULE: validate input with pydantic.\n",
        "README.md": "base\n",
        ".reviewbot.toml": '[path_instructions]\n"web/**" = "WEB-INSTRUCTION: check the templates."\n'
                           '"**/*.py" = "PY-INSTRUCTION: type hints everywhere."\n',
    })
    for i in range(6):
        repo.write(f"api/mod_{i}.py", _module(i))
        repo.write(f"web/mod_{i}.py", _module(i + 10))
    repo.stage_all()
    model_server.cache_prompts = True

    result, summary = _review_json(run_cli, "--concurrency", "1")

    assert result.exit_code == 0, result.stderr
    prompts = [_prompt(b) for b in model_server.requests]
    assert len(prompts) == 12
    assert len({json.dumps(b["messages"][0]) for b in model_server.requests}) == 1  # one system message
    shared = _common_prefix(prompts)
    # Everything every request has in common sits in the shared prefix: protocol, persona, the root standards
    # and the path instruction that applies to every file; what only some requests get comes after it.
    for text in ("Untrusted data", "# Your persona: senior-backend-engineer", "ROOT-RULE", "PY-INSTRUCTION"):
        assert text in shared
    for text in ("API-RULE", "WEB-INSTRUCTION", "# The change to review"):
        assert text not in shared
    assert all(("API-RULE" in p) == ("## File: api/" in p) for p in prompts)
    assert all(("WEB-INSTRUCTION" in p) == ("## File: web/" in p) for p in prompts)
    # The caching server found that prefix in every request after the first, and the JSON usage reports it.
    assert model_server.cached_tokens[0] == 0
    assert all(c >= len(shared) // 4 for c in model_server.cached_tokens[1:])
    assert summary["usage"]["cached_tokens"] == sum(model_server.cached_tokens) > 0
    assert "from the server's prompt cache" in result.stderr
