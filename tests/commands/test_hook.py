"""`reviewbot hook` in-process: only the staged content of the files pre-commit passes, fail-open when the model is
down, and the pre-push range."""

from __future__ import annotations

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
