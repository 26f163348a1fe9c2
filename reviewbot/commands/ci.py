"""`reviewbot ci`: the pull-request check. Finds the range to review from the CI's own variables, reads the rules
(config, agents, standards) from the base side, reviews, reports, and optionally posts a GitHub review.

Range detection, in order:
  1. `--base REF` given: merge-base(REF, head)..head, head being `--head`, else the pull request's head on GitHub,
     else HEAD.
  2. GitHub Actions pull_request(_target) event: merge-base(pull_request.base.sha, pull_request.head.sha)..head.sha,
     so commits that landed on the base branch after the branch point are not reviewed.
  3. GitLab merge-request pipeline: CI_MERGE_REQUEST_DIFF_BASE_SHA (GitLab's own merge base)..CI_COMMIT_SHA, or
     ..CI_MERGE_REQUEST_SOURCE_BRANCH_SHA in merged-results pipelines, where CI_COMMIT_SHA is a merge commit.
  4. Anywhere else: the first of origin/HEAD, origin/main, origin/master, main, master that exists, as in 1.

The rules (config, agents, standards, baseline) come from the target branch's current tip, never from the pull
request itself and never from the old commit it branched from: a PR cannot loosen its own check, rewrite the
instructions the model gets, or pick an old version of them by branching from an old commit. Its edits to those
files are still in the diff (merge base..head) and reviewed as code. The tip is the base sha the GitHub event names
(else origin/$GITHUB_BASE_REF), GitLab's CI_MERGE_REQUEST_TARGET_BRANCH_SHA (else
origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME), or the `--base` / default base revision itself; only when none of
those is in the clone do the rules come from the merge base, with a warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewbot.commands.common import console, handle_errors, run_and_report
from reviewbot.commands.options import review_options, run_options
from reviewbot.core.errors import ConfigError
from reviewbot.core.models import ReviewedSide

if TYPE_CHECKING:
    from reviewbot.adapters.git import DiffSpec, Repository
    from reviewbot.adapters.github import PullRequest
    from reviewbot.commands.common import AfterReview
    from reviewbot.commands.options import RunOptions
    from reviewbot.core.models import ReviewResult
    from reviewbot.session import Console, Context

DEFAULT_BASES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")

FIX_GITHUB = "check out the full history: actions/checkout with fetch-depth: 0"
FIX_GITLAB = "fetch the full history: set GIT_DEPTH: 0 in the job's variables"
FIX_LOCAL = "fetch the missing history, e.g. git fetch --unshallow"


@dataclass(frozen=True, slots=True)
class ReviewTarget:
    """What `ci` reviews: merge_base..head, and where it came from."""

    provider: str  # "github", "gitlab" or "local"
    merge_base: str  # full sha: the diff is merge_base..head
    head: str  # full sha
    base_label: str  # what the base was called: a branch name, a ref or a sha
    pull_request: int | None = None  # GitHub pull request number / GitLab merge request iid
    rules: str = ""  # full sha the rules are read from: the target branch's tip (merge_base if unknown)
    rules_note: str | None = None  # why the rules fell back to the merge base, for a warning


# --- detection -------------------------------------------------------------------------------------------------------


def github_event(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The pull request of a GitHub Actions event payload, or None when the event is not about one."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the GitHub event payload {path}: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"the GitHub event payload {path} is not JSON") from None
    pr = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pr, dict):
        return None
    try:
        return {
            "base": str(pr["base"]["sha"]),
            "head": str(pr["head"]["sha"]),
            "base_ref": str(pr["base"].get("ref") or pr["base"]["sha"]),
            "number": int(payload.get("number") or pr["number"]),
            "repository": str((payload.get("repository") or {}).get("full_name") or ""),
        }
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"the GitHub event payload {path} lacks pull_request base/head sha or number") from None


def detect_target(
    repo: Repository, env: Mapping[str, str], *, base: str | None = None, head: str | None = None
) -> ReviewTarget:
    """Work out the range to review; ConfigError (exit 2) with the fix when the clone cannot answer."""
    pr_event = github_event(env) if env.get("GITHUB_ACTIONS") == "true" else None
    pr_number = pr_event["number"] if pr_event else None
    if base:
        provider = "github" if pr_event else ("gitlab" if env.get("GITLAB_CI") == "true" else "local")
        # On a pull_request run HEAD is GitHub's merge commit; the pull request's own head is what gets reviewed.
        default_head = pr_event["head"] if pr_event else "HEAD"
        return _range(repo, base, head or default_head, provider=provider, label=base, pr=pr_number, rules=(base,))
    if pr_event:
        return _range(repo, pr_event["base"], head or pr_event["head"], provider="github",
                      label=pr_event["base_ref"], pr=pr_number,
                      rules=(pr_event["base"], *_origin(env.get("GITHUB_BASE_REF") or pr_event["base_ref"])))
    if env.get("GITLAB_CI") == "true" and env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        iid = env.get("CI_MERGE_REQUEST_IID", "")
        # In merged-results pipelines CI_COMMIT_SHA is a merge with the target branch; the source head is separate.
        mr_head = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA") or "HEAD"
        target = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "")
        return _range(repo, env["CI_MERGE_REQUEST_DIFF_BASE_SHA"], head or mr_head,
                      provider="gitlab", label=target or "the target branch",
                      pr=int(iid) if iid.isdigit() else None,
                      rules=(env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", ""), *_origin(target)))
    provider = "gitlab" if env.get("GITLAB_CI") == "true" else ("github" if env.get("GITHUB_ACTIONS") == "true"
                                                                 else "local")
    chosen = default_base(repo)
    return _range(repo, chosen, head or "HEAD", provider=provider, label=chosen, pr=None, rules=(chosen,))


def _origin(branch: str | None) -> tuple[str, ...]:
    """Where a target branch's tip may be found in a CI clone: origin/NAME, then NAME."""
    branch = (branch or "").strip()
    if not branch or branch.startswith("-"):
        return ()
    return (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}")


def default_base(repo: Repository) -> str:
    for candidate in DEFAULT_BASES:
        if repo.is_revision(candidate):
            return candidate
    raise ConfigError("no base branch to compare with: pass --base REF (none of "
                      + ", ".join(DEFAULT_BASES) + " exists here)")


def _fix(provider: str) -> str:
    return {"github": FIX_GITHUB, "gitlab": FIX_GITLAB}.get(provider, FIX_LOCAL)


def _range(repo: Repository, base: str, head: str, *, provider: str, label: str, pr: int | None,
           rules: tuple[str, ...] = ()) -> ReviewTarget:
    head_sha = _commit(repo, head)
    if head_sha is None:
        raise ConfigError(f"the commit to review ({head}) is not in this clone; {_fix(provider)}")
    base_sha = _commit(repo, base)
    if base_sha is None:
        shallow = " (the clone is shallow)" if repo.is_shallow() else ""
        if provider == "local" and not shallow and not _looks_like_sha(base):
            raise ConfigError(f"unknown base revision '{base}': pass --base with a branch, tag or commit")
        raise ConfigError(f"the base commit {base} is not in this clone{shallow}; {_fix(provider)}")
    merge_base = repo.merge_base(base_sha, head_sha)
    if merge_base is None:
        if repo.is_shallow():
            raise ConfigError(f"the merge base of {label} and {head} is not in this clone (the clone is shallow); "
                              f"{_fix(provider)}")
        raise ConfigError(f"{label} and {head} share no history, so there is no merge base to review against")
    rules_sha, note = None, None
    for candidate in rules:
        if candidate and not candidate.startswith("-"):
            rules_sha = _commit(repo, candidate)
            if rules_sha is not None:
                break
    if rules_sha is None:
        rules_sha = merge_base
        note = (f"the tip of {label} is not in this clone, so the rules (config, standards, agents, baseline) come "
                f"from the merge base {merge_base[:12]}; {_fix(provider)}")
    return ReviewTarget(provider=provider, merge_base=merge_base, head=head_sha, base_label=label, pull_request=pr,
                        rules=rules_sha, rules_note=note)


def _commit(repo: Repository, rev: str) -> str | None:
    from reviewbot.core.errors import GitError

    try:
        return repo.resolve(rev)
    except GitError:
        return None


def _looks_like_sha(text: str) -> bool:
    return 7 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text.lower())


def _short(repo: Repository, sha: str) -> str:
    return str(repo.run("rev-parse", "--short=12", sha)).strip() or sha


# --- after the review: step summary and pull-request review -----------------------------------------------------------


def append_step_summary(path: str, markdown: str, con: Console) -> None:
    """Append (never truncate: earlier steps wrote there too) the Markdown report to $GITHUB_STEP_SUMMARY."""
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        con.warn(f"cannot append to the step summary {path}: {exc.strerror}")


def _actions_command(con: Console, name: str, message: str) -> None:
    from reviewbot.reporters.github import command

    con.out(command(name, message, {"title": "reviewbot"}) + "\n")


def _pull_request(target: ReviewTarget, env: Mapping[str, str], con: Console) -> PullRequest | None:
    from reviewbot.adapters.github import PullRequest

    if target.provider != "github" or target.pull_request is None:
        con.warn("--post-review needs a GitHub Actions pull_request event; no review was posted")
        return None
    token = env.get("GITHUB_TOKEN", "").strip()
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if not token or not repository:
        missing = "GITHUB_TOKEN" if not token else "GITHUB_REPOSITORY"
        con.warn(f"--post-review needs {missing} in the environment (env: GITHUB_TOKEN: "
                 "${{ secrets.GITHUB_TOKEN }}); no review was posted")
        return None
    api = env.get("GITHUB_API_URL", "").strip() or "https://api.github.com"
    return PullRequest(api_url=api, repository=repository, number=target.pull_request, head_sha=target.head,
                       token=token)


def post_github_review(ctx: Context, result: ReviewResult, spec: DiffSpec, target: ReviewTarget,
                       env: Mapping[str, str], con: Console) -> str | None:
    """Post the review; every failure becomes a warning (or a notice for read-only tokens), never an exit code.
    Returns a line for the step summary."""
    from reviewbot.adapters.diff_parser import parse_diff
    from reviewbot.adapters.github import PR_DIFF_CONTEXT, GitHubError
    from reviewbot.adapters.github.posting import post_review, summary_text
    from reviewbot.core.models import Diff
    from reviewbot.reporters.base import ReportOptions, result_blocks

    pr = _pull_request(target, env, con)
    if pr is None:
        return None
    # The diff again, with the context GitHub shows, so comments only go on lines the pull request displays.
    assert ctx.repo is not None  # run_and_report prepared the review in a repository
    diff = Diff(files=parse_diff(ctx.repo.diff(spec, context_lines=PR_DIFF_CONTEXT)))
    fail_on = ctx.settings.fail_on_severity
    summary = summary_text(result.findings, fail_on, blocking=result_blocks(result, ReportOptions(fail_on=fail_on)))
    try:
        outcome = post_review(pr, result.findings, diff, summary=summary,
                              not_reviewed=[s.path for s in result.failed])
    except GitHubError as exc:
        if exc.read_only:
            _actions_command(con, "notice", "reviewbot could not post a pull-request review: the token is read-only "
                             "here (pull requests from forks get one). The findings are in the annotations and the "
                             "job summary.")
            return "_The pull-request review was not posted: the token is read-only (fork pull request)._"
        _actions_command(con, "warning", f"reviewbot could not post the pull-request review: {exc}")
        con.warn(f"could not post the pull-request review: {exc}")
        return f"_The pull-request review could not be posted: {exc}_"
    for warning in outcome.warnings:
        con.warn(warning)
    con.err(f"reviewbot: {outcome.describe()}\n")
    return f"_Pull-request review: {outcome.describe()}._"


def make_after(spec: DiffSpec, target: ReviewTarget, post: bool | None, env: Mapping[str, str]) -> AfterReview:
    def after(ctx: Context, result: ReviewResult, code: int) -> int | None:
        from reviewbot.reporters import ReportOptions, render

        con = console()
        summary_path = env.get("GITHUB_STEP_SUMMARY")
        note = None
        if post if post is not None else bool(ctx.settings.post_review):
            note = post_github_review(ctx, result, spec, target, env, con)
        if summary_path:
            markdown = render("markdown", result, ReportOptions(fail_on=ctx.settings.fail_on_severity))
            if note:
                markdown = markdown.rstrip("\n") + "\n\n" + note + "\n"
            append_step_summary(summary_path, markdown, con)
        return None  # the verdict stays the review's, whatever happened to the comments

    return after


# --- the command ------------------------------------------------------------------------------------------------------


@click.command()
@click.option("--base", "base_ref", metavar="REF",
              help="Review merge-base(REF, HEAD)..HEAD [default: from the CI, else origin/HEAD, origin/main, ...].")
@click.option("--head", "head_ref", metavar="REF", help="The commit to review [default: the CI's head, else HEAD].")
@click.option("--post-review/--no-post-review", default=None,
              help="Post a GitHub pull-request review with inline comments (config post_review) "
                   "[default: no-post-review].")
@review_options
@handle_errors
def ci(base_ref: str | None, head_ref: str | None, post_review: bool | None, **kw: Any) -> int:
    """The pull-request check for GitHub Actions, GitLab CI and other CIs.

    Reviews what the pull request adds since it branched off (the merge base), with configuration, agents,
    standards and baseline read from the target branch's current tip. On GitHub Actions the default format is `github`
    (annotations) and a Markdown summary is appended to $GITHUB_STEP_SUMMARY.
    """
    return run_ci(base_ref, head_ref, post_review, run_options(kw), dict(os.environ))


def run_ci(base: str | None, head: str | None, post_review: bool | None, options: RunOptions,
           env: Mapping[str, str]) -> int:
    """Review what the pull request adds (the range from `base`/`head` or the CI's variables in `env`), with the
    rules of the target branch's tip; `post_review` None leaves posting a review to the config."""
    from reviewbot.adapters.git import DiffSpec, Repository

    repo = Repository()
    target = detect_target(repo, env, base=base, head=head)
    spec = DiffSpec(revisions=(f"{_short(repo, target.merge_base)}..{_short(repo, target.head)}",))
    con = console()
    from reviewbot.reporters.base import one_line

    con.err(f"reviewbot: reviewing {spec.revisions[0]} (merge base with {one_line(target.base_label)}); rules from "
            f"{target.rules[:12]} (the tip of {one_line(target.base_label)})\n")
    if target.rules_note:
        con.warn(target.rules_note)
    defaults: dict[str, object] = {"on_error": "fail"}
    if env.get("GITHUB_ACTIONS") == "true":
        defaults["format"] = "github"
    return run_and_report(options, spec, command_defaults=defaults, rules_side=ReviewedSide.at(target.rules),
                          after=make_after(spec, target, post_review, env))
