"""`reviewbot hook`: the pre-commit framework's entry point; reviews exactly what is staged."""

from __future__ import annotations

import os
from typing import Any

import click

from reviewbot.commands.common import handle_errors, review_options, run_and_report


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
    from reviewbot.adapters.git import DiffSpec

    from_ref, to_ref = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    if from_ref and to_ref:
        spec = DiffSpec(revisions=(f"{from_ref}...{to_ref}",), paths=files, literal_paths=True)
    else:
        spec = DiffSpec(staged=True, paths=files, literal_paths=True)
    # Rules come from the side under review, as for `diff`: the index for a commit, the pushed revision for a push.
    return run_and_report(kw, spec, command_defaults={"on_error": "warn"}, rules_side=spec.reviewed_side,
                          lenient_setup=True)
