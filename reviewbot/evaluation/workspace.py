"""A case as a real git repository in a temporary folder: its base files committed, its patch staged."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from reviewbot.core.errors import ConfigError, GitError
from reviewbot.evaluation.cases import EvalCase

# Fixed identity and dates make a materialized case byte-identical on every run, so request caching and
# determinism checks see the same repository each time.
_GIT_IDENTITY = ("-c", "user.name=reviewbot eval", "-c", "user.email=eval@reviewbot.invalid")
_GIT_DATE = "2024-01-01T00:00:00+00:00"


def materialize_case(case: EvalCase, workdir: Path) -> Path:
    """Build `workdir/<case name>` as a git repository with the case's change staged, and return it.

    The base files (if any) are committed as "base"; the patch is then applied with `git apply --index`, so
    reviewing the staged diff there reviews exactly the case's change.
    """
    repo = Path(workdir) / case.name
    if repo.exists() and any(repo.iterdir()):
        raise ConfigError(f"Cannot set up evaluation case {case.name}: {repo} already exists and is not empty.")
    repo.mkdir(parents=True, exist_ok=True)
    if case.base_dir is not None:
        shutil.copytree(
            case.base_dir,
            repo,
            dirs_exist_ok=True,
            symlinks=True,
            ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"),
        )
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", "base")
    applied = _git(
        repo,
        "apply",
        "--index",
        "--whitespace=nowarn",
        "-",
        stdin=case.patch.encode("utf-8", errors="surrogateescape"),
        check=False,
    )
    if applied.returncode != 0:
        reason = _first_line(applied.stderr) or "git apply failed"
        raise ConfigError(f"The diff.patch of evaluation case {case.name} does not apply to its base ({reason}).")
    return repo


def _git(repo: Path, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    # Variables such as GIT_DIR or GIT_INDEX_FILE (set when running inside a hook) would point git at the
    # user's repository; the user's global config (gpg signing, hooks) must not apply to a scratch repo.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_DATE=_GIT_DATE,
        GIT_COMMITTER_DATE=_GIT_DATE,
        GIT_TERMINAL_PROMPT="0",
    )
    command = [
        "git",
        *_GIT_IDENTITY,
        "-c", "commit.gpgsign=false",
        "-c", "init.defaultBranch=main",
        "-c", "core.autocrlf=false",
        *args,
    ]  # fmt: skip
    try:
        result = subprocess.run(command, cwd=repo, env=env, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git was not found on PATH; evaluation cases need git to build their repositories.") from None
    if check and result.returncode != 0:
        reason = _first_line(result.stderr) or f"exit code {result.returncode}"
        raise GitError(f"git {args[0]} failed while setting up an evaluation case in {repo} ({reason}).")
    return result


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            return line.strip()
    return ""
