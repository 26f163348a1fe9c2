"""`reviewbot baseline`: record today's findings as accepted, with `reviewbot diff`'s arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from reviewbot.commands.common import (
    GitArgsCommand,
    console,
    diff_spec_from_args,
    emit,
    handle_errors,
    paths_after_separator,
    use_color,
)
from reviewbot.commands.options import review_options, run_options
from reviewbot.core.errors import EXIT_OK, EXIT_REVIEW_FAILED, ConfigError

if TYPE_CHECKING:
    from reviewbot.adapters.git import DiffSpec
    from reviewbot.commands.options import RunOptions


@click.command("baseline", cls=GitArgsCommand)
@click.option("--staged", "--cached", "staged", is_flag=True, help="Review what is staged (the index vs HEAD).")
@click.argument("revisions", nargs=-1)
@review_options(exclude=("fail_on", "on_error", "no_baseline", "max_findings"))
@handle_errors
def baseline_command(staged: bool, revisions: tuple[str, ...], **kw: Any) -> int:
    """Record today's findings as accepted: same arguments as `reviewbot diff`.

    The review runs without the current baseline (inline suppressions still apply), and the baseline file
    (config `baseline`, default .reviewbot-baseline.json) is replaced by what it finds. Commit that file;
    every later run hides the findings it lists and shows only new ones.
    """
    spec = diff_spec_from_args(staged, revisions, paths_after_separator())
    return run_baseline(spec, run_options(kw))


def run_baseline(spec: DiffSpec, options: RunOptions) -> int:
    """Review `spec` without the baseline and record what it finds as the new baseline; 3 when the review failed."""
    from reviewbot.rules.baseline import baseline_location, build_baseline, from_repository, write_baseline
    from reviewbot.rules.suppressions import line_texts, make_filters
    from reviewbot.session import check_setup, collect_diff, prepare, review_diff

    con = console()
    ctx = prepare(options.settings, command_defaults={"on_error": "fail"}, console=con)
    setup = check_setup(ctx, console=con)
    if setup.problem is not None and not options.dry_run:
        raise setup.problem
    assert ctx.repo is not None  # prepare() was told to require a repository
    repository_named = from_repository(ctx.settings)
    rel, target = baseline_location(ctx.settings.baseline, ctx.repo.root, from_repository=repository_named)
    if target is None:
        raise ConfigError('the baseline is switched off (baseline = ""); set a file name to record one')
    diff = collect_diff(ctx, spec)
    if not diff.files:
        con.err(f"reviewbot: nothing to review in {spec.description}; {rel or target} was left as it is\n")
        return EXIT_OK
    outcome = review_diff(ctx, diff, console=con, dry_run=options.dry_run, agents=setup.agents,
                          extra_filters=make_filters(ctx, diff, use_baseline=False))
    if outcome.result is None:  # --dry-run
        return outcome.exit_code
    result = outcome.result
    emit(result, ctx.settings, options.reports, color=use_color(options.color), con=con)
    if result.failed:
        from reviewbot.reporters.base import one_line

        names = ", ".join(one_line(s.path) for s in result.failed[:5])
        con.err(f"reviewbot: error: the review could not complete ({one_line(result.failed[0].reason)}; not reviewed: "
                f"{names}); {rel or target} was left as it is\n")
        return EXIT_REVIEW_FAILED
    baseline = build_baseline(result.all_findings, line_texts(ctx, diff))
    existed = target.exists()
    write_baseline(target, baseline, root=ctx.repo.root if rel is not None else None, rel=rel)
    what = "replaced its previous contents" if existed else "a new file"
    message = (f"recorded {baseline.total} finding{'' if baseline.total == 1 else 's'} in {rel or target} "
               f"({what}); commit it so the whole team shares it\n")
    (con.out if ctx.settings.format == "text" else con.err)(message)
    return EXIT_OK
