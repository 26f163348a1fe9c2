"""Agentic look-ups (--tools): end to end through the CLI, the real openai client and the loopback server, which
scripts the model's tool calls."""

from __future__ import annotations

import json

from tests.helpers.model_server import Answer

HELPER = '''\
"""Geo look-ups."""

import requests


def lookup_country(ip):
    resp = requests.get("https://geo.example/v1/" + ip, timeout=3)
    return resp.json().get("country")
'''

API = '''\
"""Sign-up."""

from app.geo import lookup_country


async def signup(request):
    return {"ok": True}
'''

FINDING = {"path": "app/api.py", "line": 7, "end_line": None, "severity": "error", "category": "async",
           "message": "lookup_country blocks the event loop (requests.get).", "suggestion": None,
           "quote": "country = lookup_country(request.ip)", "confidence": 0.9}


def stage_change(repo) -> None:
    repo.commit_files({"app/geo.py": HELPER, "app/api.py": API}, "base")
    repo.write("app/api.py", API.replace('    return {"ok": True}\n',
                                         '    country = lookup_country(request.ip)\n    return {"ok": country}\n'))
    repo.add("app/api.py")
    # The work tree differs from what is reviewed: tools must read the index.
    repo.write("app/geo.py", HELPER.replace("timeout=3", "timeout=WORKTREE_ONLY"))


def tool_results(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m.get("role") == "tool"]


def test_read_a_file_at_the_reviewed_revision(repo, model_server, run_cli):
    stage_change(repo)
    model_server.call_tools(("read_file", {"path": "app/geo.py", "start_line": 6, "end_line": 8}))
    model_server.answer_findings([FINDING])
    result = run_cli("diff", "--staged", "--tools", "-v", "--no-cache")
    assert result.exit_code == 1, result.stderr
    assert "app/api.py:7" in result.stdout
    assert model_server.request_count == 2
    first, second = model_server.requests
    assert [t["function"]["name"] for t in first["tools"]] == ["read_file", "search", "list_folder"]
    assert "response_format" not in first  # a grammar-constrained answer could not call a tool
    (read,) = tool_results(second)
    assert 'requests.get("https://geo.example/v1/" + ip, timeout=3)' in read
    assert "WORKTREE_ONLY" not in json.dumps(model_server.requests)
    assert 'reviewbot: tool read_file {"path": "app/geo.py", "start_line": 6, "end_line": 8} -> 4 lines' in \
        result.stderr


def test_search_the_repository(repo, model_server, run_cli):
    stage_change(repo)
    model_server.call_tools(("search", {"text": "requests.get"}), ("list_folder", {"path": "app"}))
    model_server.answer_findings([])
    result = run_cli("diff", "--staged", "--tools", "--no-cache")
    assert result.exit_code == 0, result.stderr
    found, listing = tool_results(model_server.requests[1])
    assert found.startswith("app/geo.py:7:")
    assert listing.splitlines() == ["api.py", "geo.py"]
    assert "reviewbot: tool" not in result.stderr  # calls are shown only with -v


def test_calls_outside_the_repository_are_refused(repo, model_server, run_cli, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("OUTSIDE_SECRET = 1\n")
    stage_change(repo)
    repo.symlink("app/link.py", str(outside))
    repo.add("app/link.py")
    model_server.call_tools(
        ("read_file", {"path": "../outside.py"}),
        ("read_file", {"path": str(outside)}),
        ("read_file", {"path": "app/link.py"}),
        ("read_file", {"path": "app/../../outside.py"}),
        ("list_folder", {"path": ".."}),
        ("search", {"text": "OUTSIDE_SECRET", "path": "../"}),
        ("read_file", "{not json"),
        ("delete_file", {"path": "app/api.py"}),
    )
    model_server.answer_findings([])
    result = run_cli("diff", "--staged", "--tools", "-v", "--no-cache")
    assert result.exit_code == 0, result.stderr
    results = tool_results(model_server.requests[1])
    assert len(results) == 8
    assert all(r.startswith("refused: ") for r in results), results
    assert "OUTSIDE_SECRET = 1" not in json.dumps(model_server.requests)
    assert result.stderr.count("-> refused: ") == 8
    assert repo.read("app/api.py").count("lookup_country") == 2  # nothing was changed


def test_a_runaway_loop_is_stopped_by_the_step_bound(repo, model_server, run_cli):
    stage_change(repo)

    def always_call_tools(body: dict):
        if "tools" in body:
            return Answer(None, finish_reason="tool_calls", tool_calls=(("list_folder", {"path": ""}),))
        return Answer({"findings": [], "summary": "done"})

    model_server.default = always_call_tools
    result = run_cli("diff", "--staged", "--tools", "-v", "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert model_server.request_count == 7  # 6 rounds of tool calls, then the answer without tools
    assert "tools" not in model_server.requests[-1]
    assert model_server.requests[-1]["messages"][-1]["content"].startswith("No more tool calls")
    assert "tool step limit (6) reached" in result.stderr


def test_a_server_without_tool_support_falls_back_with_a_note(repo, model_server, run_cli):
    stage_change(repo)
    model_server.reject_tools()
    model_server.answer_findings([FINDING])
    result = run_cli("diff", "--staged", "--tools", "--no-cache")
    assert result.exit_code == 1, result.stderr
    assert "the server refused tool calls, so the review used the context in the prompt only" in result.stderr
    assert "tools" not in model_server.requests[-1]
    assert "def lookup_country(ip):" in model_server.prompt_text(-1)  # the deterministic context is there


def test_an_agent_listing_read_only_tools_opts_in(repo, model_server, run_cli):
    stage_change(repo)
    repo.write(".claude/agents/looker.md", "---\nname: looker\ndescription: looks around\ntools: Read, Grep, Glob\n"
               "---\nYou review code.\n")
    repo.write(".claude/agents/plain.md", "---\nname: plain\ndescription: diff only\n---\nYou review code.\n")
    model_server.answer_findings([])
    assert run_cli("diff", "--staged", "--agent", "looker", "--no-cache").exit_code == 0
    assert "tools" in model_server.requests[-1]
    model_server.answer_findings([])
    assert run_cli("diff", "--staged", "--agent", "plain", "--no-cache").exit_code == 0
    assert "tools" not in model_server.requests[-1]


def test_answers_found_with_tools_are_cached(repo, model_server, run_cli):
    stage_change(repo)
    model_server.call_tools(("read_file", {"path": "app/geo.py"}))
    model_server.answer_findings([FINDING])
    assert run_cli("diff", "--staged", "--tools").exit_code == 1
    count = model_server.request_count
    again = run_cli("diff", "--staged", "--tools")
    assert again.exit_code == 1 and "app/api.py:7" in again.stdout
    assert model_server.request_count == count
