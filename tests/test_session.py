"""The session a command runs in: settings read from the repository, the staged diff collected, agents resolved and
the set-up checked before anything is sent."""

from __future__ import annotations

import pytest

from reviewbot.adapters.git import DiffSpec
from reviewbot.core.errors import ConfigError, GitError, SetupError
from reviewbot.session import Console, check_setup, collect_diff, env_flag, prepare


def test_prepare_reads_the_repository_settings_and_collect_diff_the_staged_change(repo):
    repo.write(".reviewbot.toml", 'fail_on = "warning"\n')
    repo.commit_files({"app/service.py": "a = 1\n"}, "base")
    repo.write("app/service.py", "a = 1\nb = 2\n")
    repo.add("app/service.py")
    repo.write("app/service.py", "a = 1\nb = 2\nc = 'work tree only'\n")
    ctx = prepare({}, cwd=repo.path)
    assert ctx.repo is not None and ctx.settings.fail_on == "warning"
    assert ctx.settings.origins["fail_on"] != "default"
    diff = collect_diff(ctx, DiffSpec(staged=True))
    [changed] = [f for f in diff.files if f.path == "app/service.py"]
    added = [line.text for hunk in changed.hunks for line in hunk.lines if line.kind == "+"]
    assert added == ["b = 2"]  # the index, not the work tree


def test_outside_a_repository_only_commands_that_allow_it_go_on(tmp_path):
    with pytest.raises(GitError):
        prepare({}, cwd=tmp_path)
    ctx = prepare({}, cwd=tmp_path, require_repo=False)
    assert ctx.repo is None and ctx.source is None


def test_check_setup_names_an_unknown_agent_and_reports_a_missing_model(repo):
    warnings: list[str] = []
    console = Console(out=lambda s: None, err=lambda s: warnings.append(s))
    with pytest.raises(ConfigError, match="unknown agent 'nobody'"):
        check_setup(prepare({}, cwd=repo.path), ["nobody"], console)
    setup = check_setup(prepare({}, cwd=repo.path), None, console)
    assert setup.agents and isinstance(setup.problem, SetupError)


@pytest.mark.parametrize(("value", "on"), [("1", True), (" Yes ", True), ("true", True), ("0", False), ("", False)])
def test_env_flag(monkeypatch, value, on):
    monkeypatch.setenv("REVIEWBOT_SOME_FLAG", value)
    assert env_flag("REVIEWBOT_SOME_FLAG") is on
