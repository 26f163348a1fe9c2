"""`reviewbot config`: the effective settings and where each came from (secrets masked)."""

from __future__ import annotations

import os

import click

from reviewbot.commands.common import console, handle_errors


@click.command("config")
@handle_errors
def show_config() -> int:
    """Show the effective settings and where each one came from (secrets masked)."""
    from reviewbot.config import KEYS, mask, toml_literal
    from reviewbot.reporters.base import one_line
    from reviewbot.session import prepare

    ctx = prepare({}, console=console(), require_repo=False)
    s = ctx.settings
    width = max(len(k) for k in KEYS)
    if ctx.repo is None:
        click.echo("# outside a repository: defaults, your user config and the environment only")
    for name in KEYS:
        value = mask(name, s.values[name])
        shown_value = "(none)" if value is None else toml_literal(value)
        shown, origin = shown_value, s.origins[name]
        if name == "on_error" and value is None:
            shown, origin = '"fail"', 'default: "fail" for diff and ci, "warn" for hook'
        click.echo(f"{name:<{width}} = {one_line(shown):<30} # {one_line(origin)}")
    key_origin = "env REVIEWBOT_API_KEY" if os.environ.get("REVIEWBOT_API_KEY") else "env OPENAI_API_KEY"
    shown = "****" if s.api_key else f"(from {key_origin}: not set)"
    click.echo(f"{'api_key':<{width}} = {shown:<30} # {key_origin}" if s.api_key else f"{'api_key':<{width}} = {shown}")
    return 0
