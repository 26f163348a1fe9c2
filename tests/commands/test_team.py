"""Team controls end to end through the CLI: init, config, agents, several agents per run, nested standards,
path instructions, determinism and usage reporting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from reviewbot.adapters.repository_files import MemorySource
from reviewbot.commands.init import HOOK_ENTRY, config_template
from reviewbot.config import KEYS, load_settings

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _validate_pre_commit(path: Path) -> None:
    """pre-commit's own check of a config file (offline; it only reads the file)."""
    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed next to this Python")
    proc = subprocess.run([str(PRE_COMMIT), "validate-config", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- reviewbot init -------------------------------------------------------------------------------------------

def test_init_creates_both_files_and_a_second_run_changes_nothing(repo, run_cli):
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    assert "wrote .reviewbot.toml" in result.stdout
    assert "created .pre-commit-config.yaml" in result.stdout
    config = repo.path / ".reviewbot.toml"
    hooks = repo.path / ".pre-commit-config.yaml"
    first = (config.read_bytes(), hooks.read_bytes())

    data = yaml.safe_load(hooks.read_text())
    hook = data["repos"][0]["hooks"][0]
    assert data["repos"][0]["repo"] == "local"
    assert hook == {"id": "reviewbot", "name": "reviewbot (AI code review)", "entry": HOOK_ENTRY,
                    "language": "system", "require_serial": True, "verbose": True, "types": ["text"],
                    "stages": ["pre-commit", "pre-merge-commit", "pre-push", "manual"]}
    _validate_pre_commit(hooks)

    again = run_cli("init")
    assert again.exit_code == 0
    assert "already" in again.stdout
    assert (config.read_bytes(), hooks.read_bytes()) == first


def test_config_template_documents_every_key_and_uncomments_into_valid_settings():
    text = config_template()
    assert tomllib.loads(text) == {}  # everything is commented out
    for name, key in KEYS.items():
        assert f"# {key.help}" in text
        assert re.search(rf"^# {name} = ", text, re.M), name
    uncommented = "\n".join(ln[2:] for ln in text.splitlines() if re.match(r"^# [a-z_]+ = ", ln))
    table = tomllib.loads(uncommented)
    assert set(table) == set(KEYS)
    settings = load_settings(repo_source=MemorySource({".reviewbot.toml": uncommented}), environ={})
    # Every value converts; the one key a repository may not set is refused with a warning, nothing else.
    assert [w for w in settings.warnings if "trusted_hosts" not in w] == []
    assert settings.fail_on == "error" and settings.baseline == ".reviewbot-baseline.json"
    assert settings.path_instructions == {"migrations/**": "Check that every migration can be rolled back."}


EXISTING = """\
# Team hooks. Keep this comment!
default_language_version:
    python: python3.11

repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0   # pinned on purpose
    hooks:
    -   id: trailing-whitespace
    -   id: end-of-file-fixer

# The CI block below must stay last.
ci:
    autofix_prs: false
"""


def test_init_appends_to_an_existing_pre_commit_config_without_disturbing_it(repo, run_cli):
    hooks = repo.write(".pre-commit-config.yaml", EXISTING)
    config = repo.write(".reviewbot.toml", '# our settings\nfail_on = "warning"  # strict\n')
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    assert "added the reviewbot hook to .pre-commit-config.yaml" in result.stdout
    assert ".reviewbot.toml already exists" in result.stdout
    assert config.read_text() == '# our settings\nfail_on = "warning"  # strict\n'

    text = hooks.read_text()
    # Every original line is still there, in order, and only lines were added.
    original = EXISTING.splitlines()
    new = text.splitlines()
    it = iter(new)
    assert all(line in it for line in original)
    assert len(new) > len(original)
    before, after = yaml.safe_load(EXISTING), yaml.safe_load(text)
    assert after["repos"][:-1] == before["repos"]
    assert after["repos"][-1]["hooks"][0]["id"] == "reviewbot"
    assert after["ci"] == before["ci"] and after["default_language_version"] == before["default_language_version"]
    assert text.index("reviewbot hook") < text.index("# The CI block below must stay last.")
    _validate_pre_commit(hooks)

    snapshot = hooks.read_bytes()
    assert run_cli("init").exit_code == 0
    assert hooks.read_bytes() == snapshot


@pytest.mark.parametrize("existing", ["", "# nothing yet\n", "default_stages: [pre-commit]", "repos:\n"])
def test_init_handles_sparse_pre_commit_configs(repo, run_cli, existing):
    hooks = repo.write(".pre-commit-config.yaml", existing)
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    text = hooks.read_text()
    assert text.startswith(existing)
    assert [h["id"] for r in yaml.safe_load(text)["repos"] for h in r["hooks"]] == ["reviewbot"]
    _validate_pre_commit(hooks)


def test_init_refuses_invalid_yaml_and_writes_nothing(repo, run_cli):
    broken = "repos:\n  - repo: local\n    hooks: [\n"
    hooks = repo.write(".pre-commit-config.yaml", broken)
    result = run_cli("init")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and ".pre-commit-config.yaml is not valid YAML" in result.stderr
    assert hooks.read_text() == broken
    assert not (repo.path / ".reviewbot.toml").exists()


def test_init_refuses_the_old_list_format(repo, run_cli):
    repo.write(".pre-commit-config.yaml", "- repo: local\n  hooks: []\n")
    result = run_cli("init")
    assert result.exit_code == 2 and "migrate-config" in result.stderr


def test_init_leaves_pyproject_settings_in_charge(repo, run_cli):
    repo.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.reviewbot]\nfail_on = "warning"\n')
    result = run_cli("init")
    assert result.exit_code == 0
    assert "pyproject.toml [tool.reviewbot]" in result.stdout
    assert not (repo.path / ".reviewbot.toml").exists()


# -- reviewbot config and agents ------------------------------------------------------------------------------

def test_config_shows_origins_and_masks_the_key(repo, run_cli):
    repo.write(".reviewbot.toml", 'fail_on = "warning"\n')
    secret = "sk-very-secret-value-1234"
    result = run_cli("config", env={"OPENAI_API_KEY": secret, "REVIEWBOT_MODEL": "m-1", "REVIEWBOT_TIMEOUT": "9"})
    assert result.exit_code == 0, result.stderr
    lines = {ln.split("=", 1)[0].strip(): ln for ln in result.stdout.splitlines()}
    assert lines["fail_on"].endswith("# repository (.reviewbot.toml)") and '"warning"' in lines["fail_on"]
    assert lines["model"].endswith("# env REVIEWBOT_MODEL")
    assert "9.0" in lines["timeout"]
    assert lines["concurrency"].endswith("# default")
    assert "****" in lines["api_key"]
    # Settings whose names merely contain "token" or "secret" are numbers and switches, not secrets.
    assert "16000" in lines["max_request_tokens"] and "true" in lines["secret_scan"]
    assert secret not in result.stdout + result.stderr


def test_agents_lists_bundled_user_and_repository_agents_with_origins(repo, run_cli, isolated_env):
    repo.write(".claude/agents/db-reviewer.md",
               "---\nname: db-reviewer\ndescription: Reviews SQL and migrations.\n---\nYou review databases.\n")
    user_dir = isolated_env.home / ".claude" / "agents"
    user_dir.mkdir(parents=True)
    (user_dir / "my-style.md").write_text("---\nname: my-style\ndescription: My own taste.\n---\nBe picky.\n")
    result = run_cli("agents")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert re.search(r"^\* senior-backend-engineer  \[bundled: ", out, re.M)  # the default is marked
    assert re.search(r"^  security-reviewer  \[bundled: ", out, re.M)
    assert re.search(r"^  db-reviewer  \[repository: \.claude/agents/db-reviewer\.md\]", out, re.M)
    assert re.search(r"^  my-style  \[user: .*my-style\.md\]", out, re.M)
    assert "Reviews SQL and migrations." in out


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
