"""Team controls end to end through the CLI: several agents per run, nested standards, path instructions, determinism
and usage reporting. (`init`, `config` and `agents` have their own test files.)"""

from __future__ import annotations

import json

# -- several agents, standards and instructions through a review ----------------------------------------------

SERVICE = "".join(f"x{i} = {i}\n" for i in range(1, 11))


def _persona_router(body: dict) -> dict:
    """Answer as whichever agent the request's persona belongs to."""
    text = "\n".join(m.get("content") or "" for m in body["messages"])
    if "application security engineer" in text:
        return {"findings": [{"path": "app/service.py", "line": 11, "severity": "error", "category": "security",
                              "message": "user input reaches eval"}]}
    return {"findings": [{"path": "app/service.py", "line": 11, "severity": "warning", "category": "async",
                          "message": "blocking call"}]}


def test_several_agents_each_review_with_their_persona_and_label_findings(repo, model_server, run_cli):
    repo.commit_files({"app/service.py": SERVICE})
    repo.write("app/service.py", SERVICE + "eval(request.body)\n")
    repo.add("app/service.py")
    model_server.default = _persona_router
    result = run_cli("diff", "--staged", "--agent", "senior-backend-engineer", "--agent", "security-reviewer")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:11: error: user input reaches eval [security-reviewer/security]" in result.stdout
    assert "app/service.py:11: warning: blocking call [senior-backend-engineer/async]" in result.stdout
    prompts = sorted(model_server.prompt_text(i) for i in range(len(model_server.requests)))
    assert len(prompts) == 2
    assert sum("application security engineer" in p for p in prompts) == 1

    result = run_cli("diff", "--staged", "-a", "senior-backend-engineer", "-a", "security-reviewer", "-f", "json")
    report = json.loads(result.stdout)
    assert sorted((f["agent"], f["category"]) for f in report["findings"]) == [
        ("security-reviewer", "security"), ("senior-backend-engineer", "async")]


def test_agents_from_config_list(repo, model_server, run_cli):
    repo.write(".reviewbot.toml", 'agents = ["senior-backend-engineer", "security-reviewer"]\n')
    repo.commit_files({"app/service.py": SERVICE})
    repo.write("app/service.py", SERVICE + "eval(request.body)\n")
    repo.add("app/service.py")
    model_server.default = _persona_router
    result = run_cli("diff", "--staged", "-f", "json")
    assert {f["agent"] for f in json.loads(result.stdout)["findings"]} == {"security-reviewer",
                                                                             "senior-backend-engineer"}


def test_unknown_agent_exits_2_naming_it(repo, model_server, run_cli):
    repo.commit_files({"app/service.py": SERVICE})
    repo.write("app/service.py", SERVICE + "y = 1\n")
    repo.add("app/service.py")
    result = run_cli("diff", "--staged", "--agent", "senior-backend-engineer", "--agent", "no-such-reviewer")
    assert result.exit_code == 2
    assert "no-such-reviewer" in result.stderr and "Traceback" not in result.stderr
    assert model_server.requests == []


def test_nested_standards_apply_only_at_and_below_their_folder(repo, model_server, run_cli):
    repo.commit_files({
        "AGENTS.md": "ROOT-RULE: log with structlog.\n",
        "services/api/AGENTS.md": "API-RULE: every handler validates its input with pydantic.\n",
        "services/api/handlers/users.py": "def get():\n    pass\n",
        "web/app.js": "export const a = 1;\n",
    })
    repo.write("services/api/handlers/users.py", "def get():\n    return db.query(request.args)\n")
    repo.write("web/app.js", "export const a = 2;\n")

    assert run_cli("diff", "--", "services/api/").exit_code == 0
    api_prompt = model_server.prompt_text(-1)
    assert "API-RULE" in api_prompt and "ROOT-RULE" in api_prompt
    assert api_prompt.index("API-RULE") < api_prompt.index("ROOT-RULE")  # nearest first

    assert run_cli("diff", "--", "web/").exit_code == 0
    web_prompt = model_server.prompt_text(-1)
    assert "ROOT-RULE" in web_prompt and "API-RULE" not in web_prompt
    assert len(model_server.requests) == 2


def test_path_instructions_only_for_matching_files(repo, model_server, run_cli):
    repo.write(".reviewbot.toml", '[path_instructions]\n"migrations/**" = "MIGRATION-RULE: must be reversible."\n')
    repo.commit_files({"migrations/001_init.sql": "CREATE TABLE a (id int);\n", "app/x.py": "a = 1\n"})
    repo.write("migrations/001_init.sql", "CREATE TABLE a (id int);\nDROP TABLE b;\n")
    repo.write("app/x.py", "a = 2\n")

    assert run_cli("diff", "--", "migrations/").exit_code == 0
    assert "MIGRATION-RULE: must be reversible." in model_server.prompt_text(-1)
    assert run_cli("diff", "--", "app/").exit_code == 0
    assert "MIGRATION-RULE" not in model_server.prompt_text(-1)


# -- determinism and usage ------------------------------------------------------------------------------------

def test_identical_content_gives_identical_requests(repo, model_server, run_cli):
    repo.write("CLAUDE.md", "Prefer small functions.\n")
    repo.commit_files({"app/a.py": SERVICE, "app/b.py": SERVICE, "CLAUDE.md": "Prefer small functions.\n"})
    repo.write("app/a.py", SERVICE + "eval(x)\n")
    repo.write("app/b.py", "import os\n" + SERVICE)
    repo.add("app/a.py", "app/b.py")
    args = ("diff", "--staged", "--no-cache", "-a", "senior-backend-engineer", "-a", "security-reviewer")

    assert run_cli(*args).exit_code == 0
    first = sorted(json.dumps(b, ensure_ascii=False) for b in model_server.requests)
    assert run_cli(*args).exit_code == 0
    second = sorted(json.dumps(b, ensure_ascii=False) for b in model_server.requests[len(first):])
    assert len(first) >= 2
    assert first == second  # the same bytes on the wire, request for request
    for body in model_server.requests:
        assert body["temperature"] == 0
        assert "seed" in body


def test_summary_reports_requests_and_tokens(repo, model_server, run_cli):
    repo.commit_files({"app/service.py": SERVICE})
    repo.write("app/service.py", SERVICE + "y = 1\n")
    repo.add("app/service.py")
    model_server.answer_findings([], usage=(1234, 56))
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0
    assert "1 request, 1,234 tokens in / 56 out" in result.stderr

    # The unchanged rerun comes from the cache: no request, and the summary says so.
    result = run_cli("diff", "--staged")
    assert "0 requests (1 cached), 0 tokens in / 0 out" in result.stderr
    assert len(model_server.requests) == 1
