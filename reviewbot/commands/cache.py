"""`reviewbot cache`: where the result cache lives, or clear it."""

from __future__ import annotations

import click

from reviewbot.commands.common import handle_errors


@click.command("cache")
@click.option("--clear", is_flag=True, help="Delete every cached answer.")
@handle_errors
def cache_cmd(clear: bool) -> int:
    """Show where the result cache lives, or clear it."""
    from reviewbot.adapters.result_cache import ResultCache

    cache = ResultCache()
    if clear:
        click.echo(f"removed {cache.clear()} cached answers from {cache.path}")
    else:
        click.echo(str(cache.path))
    return 0
