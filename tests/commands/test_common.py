"""What the commands share: review options turned into settings (the deprecated --no-verify alias included), git
diff's arguments turned into a DiffSpec, and expected failures turned into one line on stderr and their exit code."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from reviewbot.adapters.git import DiffSpec
from reviewbot.commands.common import diff_spec_from_args, handle_errors
from reviewbot.commands.options import run_options
from reviewbot.core.errors import ConfigError, ModelError


def test_verify_flags_and_the_deprecated_alias(repo, run_cli):
    assert run_options({"verify": False}).settings["verify"] is False
    help_text = run_cli("diff", "--help").stdout
    assert "--no-verify-findings" in help_text and "--no-verify " not in help_text
    result = run_cli("diff", "--no-verify", "--staged", "--agent", "nobody")
    assert "--no-verify is deprecated" in result.stderr


@pytest.mark.parametrize(("raised", "code", "line"), [
    (ConfigError("bad\nvalue \x1b[31m"), 2, "reviewbot: error: bad value"),
    (ModelError("the model answered HTTP 500"), 3, "reviewbot: error: the model answered HTTP 500"),
    (KeyboardInterrupt(), 130, "reviewbot: interrupted"),
    (None, 1, ""),
])
def test_handle_errors_turns_failures_into_one_line_and_an_exit_code(raised, code, line):
    @click.command()
    @handle_errors
    def command() -> int:
        if raised is not None:
            raise raised
        return 1

    result = CliRunner().invoke(command, [])
    assert result.exit_code == code
    assert result.stderr.startswith(line) and len(result.stderr.splitlines()) <= 1
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr


def test_diff_spec_from_args_takes_the_paths_after_the_separator_as_given(repo):
    repo.commit_files({"docs/notes.md": "notes\n"}, "docs")
    # With `--`, every argument before it is a revision and the paths are taken as they are.
    assert diff_spec_from_args(False, ("HEAD~1", "HEAD"), ("docs", "no/such/file")) == DiffSpec(
        revisions=("HEAD~1", "HEAD"), paths=("docs", "no/such/file"))
    assert diff_spec_from_args(True, (), ()) == DiffSpec(staged=True)
    # Without it, leading revisions are told from the paths that follow, as git does.
    assert diff_spec_from_args(False, ("HEAD~1", "docs"), None) == DiffSpec(revisions=("HEAD~1",), paths=("docs",))


def test_diff_spec_from_args_refuses_what_is_neither_and_more_than_two_revisions(repo):
    with pytest.raises(ConfigError, match="neither a revision nor a path"):
        diff_spec_from_args(False, ("no-such-thing",), None)
    with pytest.raises(ConfigError, match="at most two revisions"):
        diff_spec_from_args(False, ("HEAD", "HEAD", "HEAD"), ())
