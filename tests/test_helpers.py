"""Tests of the shared test helpers: they must behave like the real things they stand in for."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import Answer, Fail, GitHubServer, GitRepo, ModelServer, actions_env, gitlab_env

# --- model server, through the real openai client ---------------------------------------------------------------------


def _client(server: ModelServer, **kw):
    from openai import OpenAI

    return OpenAI(base_url=server.url, api_key="sk-test-key-123", **kw)


def _ask(client, text: str = "review this", **kw):
    return client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": text}], **kw)


def test_completion_looks_like_openai_and_request_is_recorded(model_server: ModelServer) -> None:
    model_server.answer_findings([{"path": "app.py", "line": 3, "severity": "error", "message": "boom"}],
                                 summary="one problem", usage=(321, 45))
    reply = _ask(_client(model_server), "please review", temperature=0, seed=7)

    assert reply.object == "chat.completion"
    assert reply.model == "test-model"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.role == "assistant"
    assert json.loads(reply.choices[0].message.content) == {
        "findings": [{"path": "app.py", "line": 3, "severity": "error", "message": "boom"}], "summary": "one problem"}
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (321, 45, 366)
    assert model_server.requests == [{"model": "test-model", "messages": [{"role": "user", "content": "please review"}],
                                      "temperature": 0, "seed": 7}]
    assert model_server.headers[0]["authorization"] == "Bearer sk-test-key-123"
    assert model_server.paths == ["/v1/chat/completions"]
    assert model_server.prompt_text() == "please review"


def test_queue_is_consumed_in_order_then_answers_clean(model_server: ModelServer) -> None:
    client = _client(model_server)
    model_server.answer("first")
    model_server.answer({"findings": [], "summary": "second"})
    assert model_server.pending == 2

    contents = [_ask(client).choices[0].message.content for _ in range(3)]

    assert contents == ["first", '{"findings": [], "summary": "second"}', '{"findings": []}']
    assert model_server.pending == 0
    assert model_server.request_count == 3


def test_default_routes_by_request_content(model_server: ModelServer) -> None:
    def route(body: dict):
        text = body["messages"][-1]["content"]
        if "broken.py" in text:
            return Fail(500, headers={"x-should-retry": "false"})
        return {"findings": [], "summary": f"seed {body.get('seed')}"}

    model_server.default = route
    client = _client(model_server)
    assert json.loads(_ask(client, "a.py", seed=3).choices[0].message.content)["summary"] == "seed 3"
    from openai import InternalServerError

    with pytest.raises(InternalServerError):
        _ask(client, "broken.py")


def test_a_failing_default_is_reported_not_swallowed() -> None:
    from openai import InternalServerError

    with ModelServer(default=lambda body: body["no such key"]) as server:
        with pytest.raises(InternalServerError, match="default\\(\\) raised KeyError"):
            _ask(_client(server))
        assert server.errors == ["KeyError: 'no such key'"]
        assert server.request_count == 1  # x-should-retry: false stops the SDK retrying


def test_standalone_server_for_benchmarks(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import PROJECT_ROOT

    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.model_server", "--answer", '{"findings": [], '
                             '"summary": "bench"}'], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        from openai import OpenAI

        reply = _ask(OpenAI(base_url=url, api_key="k"))
        assert json.loads(reply.choices[0].message.content)["summary"] == "bench"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_none_content_and_other_finish_reason(model_server: ModelServer) -> None:
    model_server.answer(None, finish_reason="length", usage=None)
    reply = _ask(_client(model_server))
    assert reply.choices[0].message.content is None
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is None


def test_429_with_retry_after_is_retried_by_the_sdk(model_server: ModelServer) -> None:
    model_server.fail(429, headers={"Retry-After": "0.05"})
    model_server.answer("after the rate limit")
    started = time.monotonic()
    reply = _ask(_client(model_server))
    elapsed = time.monotonic() - started

    assert reply.choices[0].message.content == "after the rate limit"
    assert model_server.request_count == 2
    # The SDK's own backoff would wait at least 0.375 s; a shorter wait proves Retry-After was honoured.
    assert elapsed < 0.3


def test_429_surfaces_as_rate_limit_error_without_retries(model_server: ModelServer) -> None:
    from openai import RateLimitError

    model_server.fail(429, {"error": {"message": "slow down", "type": "rate_limit_exceeded"}},
                      headers={"Retry-After": "1"})
    with pytest.raises(RateLimitError, match="slow down") as caught:
        _ask(_client(model_server, max_retries=0))
    assert caught.value.response.headers["retry-after"] == "1"


def test_500_then_success_is_retried(model_server: ModelServer) -> None:
    model_server.fail(500, headers={"retry-after-ms": "10"})
    model_server.answer("ok")
    assert _ask(_client(model_server)).choices[0].message.content == "ok"
    assert model_server.request_count == 2


def test_drop_connection_raises_api_connection_error(model_server: ModelServer) -> None:
    from openai import APIConnectionError

    model_server.drop_connection()
    with pytest.raises(APIConnectionError):
        _ask(_client(model_server, max_retries=0))
    assert model_server.request_count == 1


def test_drops_exhaust_the_sdk_retries(model_server: ModelServer) -> None:
    from openai import APIConnectionError

    model_server.drop_connection(times=2)
    with pytest.raises(APIConnectionError):
        _ask(_client(model_server, max_retries=1))
    assert model_server.request_count == 2
    # The server is still healthy afterwards.
    assert _ask(_client(model_server)).choices[0].message.content == '{"findings": []}'


def test_stall_makes_the_client_time_out_and_close_is_quick() -> None:
    from openai import APITimeoutError

    server = ModelServer()
    server.stall(30)
    with pytest.raises(APITimeoutError):
        _ask(_client(server, max_retries=0, timeout=0.3))
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 2


def test_stall_shorter_than_timeout_answers(model_server: ModelServer) -> None:
    model_server.stall(0.2, then="late but fine")
    started = time.monotonic()
    reply = _ask(_client(model_server, timeout=5))
    assert reply.choices[0].message.content == "late but fine"
    assert time.monotonic() - started >= 0.2


def test_malformed_bodies_reach_the_caller_as_the_sdk_reports_them(model_server: ModelServer) -> None:
    # Facts for adapters/model_client.py: a 200 that is not JSON raises a plain ValueError (json.JSONDecodeError)
    # from the SDK, and a JSON object that is not a completion comes back with choices=None.
    model_server.malformed("this is { not json")
    model_server.malformed('{"id": "x"}')
    client = _client(model_server, max_retries=0)
    with pytest.raises(ValueError):
        _ask(client)
    assert _ask(client).choices is None


def test_reject_response_format(model_server: ModelServer) -> None:
    from openai import BadRequestError

    model_server.reject_response_format()
    client = _client(model_server)
    schema = {"type": "json_schema", "json_schema": {"name": "review", "schema": {"type": "object"}}}
    with pytest.raises(BadRequestError, match="response_format"):
        _ask(client, response_format=schema)
    assert _ask(client).choices[0].message.content == '{"findings": []}'
    assert ["response_format" in body for body in model_server.requests] == [True, False]


def test_models_endpoint_and_env_configured_client(model_server: ModelServer) -> None:
    from openai import OpenAI

    client = OpenAI()  # configured only through OPENAI_BASE_URL / OPENAI_API_KEY set by the fixture
    assert [m.id for m in client.models.list()] == ["test-model"]
    _ask(client)
    assert model_server.headers[-1]["authorization"] == "Bearer sk-test-key-123"
    assert os.environ["REVIEWBOT_MODEL"] == "test-model"


def test_streaming_request_gets_the_same_answer(model_server: ModelServer) -> None:
    model_server.answer("streamed text")
    stream = _ask(_client(model_server), stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "streamed text"


def test_latency_applies_to_every_answer(model_server: ModelServer) -> None:
    model_server.latency = 0.15
    client = _client(model_server)
    started = time.monotonic()
    _ask(client)
    _ask(client)
    assert time.monotonic() - started >= 0.3


def test_concurrent_requests_each_get_their_own_routed_answer(model_server: ModelServer) -> None:
    # Every handler waits until all twelve requests are being handled at once: a server that served them one after
    # another would break the barrier (and fail the fixture) instead of passing slowly.
    all_in_flight = threading.Barrier(12, timeout=20)

    def answer(body: dict) -> Answer:
        all_in_flight.wait()
        return Answer(f"answer to {body['messages'][0]['content']}")

    model_server.default = answer
    client = _client(model_server)
    results: dict[int, str] = {}

    def worker(n: int) -> None:
        results[n] = _ask(client, f"chunk {n}").choices[0].message.content

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {n: f"answer to chunk {n}" for n in range(12)}
    assert model_server.request_count == 12
    assert not all_in_flight.broken  # all twelve were in flight together


# --- GitHub API stand-in ---------------------------------------------------------------------------------------------


def _call(server: GitHubServer, method: str, path: str, body: object = None, *, token: str | None = "ghs_abc",
          prefix: bool = True) -> tuple[int, object, dict[str, str]]:
    url = server.url + (f"/repos/{server.owner}/{server.repo}" if prefix else "") + path
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.headers)
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None, dict(err.headers)


def _review(*comments: dict, body: str = "reviewbot found problems") -> dict:
    return {"commit_id": "h" * 40, "body": body, "event": "COMMENT", "comments": list(comments)}


def test_pull_request_details(github_server: GitHubServer) -> None:
    github_server.head_sha, github_server.base_sha = "1" * 40, "2" * 40
    status, pull, _ = _call(github_server, "GET", "/pulls/7")
    assert status == 200
    assert (pull["number"], pull["head"]["sha"], pull["base"]["sha"]) == (7, "1" * 40, "2" * 40)
    assert _call(github_server, "GET", "/pulls/8")[0] == 404
    assert _call(github_server, "GET", "/pulls/7", prefix=False)[0] == 404


def test_requests_without_a_token_get_401(github_server: GitHubServer) -> None:
    status, body, _ = _call(github_server, "POST", "/pulls/7/reviews", _review(), token=None)
    assert status == 401
    assert body["message"] == "Requires authentication"
    assert github_server.reviews == []
    assert github_server.requests[-1].method == "POST"
    assert "authorization" not in github_server.requests[-1].headers


def test_a_specific_token_can_be_required(github_server: GitHubServer) -> None:
    github_server.token = "ghs_right"
    assert _call(github_server, "GET", "/pulls/7", token="ghs_wrong")[0] == 401
    assert _call(github_server, "GET", "/pulls/7", token="ghs_right")[0] == 200


def test_review_is_stored_with_its_comments(github_server: GitHubServer) -> None:
    github_server.diff_lines = {"app/service.py": {19, 20, 21, 22}}
    status, review, _ = _call(github_server, "POST", "/pulls/7/reviews", _review(
        {"path": "app/service.py", "line": 21, "side": "RIGHT", "body": "blocking call"},
        {"path": "app/service.py", "line": 22, "start_line": 20, "side": "RIGHT", "start_side": "RIGHT",
         "body": "range"},
    ))
    assert status == 200
    assert review["state"] == "COMMENTED"
    stored = github_server.comments
    assert [(c["path"], c["line"], c["start_line"], c["side"], c["body"]) for c in stored] == [
        ("app/service.py", 21, None, "RIGHT", "blocking call"), ("app/service.py", 22, 20, "RIGHT", "range")]
    assert {c["pull_request_review_id"] for c in stored} == {review["id"]}
    assert len({c["id"] for c in stored}) == 2
    assert stored[0]["user"]["login"] == "github-actions[bot]"
    assert github_server.requests[-1].json["comments"][0]["line"] == 21

    status, listed, _ = _call(github_server, "GET", "/pulls/7/reviews")
    assert [r["id"] for r in listed] == [review["id"]]
    status, of_review, _ = _call(github_server, "GET", f"/pulls/7/reviews/{review['id']}/comments")
    assert [c["line"] for c in of_review] == [21, 22]


def test_comment_off_the_diff_rejects_the_whole_review(github_server: GitHubServer) -> None:
    github_server.diff_lines = {"app/service.py": {21}}
    status, body, _ = _call(github_server, "POST", "/pulls/7/reviews", _review(
        {"path": "app/service.py", "line": 21, "body": "fine"},
        {"path": "app/service.py", "line": 40, "body": "not in the diff"},
    ))
    assert status == 422
    assert "must be part of the diff" in body["errors"][0]
    status, body, _ = _call(github_server, "POST", "/pulls/7/reviews", _review(
        {"path": "other.py", "line": 1, "body": "unknown file"}))
    assert (status, body["errors"]) == (422, ["Path could not be resolved"])
    assert github_server.reviews == [] and github_server.comments == []


def test_read_only_token_gets_403_on_writes_only(github_server: GitHubServer) -> None:
    github_server.read_only = True
    status, body, _ = _call(github_server, "POST", "/pulls/7/reviews", _review({"path": "a.py", "line": 1,
                                                                                "body": "x"}))
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    assert _call(github_server, "GET", "/pulls/7/comments")[0] == 200
    assert github_server.reviews == []


def test_review_comments_paginate_with_link_headers(github_server: GitHubServer) -> None:
    for n in range(1, 6):
        github_server.add_comment("a.py", n, f"comment {n}")
    seen, url_path, pages = [], "/pulls/7/comments?per_page=2", 0
    while url_path:
        status, chunk, headers = _call(github_server, "GET", url_path)
        assert status == 200
        pages += 1
        seen += [c["body"] for c in chunk]
        links = dict(reversed(part.split("; ")) for part in headers.get("Link", "").split(", ") if part)
        next_url = links.get('rel="next"', "").strip("<>")
        url_path = next_url.replace(f"{github_server.url}/repos/acme/shop", "") if next_url else ""
    assert pages == 3
    assert seen == [f"comment {n}" for n in range(1, 6)]
    _, _, first = _call(github_server, "GET", "/pulls/7/comments?per_page=2")
    assert 'page=3>; rel="last"' in first["Link"]
    _, everything, headers = _call(github_server, "GET", "/pulls/7/comments")
    assert len(everything) == 5 and "Link" not in headers


def test_comments_can_be_updated_and_deleted(github_server: GitHubServer) -> None:
    mine = github_server.add_comment("a.py", 3, "old text", login="github-actions[bot]")
    theirs = github_server.add_comment("a.py", 4, "a human wrote this")
    status, updated, _ = _call(github_server, "PATCH", f"/pulls/comments/{mine['id']}", {"body": "new text"})
    assert (status, updated["body"]) == (200, "new text")
    assert _call(github_server, "DELETE", f"/pulls/comments/{mine['id']}")[0] == 204
    assert _call(github_server, "DELETE", f"/pulls/comments/{mine['id']}")[0] == 404
    assert github_server.comments == [theirs]
    assert github_server.comments_by() == []
    assert [r.method for r in github_server.writes()] == ["PATCH", "DELETE", "DELETE"]


def test_comment_cap_and_dismissal(github_server: GitHubServer) -> None:
    github_server.max_comments_per_review = 2
    many = [{"path": "a.py", "line": n, "body": str(n)} for n in range(1, 4)]
    assert _call(github_server, "POST", "/pulls/7/reviews", _review(*many))[0] == 422
    assert github_server.most_comments_in_one_review == 3
    status, review, _ = _call(github_server, "POST", "/pulls/7/reviews",
                              {"body": "blocking", "event": "REQUEST_CHANGES", "comments": many[:2]})
    assert (status, review["state"]) == (200, "CHANGES_REQUESTED")
    status, dismissed, _ = _call(github_server, "PUT", f"/pulls/7/reviews/{review['id']}/dismissals",
                                 {"message": "fixed", "event": "DISMISS"})
    assert (status, dismissed["state"]) == (200, "DISMISSED")


def test_scripted_failures_and_issue_comments(github_server: GitHubServer) -> None:
    github_server.fail_next(502, "Bad Gateway")
    assert _call(github_server, "GET", "/pulls/7")[0] == 502
    assert _call(github_server, "GET", "/pulls/7")[0] == 200
    status, comment, _ = _call(github_server, "POST", "/issues/7/comments", {"body": "summary"})
    assert status == 201
    assert _call(github_server, "PATCH", f"/issues/comments/{comment['id']}", {"body": "summary v2"})[0] == 200
    assert [c["body"] for c in _call(github_server, "GET", "/issues/7/comments")[1]] == ["summary v2"]


def test_use_repo_takes_shas_and_diff_lines(repo: GitRepo, github_server: GitHubServer) -> None:
    base = repo.head()
    repo.checkout("feature", create=True)
    head = repo.commit_files({"app.py": "a = 1\nb = 2\n"}, "feature")
    github_server.use_repo(repo, "main", "feature")
    assert (github_server.base_sha, github_server.head_sha) == (base, head)
    assert github_server.diff_lines == {"app.py": {1, 2}}
    ok = _review({"path": "app.py", "line": 2, "body": "fine"})
    ok["commit_id"] = head
    assert _call(github_server, "POST", "/pulls/7/reviews", ok)[0] == 200
    stale = dict(ok, commit_id="0" * 40)
    assert _call(github_server, "POST", "/pulls/7/reviews", stale)[0] == 422


def test_actions_env_describes_the_pull_request(tmp_path: Path, github_server: GitHubServer) -> None:
    env = actions_env(tmp_path, github_server, base_sha="b1" * 20, head_sha="c2" * 20)
    event = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())
    assert event["pull_request"]["base"]["sha"] == "b1" * 20
    assert event["pull_request"]["head"]["sha"] == "c2" * 20
    assert event["number"] == 7
    assert env["GITHUB_API_URL"] == github_server.url and env["GITHUB_REPOSITORY"] == "acme/shop"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == ""
    assert gitlab_env("a" * 40, "b" * 40)["CI_MERGE_REQUEST_DIFF_BASE_SHA"] == "a" * 40


# --- git repositories ------------------------------------------------------------------------------------------------


def test_state_hash_is_stable_and_sees_every_kind_of_change(repo: GitRepo) -> None:
    repo.write("app.py", "print('hi')\n")
    repo.commit("add app", all=True)
    first = repo.state_hash()
    os.utime(repo.path / "app.py", (1, 1))  # stale stat data: plain `git status` would rewrite the index
    assert repo.state_hash() == repo.state_hash()
    baseline = repo.state_hash()
    assert repo.snapshot()["index"] == repo.snapshot()["index"]

    repo.write("app.py", "print('changed')\n")
    edited = repo.state_hash()
    repo.add("app.py")  # the work tree is as before; only the index changes
    staged = repo.state_hash()
    assert baseline == first  # reading the state did not refresh the index
    assert len({first, edited, staged}) == 3

    repo.write("untracked.txt", "x")
    assert repo.state_hash() != staged
    before_branch = repo.state_hash()
    repo.branch("topic")
    assert repo.state_hash() != before_branch
    before_chmod = repo.state_hash()
    repo.chmod("README.md", executable=True)
    assert repo.state_hash() != before_chmod


def test_snapshot_names_the_part_that_changed(repo: GitRepo) -> None:
    before = repo.snapshot()
    repo.write("README.md", "# Demo project\nmore\n")
    repo.add("README.md")
    after = repo.snapshot()
    assert {k for k in before if before[k] != after.get(k)} == {"index", "status", "tree:README.md"}


def test_state_hash_of_an_empty_repository(empty_repo: GitRepo) -> None:
    assert empty_repo.snapshot()["HEAD^{commit}"] == ""
    first = empty_repo.state_hash()
    empty_repo.write("a.txt", "a")
    assert empty_repo.state_hash() != first


def test_repo_fixture_and_isolation(repo: GitRepo, isolated_env, tmp_path: Path) -> None:
    assert Path.cwd() == repo.path
    assert repo.git("log", "--format=%s").strip() == "initial commit"
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert Path.home() == isolated_env.home and str(tmp_path) in str(Path.home())
    assert os.environ["XDG_CONFIG_HOME"] == str(isolated_env.config)
    assert not any(k.startswith(("OPENAI_", "REVIEWBOT_", "GITHUB_", "GITLAB_")) for k in os.environ)
    assert "CI" not in os.environ and "GIT_DIR" not in os.environ
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    import subprocess

    name = subprocess.run(["git", "config", "--global", "user.name"], cwd=elsewhere, capture_output=True, text=True)
    assert name.stdout.strip() == "Test User"


def test_git_repo_ignores_redirecting_git_variables(repo: GitRepo, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "elsewhere-index"))
    repo.write("new.py", "x = 1\n")
    repo.add("new.py")
    assert repo.staged_names() == ["new.py"]
    assert not (tmp_path / "elsewhere-index").exists()


def test_diff_lines_lists_commentable_new_side_lines(repo: GitRepo) -> None:
    base_lines = [f"line {n}" for n in range(1, 31)]
    repo.write("app/service.py", "\n".join(base_lines) + "\n")
    repo.write("schema.sql", "-- a comment\nselect 1;\n")
    base = repo.commit("base", all=True)
    repo.checkout("feature", create=True)
    new_lines = base_lines[:20] + ["time.sleep(5)"] + base_lines[20:]
    repo.write("app/service.py", "\n".join(new_lines) + "\n")
    repo.write("schema.sql", "select 1;\n")  # the removed line starts with "--"
    repo.write("café ü.py", "print(1)\nprint(2)\n")
    repo.delete("README.md")
    head = repo.commit("feature", all=True)

    lines = repo.diff_lines(base, head)

    assert lines["app/service.py"] == set(range(18, 25))  # 3 context lines either side of the added line 21
    assert lines["schema.sql"] == {1}
    assert lines["café ü.py"] == {1, 2}
    assert "README.md" not in lines


def test_diff_lines_uses_the_merge_base(repo: GitRepo) -> None:
    repo.checkout("feature", create=True)
    repo.commit_files({"feature.py": "a\n"}, "feature work")
    repo.checkout("main")
    repo.commit_files({"README.md": "# Demo project\nchanged on main\n"}, "main moved on")
    assert set(repo.diff_lines("main", "feature")) == {"feature.py"}
    # Without the merge base, main's own change shows up (reverted) in the diff.
    assert set(repo.diff_lines("main", "feature", merge_base=False)) == {"feature.py", "README.md"}


def test_shallow_clone(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit_files({"a.py": "1\n"}, "second")
    repo.commit_files({"a.py": "2\n"}, "third")
    clone = GitRepo.clone(repo, tmp_path / "clone", depth=1)
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"
    assert clone.head() == repo.head()
    assert clone.git("rev-list", "--count", "HEAD").strip() == "1"


# --- CLI runners -----------------------------------------------------------------------------------------------------


def test_run_cli_separates_stdout_and_stderr(run_cli, repo: GitRepo) -> None:
    pytest.importorskip("reviewbot.cli")
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert result.stderr == ""


def test_run_reviewbot_runs_the_checkout_in_a_subprocess(run_reviewbot, repo: GitRepo) -> None:
    pytest.importorskip("reviewbot.cli")
    proc = run_reviewbot("--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout


def test_session_runs_under_a_private_home_not_the_users(isolated_env):
    """The user's own reviewbot runs on this machine write under their real home; the suite must not watch it."""
    from tests import conftest

    assert conftest._SESSION_HOME != conftest._ORIGINAL_HOME
    watched = [str(p) for p in conftest._WATCHED]
    assert watched and all(p.startswith(str(conftest._SESSION_HOME)) for p in watched), watched
    assert not conftest._SESSION_HOME.is_relative_to(conftest._ORIGINAL_HOME)
