"""reviewbot/cli.py: the click group and its explicit command table (issue 14: no command registers itself by
import side effect, and no command module imports cli.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
from click.testing import CliRunner

from reviewbot.cli import COMMANDS, main
from tests.helpers import PROJECT_ROOT


def test_every_table_entry_is_the_click_command_of_that_name():
    for name, (module, function) in COMMANDS.items():
        command = main.get_command(click.Context(main), name)
        assert isinstance(command, click.Command), name
        assert command.name == name, (name, module, function)
        assert command.callback is not None


def test_unknown_commands_are_a_usage_error():
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_help_lists_exactly_the_table():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = set(re.findall(r"^  (\S+)", result.output.split("Commands:", 1)[1], re.M))  # wrapped lines: deeper
    assert listed == set(COMMANDS)


def test_importing_the_cli_imports_no_command_and_naming_one_imports_only_it():
    probe = (
        "import json, sys\n"
        "import reviewbot.cli as cli\n"
        "before = sorted(m for m in sys.modules if m.startswith('reviewbot.commands.'))\n"
        "import click\n"
        "cli.main.get_command(click.Context(cli.main), 'cache')\n"
        "after = sorted(m for m in sys.modules if m.startswith('reviewbot.commands.'))\n"
        "print(json.dumps([before, after]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
                         timeout=60).stdout
    before, after = json.loads(out)
    assert before == []
    assert after == ["reviewbot.commands.cache", "reviewbot.commands.common"]
