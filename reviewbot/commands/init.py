"""`reviewbot init`: set a repository up: a commented .reviewbot.toml and the hook in .pre-commit-config.yaml."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reviewbot.commands.common import console, handle_errors
from reviewbot.core.errors import EXIT_OK, ConfigError

CONFIG_FILE = ".reviewbot.toml"
PRE_COMMIT_FILE = ".pre-commit-config.yaml"
HOOK_ID = "reviewbot"


# Example values for keys whose default is "not set", so that uncommenting a line gives valid TOML.
_EXAMPLES: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "base_url": "http://localhost:11434/v1",
    "on_error": "warn",
    "timeout": 300.0,
    "standards": ["CLAUDE.md", "docs/CONVENTIONS.md"],
    "min_confidence": 0.5,
    "max_findings": 20,
    "max_findings_per_file": 5,
    "context_window": 32768,
    "agents": ["senior-backend-engineer", "security-reviewer"],
    "include": ["src/**"],
    "exclude": ["**/generated/**", "*.lock"],
    "path_instructions": {"migrations/**": "Check that every migration can be rolled back."},
    "model_aliases": {"sonnet": "gpt-4o", "haiku": "gpt-4o-mini"},
    "trusted_hosts": ["llm.internal.example:8080"],
}

_HEADER = """\
# reviewbot settings for this repository (written by `reviewbot init`).
# Every setting is shown with its default, commented out; uncomment a line to change it.
# Precedence: command line > REVIEWBOT_* environment > this file > your user config > defaults, except for
# model, base_url and model_aliases, where each developer's own settings win over this file, and for cost settings
# (samples, concurrency, retries, max_answer_tokens, ...), which this file may lower but not raise past a cap.
# `reviewbot config` shows the effective value of each setting and where it came from.
# Lines marked [example] have no default: they show what a value looks like.
"""


def config_template() -> str:
    from reviewbot.config import KEYS, USER_ONLY_KEYS, toml_literal

    blocks = [_HEADER]
    for key in KEYS.values():
        value, note = key.default, ""
        if value is None or (value in ([], {}) and key.name in _EXAMPLES):
            value, note = _EXAMPLES.get(key.name, value), " [example]"
        if key.name in USER_ONLY_KEYS:
            note += "; honoured only in your user config, never from a repository"
        blocks.append(f"# {key.help}{note}\n# {key.name} = {toml_literal(value)}\n")
    return "\n".join(blocks)


# `language: system` runs the reviewbot each developer installed; a teammate without it gets one "skipped" line
# instead of pre-commit's "Executable `reviewbot` not found" failure. The stages include pre-merge-commit so a
# merge commit is reviewed too (once `pre-commit install --hook-type pre-merge-commit` has run).
HOOK_ENTRY = ("sh -c 'if command -v reviewbot >/dev/null 2>&1; then exec reviewbot hook \"$@\"; fi; "
              "echo \"reviewbot: review skipped: reviewbot is not installed here (pip install it, then reviewbot "
              "doctor)\"' --")
HOOK_LINES = (
    "- repo: local",
    "  hooks:",
    "    - id: reviewbot",
    "      name: reviewbot (AI code review)",
    f"      entry: {json.dumps(HOOK_ENTRY)}",  # a JSON string is a valid YAML double-quoted string
    "      language: system  # the reviewbot you installed; without it the hook says it skipped",
    "      require_serial: true",
    "      verbose: true",
    "      types: [text]",
    "      stages: [pre-commit, pre-merge-commit, pre-push, manual]",
)

NEW_PRE_COMMIT = (
    "# pre-commit hooks: run `pre-commit install` once in each clone (https://pre-commit.com).\n"
    "repos:\n" + "".join(f"  {line}\n" for line in HOOK_LINES)
)


@dataclass(frozen=True)
class Change:
    path: Path
    text: str | None  # None: leave the file alone
    message: str


def _has_reviewbot_hook(data: Any) -> bool:
    repos = data.get("repos") if isinstance(data, dict) else None
    for repo in repos if isinstance(repos, list) else ():
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        for hook in hooks if isinstance(hooks, list) else ():
            if isinstance(hook, dict) and hook.get("id") == HOOK_ID:
                return True
    return False


_TOP_LEVEL_KEY = re.compile(r"^[^\s#\-][^:]*:")
_REPOS_LINE = re.compile(r"^repos\s*:\s*(#.*)?$")


def _append_hook(text: str, name: str) -> str:
    """`text` with the reviewbot entry added at the end of its block-style `repos:` list; nothing else moves."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    start = next((i for i, ln in enumerate(lines) if _REPOS_LINE.match(ln.rstrip("\r\n"))), None)
    if start is None:
        if any(ln.startswith("repos") for ln in lines):
            raise ConfigError(f"{name} writes its repos list in a form reviewbot cannot extend safely; add the "
                              f"reviewbot hook by hand (see `reviewbot init --help`)")
        return "".join(lines) + "repos:" + newline + "".join(f"  {ln}{newline}" for ln in HOOK_LINES)
    # The block ends before the next top-level key (a column-0 line that is not a comment or a list dash).
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if _TOP_LEVEL_KEY.match(lines[i]):
            end = i
            break
    # Insert after the block's last line of content, so comments above the next key stay with that key.
    last = start
    for i in range(start + 1, end):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            last = i
    indent = "  "
    for i in range(start + 1, end):
        stripped = lines[i].lstrip(" ")
        if stripped.startswith("-"):
            indent = lines[i][: len(lines[i]) - len(stripped)]
            break
    entry = "".join(f"{indent}{ln}{newline}" for ln in HOOK_LINES)
    return "".join(lines[: last + 1]) + entry + "".join(lines[last + 1:])


def _refuse_link(path: Path, name: str) -> None:
    """init edits only regular files: a committed symlink (or FIFO, or folder) in their place is refused."""
    import stat

    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise ConfigError(f"{name} is {kind}, so reviewbot init left everything alone (it never writes through a "
                          f"link); replace it with a regular file, or set reviewbot up by hand")


def plan_pre_commit(root: Path) -> Change:
    import yaml

    from reviewbot.adapters.repository_files import open_repo_file

    path = root / PRE_COMMIT_FILE
    _refuse_link(path, PRE_COMMIT_FILE)
    if not os.path.lexists(path):
        return Change(path, NEW_PRE_COMMIT, f"created {PRE_COMMIT_FILE} with the reviewbot hook")
    try:
        text = (open_repo_file(root, PRE_COMMIT_FILE, what="pre-commit config") or b"").decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {PRE_COMMIT_FILE}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(f"{PRE_COMMIT_FILE} is nested too deeply to read, so reviewbot left it alone; fix it and run "
                          f"`reviewbot init` again") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"{PRE_COMMIT_FILE} is not valid YAML{at}, so reviewbot left it alone; fix it and run "
                          f"`reviewbot init` again") from None
    if _has_reviewbot_hook(data):
        return Change(path, None, f"{PRE_COMMIT_FILE} already runs the reviewbot hook (left as it is)")
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{PRE_COMMIT_FILE} is in pre-commit's old list format; run `pre-commit migrate-config` "
                          f"and then `reviewbot init` again")
    if isinstance(data, dict) and data.get("repos") is not None and not isinstance(data.get("repos"), list):
        raise ConfigError(f"{PRE_COMMIT_FILE} has a 'repos' entry that is not a list; fix it and run "
                          f"`reviewbot init` again")
    new_text = _append_hook(text, PRE_COMMIT_FILE)
    # Check the edit did exactly what it should before writing: the old repos, then ours.
    try:
        new_data = yaml.safe_load(new_text)
    except yaml.YAMLError:
        new_data = None
    old_repos = list((data or {}).get("repos") or [])
    if not (isinstance(new_data, dict) and _has_reviewbot_hook(new_data)
            and new_data.get("repos", [])[:-1] == old_repos
            and {k: v for k, v in new_data.items() if k != "repos"}
            == {k: v for k, v in (data or {}).items() if k != "repos"}):
        raise ConfigError(f"reviewbot could not add its hook to {PRE_COMMIT_FILE} without changing its meaning; "
                          f"add a `repo: local` hook with `entry: reviewbot hook` by hand")
    return Change(path, new_text, f"added the reviewbot hook to {PRE_COMMIT_FILE}")


def plan_config(root: Path) -> Change:
    import tomllib

    from reviewbot.adapters.repository_files import RepoFileRefused, open_repo_file

    path = root / CONFIG_FILE
    _refuse_link(path, CONFIG_FILE)
    if os.path.lexists(path):
        return Change(path, None, f"{CONFIG_FILE} already exists (left as it is)")
    try:
        data = open_repo_file(root, "pyproject.toml", what="config file")
    except RepoFileRefused:
        data = None
    if data is not None:
        try:
            tool = tomllib.loads(data.decode("utf-8")).get("tool", {})
            table = tool.get("reviewbot") if isinstance(tool, dict) else None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            table = None
        if table is not None:
            # A .reviewbot.toml would take precedence and silently hide that table.
            return Change(path, None, f"settings live in pyproject.toml [tool.reviewbot]; no {CONFIG_FILE} written")
    return Change(path, config_template(), f"wrote {CONFIG_FILE} (every setting, commented out)")


@click.command("init")
@handle_errors
def init_command() -> int:
    """Set this repository up: a commented .reviewbot.toml and the hook in .pre-commit-config.yaml.

    Existing files are kept: the config is only written when missing, and the hook is appended to the repos
    list of an existing .pre-commit-config.yaml without touching what is there. Running it again changes
    nothing. The hook uses `language: system`: each developer installs reviewbot, then runs `pre-commit install`;
    a teammate without reviewbot installed gets a "review skipped" line, not a failed commit.
    """
    from reviewbot.adapters.git import Repository

    root = Repository().root
    hook = plan_pre_commit(root)  # may refuse: decide everything before writing anything
    config = plan_config(root)
    con = console()
    from reviewbot.adapters.repository_files import write_repo_file

    for change in (config, hook):
        if change.text is not None:
            try:  # inside the repository, never through a link, replaced atomically
                write_repo_file(root, change.path.name, change.text.encode("utf-8"), what=change.path.name)
            except OSError as exc:
                raise ConfigError(f"cannot write {change.path.name}: {exc.strerror}") from None
        con.out(change.message + "\n")
    if hook.text is not None:
        con.out("next: run `pre-commit install --hook-type pre-commit --hook-type pre-merge-commit` so the hook "
                "runs on every commit, merge commits included\n")
    return EXIT_OK
