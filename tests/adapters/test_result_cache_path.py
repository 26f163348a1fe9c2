"""Cache first, model later: a review whose answers all come from the cache builds no model client.

Building a ChatModel imports openai (~0.45 s). `review.execute` keys the cache on the endpoint alone and builds each
model's client on its first cache miss, so an unchanged rerun never imports openai and sends nothing.

Whether openai was imported is read from the interpreter's own import log (`PYTHONPROFILEIMPORTTIME=1`, the
environment form of `python -X importtime`): it lists every module the process imported, threads included, and needs
no hook inside the program under test.
"""

from __future__ import annotations

import re

from tests.helpers.service_change import PATH, stage as _stage


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
