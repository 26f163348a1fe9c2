"""Fixtures shared by the whole suite.

Every test runs isolated (autouse `isolated_env`): HOME and the XDG folders point into tmp_path, variables that would
change reviewbot's or git's behaviour (OPENAI_*, REVIEWBOT_*, GITHUB_*, GITLAB_*, CI*, GIT_*, PRE_COMMIT*, proxies,
colour switches) are removed, and git reads a test-owned global config. The session itself runs under a private
HOME (so reviewbot runs of the user's own, on the same machine, cannot disturb it), and a test that writes reviewbot
files into that session home fails.

Fixtures: isolated_env, repo, empty_repo, model_server, github_server, run_cli, run_reviewbot.
"""

from __future__ import annotations

import atexit
import inspect
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # so `tests.helpers` imports however pytest was started
    sys.path.insert(0, str(_ROOT))

from tests.helpers import (  # noqa: E402
    TEST_API_KEY,
    TEST_MODEL,
    GitHubServer,
    GitRepo,
    ModelServer,
    run_reviewbot as _run_reviewbot,
)

# Prefixes and names of variables removed for every test.
_SCRUBBED_PREFIXES = ("OPENAI_", "AZURE_OPENAI_", "REVIEWBOT_", "GITHUB_", "GITLAB_", "CI_", "PRE_COMMIT", "GIT_",
                      "RUNNER_", "BUILDKITE", "CIRCLE", "TRAVIS", "JENKINS_", "TF_BUILD", "BITBUCKET_", "XDG_")
_SCRUBBED_NAMES = ("CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "NO_COLOR", "FORCE_COLOR", "CLICOLOR",
                   "CLICOLOR_FORCE", "SKIP", "EMAIL", "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY",
                   "HTTPS_PROXY", "ALL_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                   "VIRTUAL_ENV_PROMPT")

_GLOBAL_GITCONFIG = """\
[user]
\tname = Test User
\temail = test@example.com
[init]
\tdefaultBranch = main
[commit]
\tgpgsign = false
[tag]
\tgpgsign = false
[core]
\tautocrlf = false
[advice]
\tdetachedHead = false
[protocol "file"]
\tallow = always
"""


# --- a home directory of the test session's own ----------------------------------------------------------------------

# The whole session runs under a private HOME and XDG folders, set before reviewbot is imported: the guard below then
# watches a home no other process uses, so the user's own reviewbot runs (which write their cache under the real home)
# cannot fail the suite, and nothing a test does can reach the real home at all.
_ORIGINAL_HOME = Path(os.environ.get("HOME") or Path.home())
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="reviewbot-tests-home-"))
for _var, _sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"),
                   ("XDG_DATA_HOME", ".local/share")):
    os.environ[_var] = str(_SESSION_HOME / _sub) if _sub else str(_SESSION_HOME)
atexit.register(shutil.rmtree, _SESSION_HOME, ignore_errors=True)

# --- guarding the session's home directory ---------------------------------------------------------------------------

_REAL_HOME = _SESSION_HOME


def _watched_paths() -> list[Path]:
    """Places reviewbot (or a careless test) could write to in the session's home directory."""
    bases = {_REAL_HOME / ".config", _REAL_HOME / ".cache", _REAL_HOME / ".local" / "share"}
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        if os.environ.get(var):
            bases.add(Path(os.environ[var]))
    paths = [base / "reviewbot" for base in sorted(bases)]
    paths += [_REAL_HOME / ".claude" / "agents", _REAL_HOME / ".reviewbot.toml", _REAL_HOME / ".gitconfig",
              _REAL_HOME / ".config" / "git"]
    return paths


_WATCHED = _watched_paths()


def _home_fingerprint() -> dict[str, tuple[int, int]]:
    seen: dict[str, tuple[int, int]] = {}
    for path in _WATCHED:
        if not path.exists():
            continue
        candidates = [path] if path.is_file() else [path, *path.rglob("*")]
        for item in candidates:
            try:
                info = item.lstat()
            except OSError:
                continue
            seen[str(item)] = (info.st_size, info.st_mtime_ns)
    return seen


# --- isolation -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsolatedEnv:
    home: Path  # $HOME
    config: Path  # $XDG_CONFIG_HOME (user config: config / "reviewbot" / ...)
    cache: Path  # $XDG_CACHE_HOME
    data: Path  # $XDG_DATA_HOME
    gitconfig: Path  # $GIT_CONFIG_GLOBAL


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[IsolatedEnv]:
    """Point HOME/XDG into tmp_path/_env, scrub the environment, and fail if the session home was written to."""
    before = _home_fingerprint()
    base = tmp_path / "_env"
    dirs = IsolatedEnv(home=base / "home", config=base / "config", cache=base / "cache", data=base / "data",
                       gitconfig=base / "home" / ".gitconfig")
    for folder in (dirs.home, dirs.config, dirs.cache, dirs.data):
        folder.mkdir(parents=True)
    dirs.gitconfig.write_text(_GLOBAL_GITCONFIG, encoding="utf-8")

    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) or name in _SCRUBBED_NAMES:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(dirs.home))
    monkeypatch.setenv("USERPROFILE", str(dirs.home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(dirs.config))
    monkeypatch.setenv("XDG_CACHE_HOME", str(dirs.cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs.data))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(dirs.gitconfig))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    # pre-commit keeps its hook environments here; a test that runs pre-commit gets a fresh, private store.
    monkeypatch.setenv("PRE_COMMIT_HOME", str(dirs.cache / "pre-commit"))

    yield dirs

    after = _home_fingerprint()
    if after != before:
        changed = sorted(set(before.items()) ^ set(after.items()))
        pytest.fail(f"the test wrote into the session's home directory ({_REAL_HOME}): "
                    + ", ".join(sorted({path for path, _ in changed})), pytrace=False)


# --- repositories ----------------------------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """A git repository at tmp_path/"repo" with one commit (README.md) on main; the test runs inside it."""
    git_repo = GitRepo(tmp_path / "repo")
    git_repo.write("README.md", "# Demo project\n")
    git_repo.add("README.md")
    git_repo.commit("initial commit")
    monkeypatch.chdir(git_repo.path)
    return git_repo


@pytest.fixture
def empty_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """A freshly initialised repository at tmp_path/"empty-repo" with no commits; the test runs inside it."""
    git_repo = GitRepo(tmp_path / "empty-repo")
    monkeypatch.chdir(git_repo.path)
    return git_repo


# --- servers ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def model_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    """A running loopback model server, with OPENAI_BASE_URL, OPENAI_API_KEY and REVIEWBOT_MODEL pointing at it."""
    server = ModelServer()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("REVIEWBOT_MODEL", TEST_MODEL)
    try:
        yield server
    finally:
        server.close()
    if server.errors:
        pytest.fail("model_server.default raised: " + "; ".join(server.errors), pytrace=False)


@pytest.fixture
def github_server() -> Iterator[GitHubServer]:
    """A running loopback GitHub API for acme/shop pull request 7 (no environment set; see helpers.actions_env)."""
    server = GitHubServer()
    try:
        yield server
    finally:
        server.close()


# --- running the CLI -------------------------------------------------------------------------------------------------


def _cli_runner() -> Any:
    from click.testing import CliRunner

    # click >= 8.2 always keeps stderr apart; older versions need mix_stderr=False for result.stderr to exist.
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


@pytest.fixture
def run_cli() -> Callable[..., Any]:
    """run_cli(*args, input=None, env=None, **invoke_kwargs) -> click.testing.Result (exit_code, stdout, stderr).

    Invokes reviewbot.cli.main in-process with catch_exceptions=False, so an unexpected exception fails the test with
    its traceback. `env` values of None remove a variable for the call.
    """

    def run(*args: Any, input: str | bytes | None = None, env: dict[str, str | None] | None = None,
            **kwargs: Any) -> Any:
        from reviewbot.cli import main  # imported late: the CLI is written alongside these fixtures

        kwargs.setdefault("prog_name", "reviewbot")
        return _cli_runner().invoke(main, [str(a) for a in args], input=input, env=env, catch_exceptions=False,
                                    **kwargs)

    return run


@pytest.fixture
def run_reviewbot() -> Callable[..., Any]:
    """run_reviewbot(*args, cwd=None, env=None, input=None, timeout=60) -> subprocess.CompletedProcess[str].

    Runs `python -m reviewbot` in a subprocess in cwd (default: the current directory, i.e. the `repo` fixture's).
    """

    def run(*args: Any, cwd: Path | str | None = None, env: dict[str, str | None] | None = None,
            input: str | None = None, timeout: float = 60) -> Any:
        return _run_reviewbot(*(str(a) for a in args), cwd=cwd, env=env, input=input, timeout=timeout)

    return run
