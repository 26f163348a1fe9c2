"""`reviewbot diff`: review a diff given with git diff's arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from reviewbot.commands.common import (
    GitArgsCommand,
    diff_spec_from_args,
    handle_errors,
    paths_after_separator,
    run_and_report,
)
from reviewbot.commands.options import review_options, run_options

if TYPE_CHECKING:
    from reviewbot.adapters.git import DiffSpec
    from reviewbot.commands.options import RunOptions


@click.command(cls=GitArgsCommand)
@click.option("--staged", "--cached", "staged", is_flag=True, help="Review what is staged (the index vs HEAD).")
@click.argument("revisions", nargs=-1)
@review_options
@handle_errors
def diff(staged: bool, revisions: tuple[str, ...], **kw: Any) -> int:
    """Review a diff, with git diff's arguments: [--staged] [REV | A..B | A...B] [-- PATHS].

    With no arguments, the work tree against the index, like `git diff`.
    """
    spec = diff_spec_from_args(staged, revisions, paths_after_separator())
    return run_diff(spec, run_options(kw))


def run_diff(spec: DiffSpec, options: RunOptions) -> int:
    """Review `spec` and report; the exit code says whether anything blocks (a model error fails the run)."""
    # Rules come from the side under review: B of A..B, the index for --staged, else the work tree.
    return run_and_report(options, spec, command_defaults={"on_error": "fail"}, rules_side=spec.reviewed_side)
