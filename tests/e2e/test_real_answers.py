"""Golden answers of real model servers, replayed byte for byte by the loopback server, each with its outcome.

Every file in tests/fixtures/real_answers/ holds what a server sent back (HTTP status and body, in order; the last
reply repeats for any further request), a note of where it came from (`captured` from a real server with
capture.py, or `reconstructed` from a documented report when no such server runs here), the command and settings of
the replay, and the outcome it must get: exit code, words that must and must not appear, the number of requests.
The repository is the one the answers were captured against: app/db.py with an f-string SQL query staged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Fail, GitRepo, Malformed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "real_answers"
GOLDEN = sorted(FIXTURES.glob("*.json"))


def test_there_are_enough_golden_answers_and_most_are_real():
    stories = [json.loads(p.read_text(encoding="utf-8")) for p in GOLDEN]
    assert len(stories) >= 8
    assert sum(1 for s in stories if s["origin"]["kind"] == "captured") >= 4
    for story in stories:
        assert story["origin"]["kind"] in ("captured", "reconstructed") and story["origin"]["source"]


def _replay(replies: list[dict]):
    served = {"count": 0}

    def reply(body: dict):
        item = replies[min(served["count"], len(replies) - 1)]
        served["count"] += 1
        if item["status"] == 200:
            return Malformed(json.dumps(item["body"]))  # the server's own bytes, not rebuilt by the test server
        return Fail(item["status"], item["body"])

    return reply


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_answer(path, repo, model_server, run_cli):
    story = json.loads(path.read_text(encoding="utf-8"))
    repo.write("app/db.py", "def find_user(conn, name):\n"
               "    return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()\n")
    for rel, text in story.get("files", {}).items():
        repo.write(rel, text)
    repo.stage_all()
    model_server.default = _replay(story["replies"])
    before = GitRepo(repo.path, init=False).state_hash()
    result = run_cli(*story["command"], env=story.get("env") or None)
    expect = story["expect"]
    output = result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.exit_code == expect["exit_code"], output
    for words in expect.get("output", []):
        assert words in output, f"{words!r} missing from:\n{output}"
    for words in expect.get("not_output", []):
        assert words not in output, f"{words!r} should not be in:\n{output}"
    if "requests" in expect:
        assert model_server.request_count == expect["requests"], output
    if "formats" in expect:
        assert [(r.get("response_format") or {}).get("type") for r in model_server.requests] == expect["formats"]
    assert GitRepo(repo.path, init=False).state_hash() == before
