"""`reviewbot hook`: the pre-commit framework's entry point; reviews exactly what is staged."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from reviewbot.commands.common import handle_errors, run_and_report
from reviewbot.commands.options import review_options, run_options

if TYPE_CHECKING:
    from reviewbot.commands.options import RunOptions


@click.command()
@click.argument("files", nargs=-1, type=click.Path())
@review_options(shown_defaults={"on_error": "warn"})
@handle_errors
def hook(files: tuple[str, ...], **kw: Any) -> int:
    """Entry point for the pre-commit framework: review exactly what is staged (limited to FILES).

    With PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF set (pre-push, or pre-commit run --from-ref/--to-ref), the
    range between them is reviewed instead. No model configured, or a model that cannot be reached: one line says
    the review was skipped and the commit goes ahead (exit 0), unless on_error = "fail". Local secret findings
    still block.
    """
    return run_hook(files, run_options(kw), os.environ)


def run_hook(files: Sequence[str], options: RunOptions, env: Mapping[str, str]) -> int:
    """Review what is staged (or the pushed range pre-commit names in `env`), limited to `files`."""
    from reviewbot.adapters.git import DiffSpec

    from_ref, to_ref = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    if from_ref and to_ref:
        spec = DiffSpec(revisions=(f"{from_ref}...{to_ref}",), paths=tuple(files), literal_paths=True)
    else:
        spec = DiffSpec(staged=True, paths=tuple(files), literal_paths=True)
    # Rules come from the side under review, as for `diff`: the index for a commit, the pushed revision for a push.
    return run_and_report(options, spec, command_defaults={"on_error": "warn"}, rules_side=spec.reviewed_side,
                          lenient_setup=True)
