"""`reviewbot hook` in-process: only the staged content of the files pre-commit passes, fail-open when the model is
down, and the pre-push range."""

from __future__ import annotations

import pytest

from reviewbot.commands.hook import run_hook
from reviewbot.commands.options import RunOptions
from reviewbot.core.errors import ConfigError
from tests.helpers.hook_change import BLOCKING, stage as _stage


def test_hook_reviews_staged_files_it_is_given(repo, model_server, run_cli):
    _stage(repo)
    repo.write("app/service.py", "async def handler():\n    pass\n")  # unstaged edit: must not be reviewed
    model_server.answer_findings([BLOCKING])
    result = run_cli("hook", "app/service.py")
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:2: error:" in result.stdout
    prompt = model_server.prompt_text(0)
    assert "time.sleep(5)" in prompt  # the staged content, not the work tree
    assert "app/other.py" not in prompt  # limited to the files pre-commit passed


def test_hook_fails_open_when_the_model_is_down(repo, model_server, run_cli):
    _stage(repo)
    for _ in range(8):
        model_server.fail(503)
    result = run_cli("hook", "app/service.py", "--no-cache", env={"REVIEWBOT_RETRIES": "0"})
    assert result.exit_code == 0
    assert "review skipped" in result.stderr and "503" in result.stderr


def test_hook_pre_push_range(repo, model_server, run_cli):
    base = repo.head()
    _stage(repo)
    repo.commit("feature")
    model_server.answer_findings([BLOCKING])
    env = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": repo.head()}
    result = run_cli("hook", env=env)
    assert result.exit_code == 1, result.stderr
    assert "app/service.py:2: error" in result.stdout


# --- run_hook: the command below click, called with plain values ------------------------------------------------------


def test_run_hook_reviews_the_staged_files_it_is_given(repo, model_server, capsys):
    _stage(repo)
    model_server.answer_findings([BLOCKING])
    assert run_hook(("app/service.py",), RunOptions(), {}) == 1
    assert "app/service.py:2: error:" in capsys.readouterr().out
    assert "app/other.py" not in model_server.prompt_text(0)


def test_run_hook_reads_the_pushed_range_from_the_env_it_is_given(repo, model_server, capsys):
    base = repo.head()
    _stage(repo)
    head = repo.commit("feature")
    repo.write("app/other.py", "VALUE = 2\n")
    repo.add("app/other.py")  # staged, but not part of the pushed range
    model_server.answer_findings([])
    assert run_hook((), RunOptions(), {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": head}) == 0
    prompt = model_server.prompt_text(0)
    assert "time.sleep(5)" in prompt and "VALUE = 2" not in prompt


def test_run_hook_skips_without_a_model_unless_on_error_is_fail(repo, capsys):
    _stage(repo)
    assert run_hook((), RunOptions(), {}) == 0
    assert "review skipped (not set up)" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="no model"):  # the click layer turns it into exit 2
        run_hook((), RunOptions(settings={"on_error": "fail"}), {})
