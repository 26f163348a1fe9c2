"""`reviewbot diff`: review a diff given with git diff's arguments."""

from __future__ import annotations

from typing import Any

import click

from reviewbot.commands.common import GitArgsCommand, diff_spec_from_args, handle_errors, review_options, run_and_report


@click.command(cls=GitArgsCommand)
@click.option("--staged", "--cached", "staged", is_flag=True, help="Review what is staged (the index vs HEAD).")
@click.argument("revisions", nargs=-1)
@review_options
@handle_errors
def diff(staged: bool, revisions: tuple[str, ...], **kw: Any) -> int:
    """Review a diff, with git diff's arguments: [--staged] [REV | A..B | A...B] [-- PATHS].

    With no arguments, the work tree against the index, like `git diff`.
    """
    spec = diff_spec_from_args(staged, revisions)
    # Rules come from the side under review: B of A..B, the index for --staged, else the work tree.
    return run_and_report(kw, spec, command_defaults={"on_error": "fail"}, rules_side=spec.reviewed_side)
