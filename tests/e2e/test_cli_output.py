"""What the CLI prints is true and complete (issue 13, items 3 to 7).

Progress on a terminal (a real pty), nothing on a pipe, NO_COLOR; dry-run's input tokens apart from the answer
allowance; baseline and config wording; help texts with whole summaries, defaults and ranges; the flags for the
commonly changed keys; agents/config outside a repository; GitHub warnings as workflow commands; the step summary
sorted by severity with multi-line suggestions as code blocks.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import click
import pytest

from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters import ReportOptions, render
from reviewbot.session import Console, Progress
from tests.helpers import PROJECT_ROOT

BLOCKING = {"path": "app/service.py", "line": 2, "severity": "error", "category": "bug",
            "message": "time.sleep blocks the event loop", "quote": "time.sleep(1)"}


def _stage(repo) -> None:
    repo.write("app/service.py", "import time\ntime.sleep(1)\n")
    repo.add("app/service.py")


# --- progress ------------------------------------------------------------------------------------------------------


def _collecting_console(tty: bool) -> tuple[Console, list[str]]:
    written: list[str] = []
    return Console(out=written.append, err=written.append, err_is_tty=tty), written


def test_progress_ticks_while_a_request_is_in_flight():
    con, written = _collecting_console(tty=True)
    assert Progress.FIRST_DRAW < 0.5  # the bound: something shows within half a second
    progress = Progress(con, total=3, concurrency=2)
    deadline = time.monotonic() + 5
    while not written and time.monotonic() < deadline:  # nothing has finished, yet the line appears
        time.sleep(0.02)
    assert written and "0/3 requests done, 2 in flight" in written[0]
    assert re.search(r"\d+\.\d s", written[0])
    progress(2, 3)
    time.sleep(Progress.TICK * 2.5)
    progress.close()
    assert any("2/3 requests done, 1 in flight" in w for w in written)
    assert "\x1b[2m" in written[0]  # dim, colour allowed
    assert written[-1] == "\r\x1b[K"  # the line is cleared at the end


def test_progress_respects_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    con, written = _collecting_console(tty=True)
    progress = Progress(con, total=1)
    time.sleep(Progress.FIRST_DRAW + Progress.TICK)
    progress.close()
    assert written and not any("\x1b" in w for w in written)
    assert written[-1].strip() == ""  # cleared with spaces


def test_progress_is_silent_off_a_terminal():
    con, written = _collecting_console(tty=False)
    progress = Progress(con, total=4)
    assert progress._thread is None
    time.sleep(Progress.FIRST_DRAW + Progress.TICK)
    progress(4, 4)
    progress.close()
    assert written == []


def test_progress_shows_on_a_real_terminal(repo, model_server):
    """stderr on a pty: the ticker line shows while the one slow request runs; stdout (a pipe) stays clean."""
    _stage(repo)
    model_server.latency = 1.5
    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "reviewbot", "diff", "--staged", "--no-cache"], cwd=repo.path,
                            env=env, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    stdout, _ = proc.communicate(timeout=60)
    os.close(leader)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "0/1 requests done, 1 in flight" in text
    assert "requests done" not in stdout


def test_no_progress_on_a_pipe(repo, model_server, run_reviewbot):
    _stage(repo)
    model_server.latency = 0.8
    result = run_reviewbot("diff", "--staged", "--no-cache")
    assert result.returncode == 0
    assert "requests done" not in result.stderr and "\r" not in result.stderr


# --- numbers that are true ----------------------------------------------------------------------------------------


def test_dry_run_shows_input_tokens_and_the_answer_allowance_apart(repo, model_server, run_cli):
    _stage(repo)
    result = run_cli("diff", "--staged", "--dry-run", "--max-answer-tokens", "1000")
    assert result.exit_code == 0
    head = re.search(r"~([\d,]+) input tokens \(\+ up to 1,000 for the answer\)", result.stdout)
    assert head, result.stdout
    sent = int(head.group(1).replace(",", ""))
    assert 0 < sent < 10_000
    assert f"~{sent:,} input tokens in total (estimated), answers allowed up to 1,000 tokens" in result.stdout
    assert model_server.request_count == 0


def test_baseline_says_new_file_then_replaced(repo, model_server, run_cli):
    _stage(repo)
    model_server.answer_findings([BLOCKING])
    first = run_cli("baseline", "--staged", "--no-cache")
    assert first.exit_code == 0, first.stderr
    assert "recorded 1 finding in .reviewbot-baseline.json (a new file)" in first.stdout
    model_server.answer_findings([])
    second = run_cli("baseline", "--staged", "--no-cache")
    assert "recorded 0 findings in .reviewbot-baseline.json (replaced its previous contents)" in second.stdout


def test_config_shows_unset_key_and_the_on_error_defaults(repo, run_cli):
    result = run_cli("config")
    assert result.exit_code == 0
    lines = {ln.split("=")[0].strip(): ln for ln in result.stdout.splitlines() if "=" in ln}
    assert lines["api_key"].split("=", 1)[1].strip() == "(from env OPENAI_API_KEY: not set)"
    assert '"fail"' in lines["on_error"] and '"warn" for hook' in lines["on_error"]
    assert "(not set)" not in result.stdout


def test_config_masks_a_set_key(repo, run_cli):
    result = run_cli("config", env={"OPENAI_API_KEY": "sk-abcdef123456"})
    assert "sk-abcdef" not in result.stdout and "****" in result.stdout


@pytest.mark.parametrize("description, phrase", [
    ("staged changes", "Secret in staged change"),
    ("work tree vs index", "Secret in change"),
    ("HEAD", "Secret in change"),
    ("main...HEAD", "Committed secret"),
    ("abc123 def456", "Committed secret"),
])
def test_secret_wording_follows_what_is_reviewed(description, phrase):
    from reviewbot.core.models import Diff
    from reviewbot.secrets.local_findings import secret_phrase

    assert secret_phrase(Diff(files=(), description=description)) == phrase


def test_summary_counts_failed_attempts():
    from reviewbot.core.models import Usage
    from reviewbot.reporters.summary import summary_line

    if "failed" not in getattr(Usage, "__dataclass_fields__", {}):
        pytest.skip("failed attempts are counted by the executor (the `speed` branch adds Usage.failed)")
    usage = Usage(requests=3, failed=2)
    line = summary_line(ReviewResult(findings=(), usage=usage), ReportOptions())
    assert "3 requests (2 failed)" in line


# --- help and flags -----------------------------------------------------------------------------------------------


def test_top_level_help_keeps_whole_summaries(run_cli):
    result = run_cli("--help", terminal_width=80)
    commands = result.stdout.split("Commands:", 1)[1]
    assert not any(line.rstrip().endswith("...") for line in commands.splitlines())
    assert "doctor" in commands and "Check the set-up" in commands


def _commands():
    from reviewbot.cli import main

    ctx = click.Context(main)
    return {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}


@pytest.mark.parametrize("name", ["diff", "hook", "ci", "baseline", "eval", "doctor"])
def test_every_valued_option_shows_its_default(name, run_cli):
    command = _commands()[name]
    help_text = run_cli(name, "--help").stdout
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden or param.is_flag and not param.secondary_opts:
            continue
        if param.multiple and param.name != "agents" or param.name in ("reports", "staged", "model", "base_url"):
            continue
        shown = param.show_default or "[default:" in (param.help or "")
        assert shown, f"{name} {param.opts} shows no default"
        if isinstance(param.type, (click.IntRange, click.FloatRange)):
            assert param.type._describe_range() in " ".join(help_text.split()), f"{name} {param.opts}: no range"
    if name in ("diff", "hook", "ci", "baseline"):
        assert "[default: 3; x>=0]" in help_text  # -U


def test_baseline_help_lists_only_options_that_do_something(run_cli):
    text = run_cli("baseline", "--help").stdout
    for gone in ("--fail-on", "--on-error", "--no-baseline", "--max-findings"):
        assert gone not in text
    assert "--filter-mode" in text and "--unified" in text


def test_unified_sets_context_lines(repo, model_server, run_cli):
    repo.write("app/service.py", "".join(f"line{i} = {i}\n" for i in range(20)))
    repo.add("app/service.py")
    repo.commit("base")
    repo.write("app/service.py", "".join(f"line{i} = {i if i != 10 else 99}\n" for i in range(20)))
    repo.add("app/service.py")
    wide = run_cli("diff", "--staged", "--dry-run", "-U", "5").stdout
    narrow = run_cli("diff", "--staged", "--dry-run", "--unified", "0").stdout
    assert "line5 = 5" in wide and "line15 = 15" in wide
    assert "line8 = 8" not in narrow and "line11 = 11" not in narrow and "line10 = 99" in narrow


def test_include_and_exclude_flags(repo, model_server, run_cli):
    repo.write("app/a.py", "A = 1\n")
    repo.write("docs/b.md", "b\n")
    repo.stage_all()
    out = run_cli("diff", "--staged", "--dry-run", "--exclude", "docs/**").stdout
    assert "app/a.py" in out and "docs/b.md" not in out.split("# skipped")[0]
    out = run_cli("diff", "--staged", "--dry-run", "--include", "docs/**").stdout
    assert "files docs/b.md" in out and "files app/a.py" not in out


def test_concurrency_zero_names_the_flag(repo, run_cli):
    result = run_cli("diff", "-j", "0")
    assert result.exit_code == 2
    assert "'-j'" in result.stderr or "'--concurrency'" in result.stderr
    assert "concurrency' in" not in result.stderr  # not the config key's wording


# --- outside a repository -----------------------------------------------------------------------------------------


def test_agents_and_config_work_outside_a_repository(tmp_path, monkeypatch, isolated_env, run_cli):
    monkeypatch.chdir(tmp_path)
    user_agents = isolated_env.home / ".claude" / "agents"
    user_agents.mkdir(parents=True)
    (user_agents / "mine.md").write_text("---\nname: mine\ndescription: My own reviewer.\n---\nReview it.\n")
    (isolated_env.config / "reviewbot").mkdir()
    (isolated_env.config / "reviewbot" / "config.toml").write_text('model = "my-model"\n')
    agents = run_cli("agents")
    assert agents.exit_code == 0, agents.stderr
    assert "senior-backend-engineer" in agents.stdout and "mine" in agents.stdout
    config = run_cli("config")
    assert config.exit_code == 0, config.stderr
    assert "outside a repository" in config.stdout
    assert re.search(r'model\s+= "my-model"\s+# user config', config.stdout)
    assert run_cli("diff").exit_code == 2  # reviewing still needs a repository


# --- CI output ----------------------------------------------------------------------------------------------------


def test_warnings_on_github_actions_are_workflow_commands():
    con, written = _collecting_console(tty=False)
    con.github = True
    con.warn("unknown setting 'x'\n::add-mask::oops 100%")
    assert written == ["::warning::reviewbot: unknown setting 'x'%0A::add-mask::oops 100%25\n"]


def test_ci_prints_config_warnings_as_annotations(repo, model_server, run_cli):
    repo.write(".reviewbot.toml", "no_such_key = 1\n")
    repo.add(".reviewbot.toml")
    repo.commit("config")
    _stage(repo)
    repo.commit("change")
    result = run_cli("ci", "--base", "HEAD~1", env={"GITHUB_ACTIONS": "true"})
    assert "::warning::reviewbot: unknown setting 'no_such_key'" in result.stderr


def test_step_summary_sorted_by_severity_with_suggestions_as_code_blocks():
    findings = (
        Finding(path="a.py", line=1, severity=Severity.INFO, category="style", message="info", agent="x"),
        Finding(path="b.py", line=2, severity=Severity.WARNING, category="perf", message="warn", agent="x",
                suggestion="one line"),
        Finding(path="c.py", line=3, severity=Severity.ERROR, category="bug", message="err", agent="x",
                suggestion="if ok:\n    return '```x```'  # @team <b>\n"),
    )
    md = render("markdown", ReviewResult(findings=findings, files_reviewed=("a.py",)),
                ReportOptions(fail_on=Severity.ERROR))
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| Severity")]
    assert [r.split("|")[1].strip() for r in rows] == ["error", "warning", "info"]
    # prose is advice, not code; code of several lines goes below as a block
    assert "**Advice:** one line" in rows[1] and "below, 1." in rows[0]
    block = md.split("### Suggestions", 1)[1]
    assert "\n````\nif ok:\n    return '```x```'  # @team <b>\n````\n" in block  # fence longer than the text's


def test_on_error_default_shown_per_command(run_cli):
    def shown(command: str) -> str:
        text = " ".join(run_cli(command, "--help").stdout.split())
        return text.split("--on-error [warn|fail]", 1)[1].split("]", 1)[0]

    assert shown("hook").endswith("[default: warn")
    assert shown("diff").endswith("[default: fail")
