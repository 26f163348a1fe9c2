"""The pre-commit entry point through the real pre-commit program (`reviewbot hook` in-process:
tests/commands/test_hook.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT, GitRepo
from tests.helpers.hook_change import BLOCKING, stage as _stage


def _snapshot_project(dest: Path) -> GitRepo:
    """Copy this checkout (tracked and untracked, not ignored) into a fresh repo pre-commit can clone."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT_ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    snapshot = GitRepo(dest)
    for rel in filter(None, files):
        src = PROJECT_ROOT / rel
        if src.is_file() and not rel.startswith(("tests/", "benchmarks/")):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    snapshot.stage_all()
    snapshot.commit("snapshot")
    return snapshot


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> GitRepo:
    return _snapshot_project(tmp_path_factory.mktemp("hookrepo") / "reviewbot")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    # Shared by the tests of this module so the hook's virtualenv is built once.
    return tmp_path_factory.mktemp("pre-commit-home")


def test_real_pre_commit_blocks_and_skip_lets_through(repo, model_server, hook_repo, pre_commit_home, monkeypatch):
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    pre_commit = [sys.executable, "-m", "pre_commit"]
    repo.write(".pre-commit-config.yaml",
               f"repos:\n- repo: {hook_repo.path}\n  rev: {hook_repo.head()}\n  hooks:\n  - id: reviewbot\n")
    repo.add(".pre-commit-config.yaml")
    repo.commit("add pre-commit config")
    subprocess.run([*pre_commit, "install"], cwd=repo.path, check=True, capture_output=True)
    _stage(repo)
    model_server.answer_findings([BLOCKING])
    before = repo.head()
    commit = subprocess.run(["git", "commit", "-m", "add handler"], cwd=repo.path, capture_output=True, text=True,
                            timeout=600)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0, output
    assert "app/service.py:2: error: time.sleep blocks the event loop" in output
    assert repo.head() == before
    assert "app/service.py" in repo.git("diff", "--cached", "--name-only")  # still staged, nothing lost

    env = dict(os.environ, SKIP="reviewbot")
    commit = subprocess.run(["git", "commit", "-m", "add handler"], cwd=repo.path, capture_output=True, text=True,
                            env=env, timeout=600)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert repo.head() != before

    # A warning alone does not block, and verbose: true shows it.
    repo.write("app/other.py", "VALUE = 2\n")
    repo.add("app/other.py")
    model_server.answer_findings([{**BLOCKING, "path": "app/other.py", "line": 1, "severity": "warning"}])
    commit = subprocess.run(["git", "commit", "-m", "tweak"], cwd=repo.path, capture_output=True, text=True,
                            timeout=600)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "app/other.py:1: warning:" in commit.stdout + commit.stderr


def _use_hook_repo(repo, hook_repo, pre_commit_home, monkeypatch, *hook_types: str) -> list[str]:
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    pre_commit = [sys.executable, "-m", "pre_commit"]
    repo.write(".pre-commit-config.yaml",
               f"repos:\n- repo: {hook_repo.path}\n  rev: {hook_repo.head()}\n  hooks:\n  - id: reviewbot\n")
    repo.add(".pre-commit-config.yaml")
    repo.commit("add pre-commit config")
    types = [a for t in hook_types for a in ("--hook-type", t)]
    subprocess.run([*pre_commit, "install", *types], cwd=repo.path, check=True, capture_output=True)
    return pre_commit


def test_a_teammate_without_a_model_commits_with_a_skipped_line(repo, hook_repo, pre_commit_home, monkeypatch):
    """The hook repository's own hook (language: python installs reviewbot itself); no model set up at all."""
    _use_hook_repo(repo, hook_repo, pre_commit_home, monkeypatch)
    _stage(repo)
    before = repo.head()
    commit = subprocess.run(["git", "commit", "-m", "add handler"], cwd=repo.path, capture_output=True, text=True,
                            timeout=600)
    output = commit.stdout + commit.stderr
    assert commit.returncode == 0, output
    assert repo.head() != before
    assert "reviewbot: review skipped (not set up): no model configured" in output


def test_a_merge_commit_is_reviewed_with_the_pre_merge_commit_stage(repo, model_server, hook_repo, pre_commit_home,
                                                                   monkeypatch):
    _use_hook_repo(repo, hook_repo, pre_commit_home, monkeypatch, "pre-commit", "pre-merge-commit")
    repo.git("checkout", "-q", "-b", "feature")
    _stage(repo)
    repo.git("commit", "-q", "--no-verify", "-m", "feature work")  # not reviewed (nor cached) on the branch
    repo.git("checkout", "-q", "main")
    reviewed = model_server.request_count
    model_server.answer_findings([BLOCKING])
    before = repo.head()
    merge = subprocess.run(["git", "merge", "--no-ff", "-m", "merge feature", "feature"], cwd=repo.path,
                           capture_output=True, text=True, timeout=600)
    output = merge.stdout + merge.stderr
    assert model_server.request_count == reviewed + 1, output  # the merge ran the hook
    assert "app/service.py" in model_server.prompt_text()
    assert merge.returncode != 0 and "time.sleep blocks the event loop" in output
    assert repo.head() == before  # the blocked merge made no commit
    subprocess.run(["git", "merge", "--abort"], cwd=repo.path, capture_output=True)


def test_init_hook_without_reviewbot_installed_skips(repo, pre_commit_home, monkeypatch, run_cli):
    """`reviewbot init`'s repo: local hook, for a teammate who never installed reviewbot."""
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    assert run_cli("init").exit_code == 0
    repo.stage_all()
    path = os.pathsep.join(sorted({str(Path(shutil.which(t)).parent) for t in ("git", "sh")}))
    if shutil.which("reviewbot", path=path):
        pytest.skip("reviewbot is installed system-wide on this machine")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo.path, check=True, capture_output=True)
    env = {**os.environ, "PATH": path}
    commit = subprocess.run(["git", "commit", "-m", "set up reviewbot"], cwd=repo.path, capture_output=True,
                            text=True, env=env, timeout=600)
    output = commit.stdout + commit.stderr
    assert commit.returncode == 0, output
    assert "reviewbot: review skipped: reviewbot is not installed here" in output
    assert "Executable `reviewbot` not found" not in output
