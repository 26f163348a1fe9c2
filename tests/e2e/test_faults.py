"""Model faults and the failure policy, end to end: the CLI, the real openai client, a loopback model server.

Each test states the exit code and the one sentence the user gets, proves that retries are bounded (the server
counts the requests it saw, a clock bounds the run), that no traceback reaches stderr, and that the repository is
left exactly as it was (`cli` checks the state hash around every run).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers import TEST_API_KEY, Fail, GitRepo
from tests.helpers.model_server import error_body

BLOCKING = {"path": "app/service.py", "line": 2, "severity": "error", "category": "async",
            "message": "time.sleep blocks the event loop"}
NO_RETRIES = {"REVIEWBOT_RETRIES": "0"}


@pytest.fixture
def cli(run_cli):
    """run_cli that also asserts: the repository state is unchanged, no traceback, and records the wall time."""

    def run(*args, env=None, repo: GitRepo | None = None):
        target = repo or GitRepo(Path.cwd(), init=False)
        before = target.state_hash()
        started = time.monotonic()
        result = run_cli(*args, env=env)
        result.elapsed = time.monotonic() - started
        assert target.state_hash() == before, "the run changed the repository"
        assert "Traceback" not in result.stderr
        return result

    return run


def error_lines(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: error:")]


def warning_lines(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: warning:")]


@pytest.fixture
def staged(repo):
    repo.write("app/service.py", "async def handler():\n    time.sleep(5)\n")
    repo.add("app/service.py")
    return repo


def assert_no_key(result) -> None:
    assert TEST_API_KEY not in result.stdout and TEST_API_KEY not in result.stderr


# --- retries -------------------------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds(staged, model_server, cli):
    model_server.fail(429, headers={"Retry-After": "1"})
    model_server.answer_findings([BLOCKING])
    result = cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:2: error: time.sleep blocks the event loop" in result.stdout
    assert model_server.request_count == 2
    assert result.elapsed >= 0.9  # the server's Retry-After was honoured, not the SDK's shorter backoff
    assert result.elapsed < 10


def test_5xx_repeatedly_diff_fails_closed_with_bounded_retries(staged, model_server, cli):
    model_server.fail(503, times=20)
    result = cli("diff", "--staged", env={"REVIEWBOT_RETRIES": "2"})
    assert result.exit_code == 3
    assert model_server.request_count == 3  # one try and two retries, no more
    (line,) = error_lines(result)
    assert "could not complete" in line and "HTTP 503" in line and "app/service.py" in line
    assert f"model 'test-model' at {model_server.url}" in line
    assert result.elapsed < 8  # backoff 0.5 s then 1 s (with jitter): bounded


def test_5xx_repeatedly_hook_fails_open_with_a_visible_warning(staged, model_server, cli):
    model_server.fail(500, times=20)
    result = cli("hook", "app/service.py", env={"REVIEWBOT_RETRIES": "1"})
    assert result.exit_code == 0
    assert model_server.request_count == 2
    (line,) = result.stderr.splitlines()  # one line: the review was skipped, and why
    assert line.startswith("reviewbot: review skipped (the model failed)") and "HTTP 500" in line
    assert "no findings" not in result.stderr


def test_default_retry_count_is_bounded(staged, model_server, cli):
    model_server.fail(502, times=20)
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    assert model_server.request_count == 4  # the documented default: 3 retries
    assert result.elapsed < 10


def test_connection_dropped(staged, model_server, cli):
    model_server.drop_connection(times=10)
    result = cli("diff", "--staged", env={"REVIEWBOT_RETRIES": "1"})
    assert result.exit_code == 3
    assert model_server.request_count == 2
    (line,) = error_lines(result)
    assert f"could not connect to model 'test-model' at {model_server.url}" in line


def test_stall_beyond_timeout(staged, model_server, cli):
    model_server.stall(10, times=3)
    result = cli("diff", "--staged", "--timeout", "0.5", env=NO_RETRIES)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "did not answer within 0.5 s" in line and "--timeout" in line
    assert model_server.request_count == 1
    assert result.elapsed < 5


def test_timeout_from_the_environment(staged, model_server, cli):
    model_server.stall(10, times=3)
    result = cli("hook", env={"REVIEWBOT_TIMEOUT": "0.5", **NO_RETRIES})
    assert result.exit_code == 0  # the hook fails open
    assert "did not answer within 0.5 s" in result.stderr
    assert result.elapsed < 5


def test_huge_retry_after_does_not_hang_the_run(staged, model_server, cli):
    # A rate limiter asking for 100 s must not turn a commit into a multi-minute wait.
    model_server.fail(429, headers={"Retry-After": "100"}, times=5)
    result = cli("diff", "--staged", env={"REVIEWBOT_RETRIES": "2"})
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "429" in line
    assert result.elapsed < 10


# --- answers the client cannot use ------------------------------------------------------------------------------------


def test_401_names_model_and_endpoint_never_the_key(staged, model_server, cli):
    model_server.fail(401, body=error_body(401, f"Incorrect API key provided: {TEST_API_KEY}"))
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "rejected the API key (HTTP 401)" in line
    assert f"model 'test-model' at {model_server.url}" in line
    assert model_server.request_count == 1  # an auth failure is not retried
    assert_no_key(result)


def test_server_error_echoing_the_key_never_prints_it(staged, model_server, cli):
    model_server.fail(500, body=error_body(500, f"upstream said: bad key {TEST_API_KEY}"), times=5)
    result = cli("diff", "--staged", env=NO_RETRIES)
    assert result.exit_code == 3
    assert "HTTP 500" in error_lines(result)[0]
    assert_no_key(result)


def test_404_model_not_found(staged, model_server, cli):
    model_server.fail(404, body=error_body(404, "The model `test-model` does not exist"))
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "answered 404" in line and "--model" in line and "test-model" in line
    assert model_server.request_count == 1


def test_malformed_non_json_body(staged, model_server, cli):
    model_server.malformed("<html><body>502 Bad Gateway</body></html>", times=5)
    result = cli("diff", "--staged", env=NO_RETRIES)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert f"model 'test-model' at {model_server.url}" in line


def test_malformed_json_that_is_not_a_completion(staged, model_server, cli):
    model_server.malformed('{"unexpected": true}', times=5)
    result = cli("diff", "--staged", env=NO_RETRIES)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert f"model 'test-model' at {model_server.url}" in line


def test_empty_answer_is_an_error_not_no_findings(staged, model_server, cli):
    # A reasoning model that spent the whole allowance thinking: asked once more with twice the room, then given up.
    model_server.answer("", finish_reason="length", usage=(100, 4096))
    model_server.answer("", finish_reason="length", usage=(100, 8192))
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "cut off at 4096 tokens, and again at 8192 tokens when asked with 8192 tokens of room" in line
    assert "no JSON" not in line
    assert [r["max_tokens"] for r in model_server.requests] == [4096, 8192]
    assert "0 files reviewed" in result.stderr and "could not review: app/service.py" in result.stderr


def test_null_content_is_an_error_too(staged, model_server, cli):
    model_server.answer(None)
    result = cli("hook")
    assert result.exit_code == 0
    (line,) = result.stderr.splitlines()
    assert line.startswith("reviewbot: review skipped (the model failed)") and "empty answer" in line


def test_unparseable_answer_is_retried_once_then_exit_3(staged, model_server, cli):
    model_server.answer("The change looks fine to me!")
    model_server.answer("Still fine, no JSON from me.")
    model_server.answer_findings([BLOCKING])  # must not be asked for: one retry only
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    assert model_server.request_count == 2
    (line,) = error_lines(result)
    assert "no usable answer" in line and "contains no JSON" in line
    # the retry shows the model its previous answer and asks again for the contract
    retry = model_server.requests[1]["messages"]
    assert retry[-2]["role"] == "assistant" and "looks fine" in retry[-2]["content"]


def test_unparseable_then_good_answer_is_used(staged, model_server, cli):
    model_server.answer("Let me think about this.")
    model_server.answer_findings([BLOCKING])
    result = cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:2: error:" in result.stdout
    assert model_server.request_count == 2


def test_fenced_answer_with_prose_and_odd_findings(staged, model_server, cli):
    text = ("Here is my review:\n```json\n"
            '{"findings": [{"path": "app/service.py", "line": 2, "severity": "CRITICAL", "message": "blocks"},'
            ' {"path": "app/service.py", "line": "x", "severity": "error", "message": "bad line"},'
            ' {"line": 2, "severity": "error", "message": "no path"}]}'
            "\n```\nThanks.")
    model_server.answer(text)
    result = cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:2: error: blocks" in result.stdout  # CRITICAL maps to error
    assert "2 dropped invalid" in result.stderr
    assert model_server.request_count == 1


# --- partial reviews -------------------------------------------------------------------------------------------------

# Two small files and a budget that fits one of them per request (the prompt and answer allowance take ~5,600).
SMALL_BUDGET = ("--max-request-tokens", "7200")  # one 60-line file fits, two do not


@pytest.fixture
def two_files(repo):
    for name in ("a", "b"):
        repo.write(f"app/{name}.py", "".join(f"value_{name}{i} = compute_{name}({i})\n" for i in range(60)))
    repo.add("app/a.py", "app/b.py")
    return repo


def _fail_on_b(body: dict):
    text = "\n".join(m.get("content") or "" for m in body["messages"])
    if "## File: app/b.py" in text:
        return Fail(500, error_body(500, "this chunk always fails"), {"x-should-retry": "false"})
    return {"findings": [{"path": "app/a.py", "line": 3, "severity": "warning", "category": "naming",
                          "message": "unclear name"}]}


def test_partial_review_diff_names_the_files_not_reviewed(two_files, model_server, cli):
    model_server.default = _fail_on_b
    result = cli("diff", "--staged", *SMALL_BUDGET)
    assert model_server.request_count == 2  # two chunks, the failing one not retried (x-should-retry: false)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "not reviewed: app/b.py" in line and "app/a.py" not in line
    assert "app/a.py:3: warning: unclear name" in result.stdout  # what was reviewed is still reported


def test_partial_review_hook_warns_and_lets_through(two_files, model_server, cli):
    model_server.default = _fail_on_b
    result = cli("hook", *SMALL_BUDGET)
    assert result.exit_code == 0
    (line,) = warning_lines(result)
    assert "1 file(s) (app/b.py)" in line
    assert "could not review: app/b.py" in result.stderr


def test_partial_review_json_report_lists_failed_files(two_files, model_server, cli):
    import json

    model_server.default = _fail_on_b
    result = cli("hook", *SMALL_BUDGET, "--format", "json")
    report = json.loads(result.stdout)
    text = json.dumps(report)
    assert "app/b.py" in text and "this chunk always fails" in text


def test_partial_review_with_blocking_finding_still_blocks(two_files, model_server, cli):
    def blocking_on_a(body):
        answer = _fail_on_b(body)
        if isinstance(answer, dict):
            answer["findings"][0]["severity"] = "error"
        return answer

    model_server.default = blocking_on_a
    result = cli("diff", "--staged", *SMALL_BUDGET)
    assert result.exit_code == 1  # a finding that blocks outranks "could not complete"
    assert "app/a.py:3: error" in result.stdout
    assert "app/b.py" in result.stderr


# --- the failure policy --------------------------------------------------------------------------------------------


def test_on_error_fail_makes_the_hook_fail_closed(staged, model_server, cli):
    model_server.fail(503, times=5)
    result = cli("hook", env={"REVIEWBOT_ON_ERROR": "fail", **NO_RETRIES})
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "could not complete" in line and "HTTP 503" in line


def test_on_error_warn_lets_diff_pass(staged, model_server, cli):
    model_server.fail(503, times=5)
    result = cli("diff", "--staged", "--on-error", "warn", env=NO_RETRIES)
    assert result.exit_code == 0
    (line,) = warning_lines(result)
    assert "did not happen" in line and "HTTP 503" in line


def test_on_error_from_repository_config(staged, model_server, cli):
    staged.write(".reviewbot.toml", 'on_error = "fail"\n')
    model_server.fail(503, times=5)
    result = cli("hook", env=NO_RETRIES)
    assert result.exit_code == 3


def test_unreachable_port_fails_fast(staged, model_server, cli, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    result = cli("diff", "--staged", env=NO_RETRIES)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert f"could not connect to model 'test-model' at http://127.0.0.1:{port}/v1" in line
    assert result.elapsed < 5


def test_an_unreachable_endpoint_is_not_retried_for_every_chunk(repo, model_server, cli):
    # Four chunks, one at a time: once the endpoint has failed after its retries, the other chunks fail at once.
    for name in "abcd":
        repo.write(f"app/{name}.py", "".join(f"value_{name}{i} = compute_{name}({i})\n" for i in range(60)))
    repo.add("app")
    model_server.drop_connection(times=50)
    result = cli("diff", "--staged", *SMALL_BUDGET, "--concurrency", "1", env={"REVIEWBOT_RETRIES": "1"})
    assert result.exit_code == 3
    assert model_server.request_count == 2  # not 4 chunks x 2 attempts
    (line,) = error_lines(result)
    assert "could not connect" in line and "app/a.py, app/b.py, app/c.py, app/d.py" in line
    assert result.elapsed < 5


# --- odd settings ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, env", [
    (("--timeout", "0"), {}),
    (("--timeout", "-1"), {}),
    ((), {"REVIEWBOT_TIMEOUT": "inf"}),
    ((), {"REVIEWBOT_TIMEOUT": "nan"}),
])
def test_unusable_timeout_is_a_configuration_error(staged, model_server, cli, args, env):
    result = cli("diff", "--staged", *args, env=env)
    assert result.exit_code == 2
    if args:  # the flag is named, with its range
        assert "Invalid value for '--timeout'" in result.stderr and "x>0" in result.stderr
    else:
        (line,) = error_lines(result)
        assert "'timeout'" in line and "above 0" in line
    assert model_server.request_count == 0


def test_negative_context_lines_is_a_configuration_error(staged, model_server, cli):
    result = cli("diff", "--staged", env={"REVIEWBOT_CONTEXT_LINES": "-1"})
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "'context_lines'" in line and "REVIEWBOT_CONTEXT_LINES" in line
    assert model_server.request_count == 0


# --- accounting --------------------------------------------------------------------------------------------------


def test_tokens_spent_on_unusable_answers_are_counted(staged, model_server, cli):
    import json

    model_server.answer("not JSON at all", usage=(100, 20))
    model_server.answer("still not JSON", usage=(150, 30))
    result = cli("diff", "--staged", "--format", "json", "--on-error", "warn")
    assert result.exit_code == 0
    usage = json.loads(result.stdout)["summary"]["usage"]
    assert usage["tokens_in"] == 250 and usage["tokens_out"] == 50


# --- what a hostile endpoint or repository puts into error messages ------------------------------------------------


def test_escape_sequences_in_a_server_error_never_reach_the_terminal(staged, model_server, cli):
    model_server.fail(500, body={"error": {"message": "json \x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07 \x1b[31mred\x1b[0m\r"
                                                      "\u202eright-to-left", "type": "server_error"}})
    result = cli("diff", "--staged", env=NO_RETRIES)
    assert result.exit_code == 3
    for bad in ("\x1b", "\x07", "\r", "\u202e", "]52;"):
        assert bad not in result.stderr, repr(bad)
    assert "HTTP 500" in result.stderr and "json" in result.stderr and "red" in result.stderr


def test_escape_sequences_in_a_failed_file_name_never_reach_the_terminal(repo, model_server, cli):
    name = "app/x\x1b]52;c;Y3VybA==\x07.py"
    repo.write(name, "x = 1\n")
    repo.add(name)
    model_server.fail(503, times=3)
    result = cli("hook", env=NO_RETRIES)
    assert result.exit_code == 0
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


def test_ci_fails_closed_when_the_model_is_down(repo, model_server, cli):
    base = repo.head()
    repo.checkout("feature", create=True)
    repo.commit_files({"app/service.py": "async def handler():\n    time.sleep(5)\n"})
    model_server.fail(503, times=5)
    result = cli("ci", "--base", base, env=NO_RETRIES)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "could not complete" in line and "app/service.py" in line


def test_credentials_in_the_base_url_are_never_printed(staged, model_server, cli, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.url.replace("http://", f"http://user:{TEST_API_KEY}@"))
    model_server.fail(500, times=3)
    result = cli("diff", "--staged", env=NO_RETRIES)
    assert result.exit_code == 3
    assert f"at {model_server.url}" in error_lines(result)[0]
    assert_no_key(result)
