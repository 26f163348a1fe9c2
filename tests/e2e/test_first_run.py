"""The first run proves the set-up (issue 13, items 1 and 2).

Settings are checked before anything is collected, so a wrong agent or a missing model is exit 2 even with
nothing staged; `reviewbot doctor` names each failure class (config: 2, endpoint or model: 3) against the loopback
server; the hook skips with one line, exit 0, when no model is set up or reachable, unless on_error = "fail".
"""

from __future__ import annotations

import socket

import pytest

from tests.helpers import TEST_API_KEY, TEST_MODEL

BLOCKING = {"path": "app/service.py", "line": 2, "severity": "error", "category": "bug",
            "message": "time.sleep blocks the event loop", "quote": "time.sleep(1)"}


def _closed_port_url() -> str:
    """A loopback URL where nothing listens: a connection to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _stage(repo) -> None:
    repo.write("app/service.py", "import time\ntime.sleep(1)\n")
    repo.add("app/service.py")


# --- settings before anything, whatever is staged ----------------------------------------------------------------


@pytest.mark.parametrize("command", [["diff", "--staged"], ["diff"], ["baseline", "--staged"]])
def test_an_unknown_agent_is_exit_2_with_nothing_staged(repo, model_server, run_cli, command):
    result = run_cli(*command, "--agent", "nobody")
    assert result.exit_code == 2
    assert "unknown agent 'nobody'" in result.stderr
    assert model_server.request_count == 0


def test_no_model_is_exit_2_with_nothing_staged(repo, run_cli):
    result = run_cli("diff", "--staged", env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.exit_code == 2
    assert "no model configured" in result.stderr


def test_no_key_and_no_endpoint_is_exit_2_with_nothing_staged(repo, run_cli):
    result = run_cli("diff", "--staged", "--model", "gpt-4o-mini")
    assert result.exit_code == 2
    assert "no API key" in result.stderr


def test_nothing_to_review_says_so_and_sends_nothing(repo, model_server, run_cli):
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0
    assert "nothing to review in staged changes; no request was sent" in result.stderr
    assert "no findings" not in result.stderr
    assert model_server.request_count == 0


# --- the hook never blocks a teammate for set-up reasons --------------------------------------------------------


def test_hook_without_a_model_skips_with_one_line(repo, run_cli):
    _stage(repo)
    result = run_cli("hook", "app/service.py")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("reviewbot: review skipped (not set up): no model configured")
    assert "reviewbot doctor" in lines[0]
    assert result.stdout == ""


def test_hook_without_a_model_fails_closed_with_on_error_fail(repo, run_cli):
    _stage(repo)
    result = run_cli("hook", "app/service.py", "--on-error", "fail")
    assert result.exit_code == 2
    assert "no model configured" in result.stderr


def test_hook_without_a_model_still_blocks_a_secret(repo, run_cli):
    repo.write("app/settings.py", 'AWS_ACCESS_KEY_ID = "AKIAQ4J5ZBXM2NPLR7TW"\n')
    repo.add("app/settings.py")
    result = run_cli("hook", "app/settings.py")
    assert result.exit_code == 1
    assert "app/settings.py:1: error: Secret in staged change (AWS access key)" in result.stdout
    assert "review skipped" in result.stderr and "1 local finding(s) above" in result.stderr


def test_hook_with_nothing_listening_skips_with_one_line(repo, run_cli):
    _stage(repo)
    env = {"OPENAI_BASE_URL": _closed_port_url(), "REVIEWBOT_MODEL": TEST_MODEL, "REVIEWBOT_RETRIES": "0"}
    result = run_cli("hook", "app/service.py", "--no-cache", env=env)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("reviewbot: review skipped (the model failed): could not connect")
    assert not lines[0].startswith("reviewbot: no findings")


def test_hook_with_the_model_down_fails_with_on_error_fail(repo, run_cli):
    _stage(repo)
    env = {"OPENAI_BASE_URL": _closed_port_url(), "REVIEWBOT_MODEL": TEST_MODEL, "REVIEWBOT_RETRIES": "0",
           "REVIEWBOT_ON_ERROR": "fail"}
    result = run_cli("hook", "app/service.py", "--no-cache", env=env)
    assert result.exit_code == 3
    assert "the review could not complete" in result.stderr


def test_hook_skip_counts_its_attempts(repo, model_server, run_cli):
    _stage(repo)
    model_server.fail(503, times=5)
    result = run_cli("hook", "app/service.py", "--no-cache", "--retries", "1")
    assert result.exit_code == 0
    assert model_server.request_count == 2  # one request and one retry, then the skip line
    assert "review skipped (the model failed)" in result.stderr
    assert "503" in result.stderr


@pytest.mark.parametrize("command", [["diff", "--staged"], ["ci", "--base", "HEAD~1"]])
def test_diff_and_ci_stay_strict(repo, run_cli, command):
    _stage(repo)
    if command[0] == "ci":
        repo.commit("change")
    result = run_cli(*command, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.exit_code == 2
    assert "no model configured" in result.stderr and "skipped" not in result.stderr


def test_diff_with_the_model_down_is_exit_3(repo, run_cli):
    _stage(repo)
    env = {"OPENAI_BASE_URL": _closed_port_url(), "REVIEWBOT_MODEL": TEST_MODEL, "REVIEWBOT_RETRIES": "0"}
    result = run_cli("diff", "--staged", "--no-cache", env=env)
    assert result.exit_code == 3
    assert "review incomplete" in result.stderr and "skipped" not in result.stderr


def test_the_hook_still_blocks_on_findings(repo, model_server, run_cli):
    _stage(repo)
    model_server.answer_findings([BLOCKING])
    result = run_cli("hook", "app/service.py", "--no-cache")
    assert result.exit_code == 1
    assert "app/service.py:2: error: time.sleep blocks the event loop" in result.stdout
    assert "skipped" not in result.stderr


def test_hook_with_an_untrusted_repository_endpoint_skips(repo, run_cli):
    """Nothing is sent (the host is not even resolved: example.net is never asked) and the commit goes ahead."""
    repo.write(".reviewbot.toml", 'base_url = "https://llm.example.net/v1"\nmodel = "m"\n')
    _stage(repo)
    env = {"OPENAI_API_KEY": TEST_API_KEY}
    result = run_cli("hook", "app/service.py", env=env)
    assert result.exit_code == 0
    assert result.stderr.startswith("reviewbot: review skipped (not set up): the repository's config sends reviews "
                                    "to llm.example.net")
    assert TEST_API_KEY not in result.stderr
    assert run_cli("diff", "--staged", env=env).exit_code == 2  # diff stays strict
