"""Team commands: `reviewbot baseline` (accept today's findings) and `reviewbot init` (set a repository up).

Both register themselves on the main click group when cli.py imports this module.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reviewbot.cli import GitArgsCommand, console, handle_errors, main, review_options
from reviewbot.core.errors import EXIT_OK, EXIT_REVIEW_FAILED, ConfigError

CONFIG_FILE = ".reviewbot.toml"
PRE_COMMIT_FILE = ".pre-commit-config.yaml"
HOOK_ID = "reviewbot"


# -- reviewbot baseline ---------------------------------------------------------------------------------------

@main.command("baseline", cls=GitArgsCommand)
@click.option("--staged", "--cached", "staged", is_flag=True, help="Review what is staged (the index vs HEAD).")
@click.argument("revisions", nargs=-1)
@review_options(exclude=("fail_on", "on_error", "no_baseline", "max_findings"))
@handle_errors
def baseline_command(staged: bool, revisions: tuple[str, ...], **kw: Any) -> int:
    """Record today's findings as accepted: same arguments as `reviewbot diff`.

    The review runs without the current baseline (inline suppressions still apply), and the baseline file
    (config `baseline`, default .reviewbot-baseline.json) is replaced by what it finds. Commit that file;
    every later run hides the findings it lists and shows only new ones.
    """
    from reviewbot.rules.baseline import baseline_location, build_baseline, from_repository, write_baseline
    from reviewbot.cli import _report_option, _split_revisions, cli_settings, emit, use_color
    from reviewbot.adapters.git import DiffSpec, Repository
    from reviewbot.session import check_setup, collect_diff, prepare, review_diff
    from reviewbot.rules.suppressions import line_texts, make_filters

    paths = click.get_current_context().meta.get("reviewbot.paths")
    revs, extra_paths = _split_revisions(Repository(), revisions) if paths is None else (revisions, ())
    spec = DiffSpec(staged=staged, revisions=tuple(revs), paths=tuple(paths or ()) + tuple(extra_paths))
    if len(spec.revisions) > 2:
        raise ConfigError("give at most two revisions (or one A..B / A...B range)")

    con = console()
    reports = _report_option(kw.get("reports") or ())
    ctx = prepare(cli_settings(kw), command_defaults={"on_error": "fail"}, console=con)
    setup = check_setup(ctx, console=con)
    if setup.problem is not None and not kw.get("dry_run", False):
        raise setup.problem
    repository_named = from_repository(ctx.settings)
    rel, target = baseline_location(ctx.settings.baseline, ctx.repo.root, from_repository=repository_named)
    if target is None:
        raise ConfigError('the baseline is switched off (baseline = ""); set a file name to record one')
    diff = collect_diff(ctx, spec)
    if not diff.files:
        con.err(f"reviewbot: nothing to review in {spec.description}; {rel or target} was left as it is\n")
        return EXIT_OK
    outcome = review_diff(ctx, diff, console=con, dry_run=kw.get("dry_run", False), agents=setup.agents,
                          extra_filters=make_filters(ctx, diff, use_baseline=False))
    if outcome.result is None:  # --dry-run
        return outcome.exit_code
    result = outcome.result
    emit(result, ctx.settings, reports, color=use_color(kw.get("color")), con=con)
    if result.failed:
        from reviewbot.reporters.base import one_line

        names = ", ".join(one_line(s.path) for s in result.failed[:5])
        con.err(f"reviewbot: error: the review could not complete ({one_line(result.failed[0].reason)}; not reviewed: "
                f"{names}); {rel or target} was left as it is\n")
        return EXIT_REVIEW_FAILED
    baseline = build_baseline(result.all_findings, line_texts(ctx, diff))
    existed = target.exists()
    write_baseline(target, baseline, root=ctx.repo.root if rel is not None else None, rel=rel)
    what = "replaced its previous contents" if existed else "a new file"
    message = (f"recorded {baseline.total} finding{'' if baseline.total == 1 else 's'} in {rel or target} "
               f"({what}); commit it so the whole team shares it\n")
    (con.out if ctx.settings.format == "text" else con.err)(message)
    return EXIT_OK


# -- reviewbot init -------------------------------------------------------------------------------------------

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


def toml_value(value: Any) -> str:
    """A TOML literal for the plain values config keys hold (all fit on one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def config_template() -> str:
    from reviewbot.config import KEYS, USER_ONLY_KEYS

    blocks = [_HEADER]
    for key in KEYS.values():
        value, note = key.default, ""
        if value is None or (value in ([], {}) and key.name in _EXAMPLES):
            value, note = _EXAMPLES.get(key.name, value), " [example]"
        if key.name in USER_ONLY_KEYS:
            note += "; honoured only in your user config, never from a repository"
        blocks.append(f"# {key.help}{note}\n# {key.name} = {toml_value(value)}\n")
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


@main.command("init")
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
