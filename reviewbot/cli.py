"""Command line: parse options, call the pipeline, report, exit. Nothing heavy is imported at module level,
so `reviewbot --help` and `--version` stay fast and run no git."""

from __future__ import annotations

import click

from reviewbot import __version__

# Every subcommand: name -> (module, function). A new command is a module under reviewbot/commands/ and
# one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "agents": ("reviewbot.commands.agents", "agents"),
    "baseline": ("reviewbot.commands.baseline", "baseline_command"),
    "cache": ("reviewbot.commands.cache", "cache_cmd"),
    "ci": ("reviewbot.commands.ci", "ci"),
    "config": ("reviewbot.commands.config", "show_config"),
    "diff": ("reviewbot.commands.diff", "diff"),
    "doctor": ("reviewbot.commands.doctor", "doctor"),
    "eval": ("reviewbot.commands.eval", "eval_command"),
    "hook": ("reviewbot.commands.hook", "hook"),
    "init": ("reviewbot.commands.init", "init_command"),
}


class LazyGroup(click.Group):
    """The subcommands, each in its own module under reviewbot/commands/ and listed in COMMANDS; a command's module
    is imported only when that command is named (or --help lists them), so `--version` and `--help` stay fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence, wrapped, where click would cut it at the terminal's width."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        import importlib

        module, function = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), function)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", "-V", prog_name="reviewbot")
def main() -> None:
    """AI code review for git: a pre-commit hook, a pull-request check and a CLI.

    Exit codes: 0 nothing blocking, 1 blocking findings, 2 usage or configuration error,
    3 the review could not complete.
    """


if __name__ == "__main__":  # pragma: no cover
    main()
