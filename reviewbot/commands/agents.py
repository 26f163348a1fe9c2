"""`reviewbot agents`: every available agent, its description and where it comes from."""

from __future__ import annotations

import click

from reviewbot.commands.common import console, handle_errors


@click.command()
@handle_errors
def agents() -> int:
    """List every available agent, its description and where it comes from."""
    from reviewbot.reporters.base import one_line  # names and descriptions come from repositories
    from reviewbot.session import available_agents, prepare

    con = console()
    ctx = prepare({}, console=con, require_repo=False)
    found = available_agents(ctx, con)
    default = ctx.settings.agent_refs
    for name in sorted(found):
        agent = found[name]
        mark = "*" if name in default else " "
        description = one_line(agent.short_description)
        click.echo(f"{mark} {one_line(name)}  [{agent.origin}: {one_line(agent.path)}]\n    {description}")
    return 0
