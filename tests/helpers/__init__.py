"""Shared test helpers: a loopback model server, a loopback GitHub API, real git repositories, CLI runners.

Import them as `from tests.helpers import ModelServer, GitHubServer, GitRepo, run_reviewbot` (tests/conftest.py puts
the project root on sys.path, so this works however pytest is started).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.github_server import GitHubServer, RecordedRequest, actions_env, gitlab_env
from tests.helpers.gitrepo import GitCommandFailed, GitRepo
from tests.helpers.model_server import Answer, Drop, Fail, Malformed, ModelServer, Stall

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEST_API_KEY = "sk-test-key-123"
TEST_MODEL = "test-model"

__all__ = [
    "PROJECT_ROOT", "TEST_API_KEY", "TEST_MODEL",
    "Answer", "Drop", "Fail", "Malformed", "ModelServer", "Stall",
    "GitHubServer", "RecordedRequest", "actions_env", "gitlab_env",
    "GitCommandFailed", "GitRepo",
    "run_reviewbot",
]


def run_reviewbot(*args: str, cwd: Path | str | None = None, env: dict[str, str | None] | None = None,
                  input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m reviewbot ARGS` in a subprocess with text output (never raises on a non-zero exit).

    The environment is the current one (already isolated by conftest) plus `env`; a None value removes a variable.
    The project root is put first on PYTHONPATH, so the checkout is what runs even if reviewbot is not installed.
    """
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    full_env.setdefault("PYTHONIOENCODING", "utf-8")
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), full_env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "reviewbot", *args], cwd=cwd, env=full_env, input=input,
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout)
