"""post_review: read the pull request's comments, write the plan, report what was done."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reviewbot.adapters.github import _MARKER, _MARKER_AT_END, MAX_COMMENTS_PER_REVIEW, GitHubError, PullRequest
from reviewbot.adapters.github.client import GitHubClient
from reviewbot.adapters.github.comments import _inline, body_fingerprints, is_ours, read_comment
from reviewbot.adapters.github.review_plan import NewComment, plan_review
from reviewbot.core.models import Diff, Finding, Severity


@dataclass
class PostOutcome:
    reviews: int = 0
    comments: int = 0
    in_body: int = 0
    unchanged: int = 0
    retired: int = 0
    warnings: list[str] = field(default_factory=list)  # partial failures that did not stop the rest

    def describe(self) -> str:
        bits = [f"{self.comments} new inline comment(s)"]
        if self.in_body:
            bits.append(f"{self.in_body} finding(s) in the review body")
        if self.unchanged:
            bits.append(f"{self.unchanged} already on the pull request")
        if self.retired:
            bits.append(f"{self.retired} earlier comment(s) marked resolved or moved")
        return f"posted {self.reviews} review(s): " + ", ".join(bits)


def summary_text(findings: Sequence[Finding], fail_on: Severity | None, *, blocking: bool) -> str:
    counts = {sev: sum(1 for f in findings if f.severity is sev) for sev in sorted(Severity, reverse=True)}
    parts = [f"{n} {sev.label}{'s' if n != 1 else ''}" for sev, n in counts.items() if n]
    line = f"### reviewbot: {', '.join(parts) or 'no findings'}"
    if fail_on is None:
        verdict = "Blocking is off for this check."
    elif blocking:
        verdict = f"**This check fails:** findings at or above `{fail_on.label}`."
    else:
        verdict = f"Nothing at or above `{fail_on.label}`: this check passes."
    return f"{line}\n\n{verdict}"


def post_review(pr: PullRequest, findings: Sequence[Finding], diff: Diff, *, summary: str,
                not_reviewed: Iterable[str] = (), client: GitHubClient | None = None,
                login: str | None = None) -> PostOutcome:
    """Bring the pull request's review comments in line with `findings`. Raises GitHubError when nothing could
    be written; partial trouble (e.g. one comment that could not be edited) is reported in the outcome."""
    client = client or GitHubClient(pr.api_url, pr.token)
    login = login if login is not None else (os.environ.get("REVIEWBOT_GITHUB_LOGIN") or None)
    base = f"/repos/{pr.repository}/pulls/{pr.number}"
    existing = [c for item in client.paginate(f"{base}/comments")
                if isinstance(item, dict) and is_ours(item, login) and (c := read_comment(item))]
    bodies = [str(r.get("body") or "") for r in client.paginate(f"{base}/reviews")
              if isinstance(r, dict) and is_ours(r, login)]
    plan = plan_review(findings, diff, existing, body_fingerprints(bodies), not_reviewed=not_reviewed,
                       head_sha=pr.head_sha)
    outcome = PostOutcome(unchanged=plan.unchanged)
    batches = [list(plan.comments[i:i + MAX_COMMENTS_PER_REVIEW])
               for i in range(0, len(plan.comments), MAX_COMMENTS_PER_REVIEW)]
    if plan.body_entries and not batches:
        batches = [[]]
    for index, batch in enumerate(batches):
        body = summary
        if index == 0 and plan.body_entries:
            body += "\n\nFindings that are not on a line of this diff:\n\n" + "\n".join(plan.body_entries)
            outcome.in_body += len(plan.body_entries)
        if len(batches) > 1:
            body += f"\n\n_Inline comments, part {index + 1} of {len(batches)}._"
        _post_one(client, base, pr.head_sha, body, batch, outcome)
    for old, new_body in plan.retire:
        try:
            client.call("PATCH", f"/repos/{pr.repository}/pulls/comments/{old.id}", {"body": new_body})
            outcome.retired += 1
        except GitHubError as exc:
            if exc.read_only:
                raise
            outcome.warnings.append(f"could not update comment {old.id}: {exc}")
    return outcome


def _post_one(client: GitHubClient, base: str, head_sha: str, body: str, batch: list[NewComment],
              outcome: PostOutcome) -> None:
    payload = {"commit_id": head_sha, "event": "COMMENT", "body": body, "comments": [c.payload() for c in batch]}
    try:
        client.call("POST", f"{base}/reviews", payload)
    except GitHubError as exc:
        if exc.status != 422 or not batch:
            raise
        # GitHub rejects the whole review when one comment misses its diff (e.g. the diff GitHub shows differs
        # from ours); the findings still get said, as body entries that keep their fingerprints.
        outcome.warnings.append(f"GitHub refused the inline comments ({exc}); they are listed in the review body")
        entries = "\n".join(f"- {_inline(f'{c.path}:{c.line}')}: see below " + _MARKER.format(c.fingerprint)
                            for c in batch)
        details = "\n\n".join(_MARKER_AT_END.sub("", c.body).rstrip() for c in batch)
        payload = {"commit_id": head_sha, "event": "COMMENT", "comments": [],
                   "body": f"{body}\n\nFindings (GitHub refused them as inline comments):\n\n{entries}\n\n{details}"}
        client.call("POST", f"{base}/reviews", payload)
        outcome.reviews += 1
        outcome.in_body += len(batch)
        return
    outcome.reviews += 1
    outcome.comments += len(batch)
