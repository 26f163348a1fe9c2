"""What the model answers, end to end: only an answer in the schema is a review; cut answers, context overflows,
refused response formats and echoed templates are handled the way docs/hardening.md and docs/offline.md say.

Everything runs through the CLI, the real openai client and the loopback model server; the repository is checked
unchanged after every run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from reviewbot.core.errors import OutputParseError
from reviewbot.pipeline.answer import MAX_ANSWER_CHARS, complete_findings, is_looping, parse_answer
from tests.helpers import Fail, GitRepo
from tests.helpers.model_server import error_body

SQL = {"path": "app/db.py", "line": 2, "end_line": None, "severity": "error", "category": "security",
       "message": "f-string SQL: injection through name", "suggestion": None,
       "quote": "return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()", "confidence": 0.9}


@pytest.fixture
def cli(run_cli):
    def run(*args, env=None):
        target = GitRepo(Path.cwd(), init=False)
        before = target.state_hash()
        result = run_cli(*args, env=env)
        assert target.state_hash() == before, "the run changed the repository"
        assert "Traceback" not in result.stderr
        return result

    return run


@pytest.fixture
def staged(repo):
    repo.write("app/db.py", "def find_user(conn, name):\n"
               "    return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()\n")
    repo.add("app/db.py")
    return repo


@pytest.fixture
def two_files(repo):
    repo.write("app/db.py", "def find_user(conn, name):\n"
               "    return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()\n")
    repo.write("app/util.py", "def total(xs):\n    return sum(xs)\n")
    repo.add("app/db.py", "app/util.py")
    return repo


def errors(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: error:")]


def warnings(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: warning:")]


# --- only the answer schema is a review ------------------------------------------------------------------------------

UNUSABLE = [
    {"error": "model overloaded"},
    {"summary": "Looks good"},
    {"result": {"findings": [SQL]}},
    [SQL],
    {"findings": "none"},
    {"findings": [{"path": "app/db.py"}]},  # every finding malformed
]


@pytest.mark.parametrize("answer", UNUSABLE, ids=["error", "summary-only", "nested", "bare-list", "not-array",
                                                  "all-malformed"])
def test_an_answer_outside_the_schema_is_retried_once_then_fails_closed(staged, model_server, cli, answer):
    model_server.answer(answer)
    model_server.answer(answer)
    model_server.answer_findings([SQL])  # never asked for: one retry only
    result = cli("diff", "--staged")
    assert result.exit_code == 3, result.stderr
    assert model_server.request_count == 2
    (line,) = errors(result)
    assert "could not complete" in line and "no usable answer" in line
    assert "0 files reviewed" in result.stderr


@pytest.mark.parametrize("answer", UNUSABLE[:3], ids=["error", "summary-only", "nested"])
def test_the_hook_warns_visibly_and_on_error_fail_blocks(staged, model_server, cli, answer):
    model_server.default = lambda body: answer
    result = cli("hook")
    assert result.exit_code == 0
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: review skipped")]
    assert "no usable answer" in line and "not blocked" in line
    assert not result.stderr.startswith("reviewbot: no findings")
    failing = cli("hook", "--on-error", "fail")
    assert failing.exit_code == 3


def test_an_unusable_answer_is_never_cached(staged, model_server, cli):
    model_server.default = lambda body: {"summary": "Looks good"}
    assert cli("diff", "--staged").exit_code == 3
    assert cli("diff", "--staged").exit_code == 3
    assert model_server.request_count == 4  # asked again on the rerun: nothing was stored


def test_a_valid_answer_is_cached_with_how_it_was_asked_for(staged, model_server, cli, isolated_env):
    model_server.answer_findings([SQL])
    assert cli("diff", "--staged").exit_code == 1
    assert cli("diff", "--staged").exit_code == 1
    assert model_server.request_count == 1
    from reviewbot.adapters.result_cache import ResultCache

    with ResultCache(isolated_env.cache / "reviewbot" / "cache.sqlite3") as cache:
        rows = cache._run(lambda db: db.execute("SELECT value FROM results").fetchall())
    entries = [json.loads(v) for (v,) in rows if isinstance(v, str) and '"text"' in v]
    assert entries and entries[0]["response_format"] == "json_schema" and entries[0]["finish_reason"] == "stop"


def test_the_retry_says_what_was_wrong(staged, model_server, cli):
    model_server.answer({"result": {"findings": [SQL]}})
    model_server.answer_findings([SQL])
    result = cli("diff", "--staged")
    assert result.exit_code == 1
    retry = model_server.requests[1]["messages"]
    assert retry[-1]["role"] == "user" and "no findings array" in retry[-1]["content"]


# --- bounded reading -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "{" * 3_000_000,  # the 3 MB nested answer of issue 11 (115 s before)
    "[" * 900_000,
    '{"findings": [' * 300_000,
    "x {" * 300_000,
    '{"a": "' + "\\x" * 450_000,
    "{}" * 450_000,
])
def test_hostile_answers_are_refused_in_linear_time(text):
    started = time.process_time()
    with pytest.raises(OutputParseError):
        parse_answer(text)
    assert time.process_time() - started < 5  # generous: each takes milliseconds (see the report's figures)


def test_an_oversized_answer_is_an_unusable_answer_end_to_end(staged, model_server, cli):
    model_server.default = lambda body: "[" * (MAX_ANSWER_CHARS + 1)
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    (line,) = errors(result)
    assert "more than the 1,000,000" in line


def test_reasoning_and_fences_around_the_object_are_read_through():
    text = ("<think>The user wants {\"findings\": []} but line 2 is bad.</think>\nLet me answer.\n```json\n"
            + json.dumps({"findings": [SQL], "summary": "s"}) + "\n```\n")
    parsed = parse_answer(text)
    assert [f.line for f in parsed.findings] == [2]


def test_cut_answers_keep_only_findings_that_closed():
    whole = json.dumps(SQL)
    cut = complete_findings('{"findings": [' + whole + ', {"path": "app/db.py", "line": 2, "message": "the the the')
    assert len(cut.findings) == 1 and not cut.array_closed
    closed = complete_findings('{"findings": [' + whole + '], "summary": "' + "loop " * 40)
    assert len(closed.findings) == 1 and closed.array_closed and closed.looping
    assert not is_looping(json.dumps({"findings": [SQL]}))


# --- cut answers -----------------------------------------------------------------------------------------------------

LOOP = '{"findings": [{"path": "app/db.py", "line": 2, "severity": "error", "category": "security", "message": "' + \
    "SQL injection SQL injection " * 60


def test_a_cut_loop_is_split_and_the_loop_is_never_shown_back(two_files, model_server, cli):
    model_server.answer(LOOP, finish_reason="length", usage=(900, 4096))
    model_server.answer_findings([SQL])  # first half: app/db.py
    model_server.answer_findings([])  # second half: app/util.py
    result = cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "app/db.py:2: error" in result.stdout
    assert model_server.request_count == 3
    halves = [model_server.prompt_text(i) for i in (1, 2)]
    assert "## File: app/db.py" in halves[0] and "## File: app/util.py" not in halves[0]
    assert "## File: app/util.py" in halves[1] and "## File: app/db.py" not in halves[1]
    assert all("SQL injection SQL injection" not in h for h in halves)  # no loop fed back
    assert any("cut off at 4096 tokens (it was repeating itself)" in w and "two halves" in w for w in warnings(result))
    assert "no JSON" not in result.stderr


def test_a_cut_answer_that_is_not_a_loop_gets_more_room_when_it_fits(staged, model_server, cli):
    model_server.answer('{"findings": [' + json.dumps(SQL) + ', {"path": "app/db.py", "line": 1, "mess',
                        finish_reason="length", usage=(900, 4096))
    model_server.answer_findings([SQL])
    result = cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert [r["max_tokens"] for r in model_server.requests] == [4096, 8192]
    assert any("asked again with 8192 tokens" in w for w in warnings(result))


def test_a_cut_answer_with_a_closed_array_is_never_accepted_silently(staged, model_server, cli):
    closed = '{"findings": [' + json.dumps(SQL) + '], "summary": "' + "The change. " * 80
    for _ in range(2):
        model_server.answer(closed, finish_reason="length", usage=(900, 4096))
    result = cli("diff", "--staged", env={"REVIEWBOT_MAX_REQUEST_TOKENS": "6000"})  # no room to double
    assert result.exit_code == 1  # the kept finding blocks
    assert "app/db.py:2: error" in result.stdout
    said = " ".join(warnings(result))
    assert "cut off at 4096 tokens" in said and "after its findings list closed" in said
    assert "1 complete finding(s) from it are shown" in said
    assert "could not review: app/db.py" in result.stderr  # the review did not complete


def test_a_cut_answer_is_never_cached_and_a_clean_cut_fails_closed(staged, model_server, cli):
    cut = '{"findings": [], "summary": "' + "fine " * 200
    model_server.default = lambda body: None
    for _ in range(4):
        model_server.answer(cut, finish_reason="length", usage=(900, 4096))
    env = {"REVIEWBOT_MAX_REQUEST_TOKENS": "6000"}
    first = cli("diff", "--staged", env=env)
    assert first.exit_code == 3  # a cut answer is never "no findings"
    (line,) = errors(first)
    assert "cut off at 4096 tokens" in line and "cannot be split" in line
    second = cli("diff", "--staged", env=env)
    assert second.exit_code == 3 and model_server.request_count == 2  # nothing was cached


# --- context overflow ------------------------------------------------------------------------------------------------

LLAMA_SERVER_OVERFLOW = {"error": {"code": 500, "message": "Context size has been exceeded.", "type": "server_error"}}


def test_context_overflow_is_split_and_never_retried_as_a_server_fault(two_files, model_server, cli):
    model_server.fail(500, LLAMA_SERVER_OVERFLOW)
    model_server.answer_findings([SQL])
    model_server.answer_findings([])
    result = cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert model_server.request_count == 3  # no backoff retries of the same request
    assert any("too large for the server's context; asked again in two halves" in w for w in warnings(result))


@pytest.mark.parametrize("status,body", [
    (500, LLAMA_SERVER_OVERFLOW),
    (400, error_body(400, "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens")),
    (400, {"error": {"message": "too long", "type": "invalid_request_error", "code": "context_length_exceeded"}}),
    (400, {"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                     "type": "exceed_context_size_error", "n_prompt_tokens": 1183, "n_ctx": 512}}),
    (413, "<html><body><h1>413 Request Entity Too Large</h1></body></html>"),  # a proxy in front of the server
])
def test_an_overflow_that_cannot_be_split_says_too_large(staged, model_server, cli, status, body):
    model_server.fail(status, body, times=5)
    result = cli("diff", "--staged")
    assert result.exit_code == 3
    assert model_server.request_count == 1
    (line,) = errors(result)
    assert "too large for the context of model 'test-model'" in line and "cannot be split" in line


# --- the response-format ladder --------------------------------------------------------------------------------------

# llama-cpp-python's server answers json_schema with a 500 carrying pydantic's validation error (see
# tests/fixtures/real_answers/llama-cpp-python-json-schema-500.json).
LLAMA_CPP_PYTHON_500 = {"error": {
    "message": "1 validation error for ChatCompletionRequestResponseFormat\ntype\n  Input should be 'text' or "
               "'json_object' [type=literal_error, input_value='json_schema', input_type=str]\n    For further "
               "information visit https://errors.pydantic.dev/2.9/v/literal_error",
    "type": "internal_server_error", "param": None, "code": None}}


def _like_llama_cpp_python(body):
    if (body.get("response_format") or {}).get("type") == "json_schema":
        return Fail(500, LLAMA_CPP_PYTHON_500)
    return {"findings": [SQL], "summary": "s"}


def test_a_5xx_naming_the_format_steps_down_once_per_run(repo, model_server, cli):
    repo.write("app/a.py", "".join(f"value_a{i} = compute_a({i})\n" for i in range(20)))
    repo.add("app/a.py")
    model_server.default = _like_llama_cpp_python
    result = cli("diff", "--staged", "--samples", "2", "-j", "1")  # two requests of the run, one at a time
    assert result.exit_code == 0 and "1 file reviewed" in result.stderr, result.stderr
    kinds = [(r.get("response_format") or {}).get("type") for r in model_server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered for the endpoint
    said = " ".join(warnings(result))
    assert "refused response_format json_schema" in said and "Input should be 'text' or 'json_object'" in said


@pytest.mark.parametrize("setting,expected", [("json_object", "json_object"), ("none", None),
                                              ("json_schema", "json_schema")])
def test_the_response_format_setting(staged, model_server, cli, setting, expected):
    model_server.answer_findings([])
    result = cli("diff", "--staged", "--response-format", setting)
    assert result.exit_code == 0, result.stderr
    assert (model_server.requests[0].get("response_format") or {}).get("type") == expected


def test_a_fixed_format_the_server_refuses_is_an_error_with_the_whole_reason(staged, model_server, cli):
    model_server.default = _like_llama_cpp_python
    result = cli("diff", "--staged", "--response-format", "json_schema")
    assert result.exit_code == 3
    assert model_server.request_count == 1
    (line,) = errors(result)
    assert "HTTP 500" in line and "Input should be 'text' or 'json_object'" in line and "literal_error" in line
    assert 'try response_format = "auto"' in line


def test_a_5xx_that_does_not_name_the_format_is_a_server_fault(staged, model_server, cli):
    model_server.fail(500, error_body(500, "CUDA out of memory"), times=3)
    result = cli("diff", "--staged", env={"REVIEWBOT_RETRIES": "2"})
    assert result.exit_code == 3
    assert [(r.get("response_format") or {}).get("type") for r in model_server.requests] == ["json_schema"] * 3


def test_a_server_reason_on_many_lines_is_kept_whole_on_one(staged, model_server, cli):
    reason = "slot unavailable\nsecond line with the real cause: model is reloading\n" + "x" * 2000
    model_server.fail(503, error_body(503, reason), times=2)
    result = cli("diff", "--staged", env={"REVIEWBOT_RETRIES": "1"})
    (line,) = errors(result)
    assert "slot unavailable second line with the real cause: model is reloading" in line
    assert "…" in line and len(line) < 1000


# --- timeouts --------------------------------------------------------------------------------------------------------


def test_the_request_carries_the_scaled_timeout(staged, model_server, cli):
    # A local server that takes 1.5 s for a small allowance: the default (60 s + tokens/8) waits for it.
    model_server.answer_findings([], delay=1.5)
    result = cli("diff", "--staged", env={"REVIEWBOT_MAX_ANSWER_TOKENS": "256"})
    assert result.exit_code == 0, result.stderr


# --- echoed templates ------------------------------------------------------------------------------------------------


def test_echoed_placeholders_and_fence_tags_are_dropped_even_with_nofilter(staged, model_server, cli):
    tag = "DATA-0123456789abcdef"
    model_server.answer_findings([
        {**SQL, "path": "<file path as shown>", "message": "<one or two sentences>"},
        {**SQL, "path": f"<<<{tag} diff"},
        {**SQL, "path": tag},
        SQL,
    ])
    result = cli("diff", "--staged", "--filter-mode", "nofilter")
    assert result.exit_code == 1, result.stderr
    assert result.stdout.count(": error:") == 1 and "app/db.py:2" in result.stdout
    assert "<file path" not in result.stdout and tag not in result.stdout
    assert "3 dropped echoed prompt" in result.stderr
