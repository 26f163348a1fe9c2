"""End to end through the CLI: real git repositories, the real openai client, a loopback model server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.adapters.git import DiffSpec
from reviewbot.commands.diff import run_diff
from reviewbot.commands.options import RunOptions

SERVICE_BEFORE = "".join(f"# line {i}\n" for i in range(1, 21))
BLOCKING_LINE = "    time.sleep(5)  # blocks the event loop\n"
SERVICE_AFTER = SERVICE_BEFORE + BLOCKING_LINE + "    return 1\n"

SEED_AGENT = Path(__file__).parents[1] / "fixtures" / "agents" / "senior-backend-engineer.md"


def _stage_service_change(repo) -> None:
    repo.write("app/service.py", SERVICE_BEFORE)
    repo.write("CLAUDE.md", "Always use asyncio.sleep in async code.\n")
    repo.add("app/service.py", "CLAUDE.md")
    repo.commit("base")
    repo.write("app/service.py", SERVICE_AFTER)
    repo.add("app/service.py")


def _finding(line=21, severity="error", path="app/service.py", **extra):
    return {"path": path, "line": line, "severity": severity, "category": "async",
            "message": "time.sleep blocks the event loop", **extra}


def test_staged_blocking_finding_exits_1(repo, model_server, run_cli):
    _stage_service_change(repo)
    model_server.answer_findings([_finding()])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert result.stdout.splitlines()[0].startswith("app/service.py:21: error: time.sleep blocks the event loop")
    assert "1 error" in result.stderr
    body = model_server.requests[0]
    prompt = "\n".join(m["content"] for m in body["messages"])
    assert "Always use asyncio.sleep in async code." in prompt  # the standards
    assert "21 +     time.sleep(5)" in prompt  # the changed line with its new-file number
    assert "Senior Backend Engineer" in prompt or "senior-backend-engineer" in prompt  # the persona
    assert body["temperature"] == 0 and body["seed"] == 0


def test_warning_alone_passes_unless_fail_on_warning(repo, model_server, run_cli):
    _stage_service_change(repo)
    model_server.answer_findings([_finding(severity="warning")])
    assert run_cli("diff", "--staged", "--no-cache").exit_code == 0
    model_server.answer_findings([_finding(severity="warning")])
    result = run_cli("diff", "--staged", "--fail-on", "warning", "--no-cache")
    assert result.exit_code == 1
    assert "app/service.py:21: warning:" in result.stdout


def test_findings_off_the_diff_are_not_shown(repo, model_server, run_cli):
    _stage_service_change(repo)
    model_server.answer_findings([_finding(line=3), _finding(path="app/other.py", line=1)])
    result = run_cli("diff", "--staged", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert "off-diff" in result.stderr and "unknown file" in result.stderr


def test_dry_run_shows_prompt_and_sends_nothing(repo, model_server, run_cli):
    _stage_service_change(repo)
    result = run_cli("diff", "--staged", "--dry-run")
    assert result.exit_code == 0
    assert model_server.requests == []
    assert "Always use asyncio.sleep in async code." in result.stdout
    assert "time.sleep(5)" in result.stdout
    assert "tokens" in result.stdout


def test_nothing_staged_exits_0_without_request(repo, model_server, run_cli):
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0
    assert model_server.requests == []


def test_no_model_configured_is_exit_2(repo, run_cli):
    _stage_service_change(repo)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 2
    assert "no model configured" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_range_and_paths(repo, model_server, run_cli):
    _stage_service_change(repo)
    repo.commit("feature")
    repo.write("docs/notes.py", "x = 1\n")
    repo.add("docs/notes.py")
    repo.commit("docs")
    model_server.answer_findings([_finding()])
    result = run_cli("diff", "HEAD~2..HEAD~1")
    assert result.exit_code == 1
    assert "app/service.py" in model_server.prompt_text(-1)
    assert "docs/notes.py" not in model_server.prompt_text(-1)
    model_server.answer_findings([])
    result = run_cli("diff", "HEAD~2", "HEAD", "--", "docs")
    assert result.exit_code == 0, result.stderr
    assert "docs/notes.py" in model_server.prompt_text(-1)
    assert "app/service.py" not in model_server.prompt_text(-1)


def test_three_dot_range_reviews_from_merge_base(repo, model_server, run_cli):
    repo.branch("feature")
    repo.checkout("feature")
    repo.write("feature.py", "def f():\n    return 1\n")
    repo.add("feature.py")
    repo.commit("feature work")
    repo.checkout("main")
    repo.write("main_only.py", "y = 2\n")
    repo.add("main_only.py")
    repo.commit("main moved on")
    model_server.answer_findings([])
    assert run_cli("diff", "main...feature").exit_code == 0
    prompt = model_server.prompt_text(-1)
    assert "feature.py" in prompt and "main_only.py" not in prompt


def test_unknown_revision_is_exit_2(repo, run_cli, model_server):
    result = run_cli("diff", "no-such-branch")
    assert result.exit_code == 2
    assert "no-such-branch" in result.stderr


def test_initial_commit_without_head(empty_repo, model_server, run_cli):
    empty_repo.write("app.py", "import os\nprint(os.getcwd())\n")
    empty_repo.add("app.py")
    model_server.answer_findings([_finding(path="app.py", line=2, severity="info")])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert "app.py:2: info:" in result.stdout


def test_seed_agent_file_used_from_repository(repo, model_server, run_cli):
    agents_dir = repo.path / ".claude" / "agents"
    agents_dir.mkdir(parents=True)
    (agents_dir / "senior-backend-engineer.md").write_bytes(SEED_AGENT.read_bytes())
    _stage_service_change(repo)
    model_server.answer_findings([])
    assert run_cli("diff", "--staged").exit_code == 0
    system = model_server.requests[0]["messages"][0]["content"]
    assert "AutoBot project" in system  # the repository's agent overrides the bundled one
    # front-matter `model: sonnet` is a Claude alias, not a model id: the configured model is used
    assert model_server.requests[0]["model"] == "test-model"


def test_agent_by_path_and_unknown_agent(repo, model_server, run_cli):
    _stage_service_change(repo)
    model_server.answer_findings([])
    assert run_cli("diff", "--staged", "--agent", str(SEED_AGENT)).exit_code == 0
    assert "AutoBot project" in model_server.requests[0]["messages"][0]["content"]
    result = run_cli("diff", "--staged", "--agent", "nobody-like-this")
    assert result.exit_code == 2
    assert "nobody-like-this" in result.stderr


def test_model_alias_mapping(repo, model_server, run_cli, monkeypatch, isolated_env):
    agents_dir = repo.path / ".claude" / "agents"
    agents_dir.mkdir(parents=True)
    (agents_dir / "senior-backend-engineer.md").write_bytes(SEED_AGENT.read_bytes())
    repo.write(".reviewbot.toml", '[model_aliases]\nsonnet = "qwen2.5-coder:32b"\n')
    _stage_service_change(repo)
    # The user chose a model (REVIEWBOT_MODEL): the repository's agent and aliases may not swap it (issue 11).
    model_server.answer_findings([])
    assert run_cli("diff", "--staged", "--no-cache").exit_code == 0
    assert model_server.requests[-1]["model"] == "test-model"
    # The user's own aliases map what a repository agent asks for.
    user_config = isolated_env.config / "reviewbot" / "config.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text('[model_aliases]\nsonnet = "mine:7b"\n', encoding="utf-8")
    model_server.answer_findings([])
    result = run_cli("diff", "--staged", "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert model_server.requests[-1]["model"] == "mine:7b"
    # With no model of the user's, the repository's mapping applies.
    user_config.unlink()
    monkeypatch.delenv("REVIEWBOT_MODEL")
    model_server.answer_findings([])
    assert run_cli("diff", "--staged", "--no-cache").exit_code == 0
    assert model_server.requests[-1]["model"] == "qwen2.5-coder:32b"


def test_broken_repo_config_names_the_file(repo, model_server, run_cli):
    repo.write(".reviewbot.toml", "fail_on = [broken\n")
    _stage_service_change(repo)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 2
    assert ".reviewbot.toml" in result.stderr and "Traceback" not in result.stderr


def test_config_precedence_cli_over_env_over_repo(repo, model_server, run_cli, monkeypatch):
    repo.write("pyproject.toml", '[tool.reviewbot]\nfail_on = "never"\nunknown_knob = 1\n')
    _stage_service_change(repo)
    model_server.answer_findings([_finding(severity="warning")])
    result = run_cli("diff", "--staged", "--no-cache")
    assert result.exit_code == 0
    assert "unknown setting 'unknown_knob'" in result.stderr
    monkeypatch.setenv("REVIEWBOT_FAIL_ON", "warning")
    model_server.answer_findings([_finding(severity="warning")])
    assert run_cli("diff", "--staged", "--no-cache").exit_code == 1
    model_server.answer_findings([_finding(severity="warning")])
    assert run_cli("diff", "--staged", "--no-cache", "--fail-on", "error").exit_code == 0


def test_server_without_json_schema_support_falls_back(repo, model_server, run_cli):
    _stage_service_change(repo)
    model_server.reject_response_format()
    model_server.answer_findings([_finding()])
    result = run_cli("diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert "response_format" not in model_server.requests[-1]


def test_review_never_changes_the_repository(repo, model_server, run_cli):
    _stage_service_change(repo)
    repo.write("unstaged.py", "print('work in progress')\n")
    before = repo.state_hash()
    model_server.answer_findings([_finding()])
    run_cli("diff", "--staged")
    run_cli("diff")
    run_cli("diff", "--staged", "--dry-run")
    assert repo.state_hash() == before


def test_filter_modes(repo, model_server, run_cli):
    _stage_service_change(repo)
    # line 20 is unchanged context next to the change
    model_server.answer_findings([_finding(line=20)])
    assert run_cli("diff", "--staged", "--no-cache").exit_code == 0
    model_server.answer_findings([_finding(line=20)])
    result = run_cli("diff", "--staged", "--no-cache", "--filter-mode", "diff_context")
    assert result.exit_code == 1
    assert "app/service.py:20: error" in result.stdout


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["diff", "--help"]])
def test_help_and_version(run_cli, args):
    result = run_cli(*args)
    assert result.exit_code == 0
    assert result.stdout


# --- run_diff: the command below click, called with plain values ------------------------------------------------------


def test_run_diff_exits_1_for_a_blocking_finding_and_0_for_none(repo, model_server, capsys):
    _stage_service_change(repo)
    model_server.answer_findings([_finding()])
    assert run_diff(DiffSpec(staged=True), RunOptions()) == 1
    assert "app/service.py:21: error: time.sleep blocks the event loop" in capsys.readouterr().out
    model_server.answer_findings([])
    assert run_diff(DiffSpec(staged=True), RunOptions(settings={"cache": False})) == 0
    assert model_server.request_count == 2


def test_run_diff_takes_settings_reports_and_dry_run_from_run_options(repo, model_server, tmp_path, capsys):
    _stage_service_change(repo)
    model_server.answer_findings([_finding(severity="warning")])
    report = tmp_path / "out" / "report.json"
    options = RunOptions(settings={"fail_on": "warning", "format": "json"}, reports=(("sarif", str(report)),))
    assert run_diff(DiffSpec(staged=True), options) == 1
    assert json.loads(capsys.readouterr().out)["findings"][0]["severity"] == "warning"
    assert json.loads(report.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert run_diff(DiffSpec(staged=True), RunOptions(dry_run=True)) == 0
    assert model_server.request_count == 1  # the dry run sent nothing
    assert "time.sleep(5)" in capsys.readouterr().out
