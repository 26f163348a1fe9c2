"""Post one pull-request review on GitHub: inline comments on diff lines, the rest in the review body.

Only the standard library talks to the REST API (urllib.request). The work is split in three:
  * pure functions that decide what a comment says and where it goes (`fingerprints`, `placement`, `comment_body`),
  * `plan_review`, a pure function of (findings, diff, comments already on the pull request) -> what to write,
  * `post_review`, which reads the pull request's comments, writes the plan, and reports what it did.

Idempotency rests on a hidden marker at the very end of every comment we write, `<!-- reviewbot:fp=<hex> -->`,
whose fingerprint depends on the path, the agent, the category and the text of the flagged line, never on line
numbers or the model's wording. Only the final line of a body is read as a marker, model text has its HTML comments
neutralised, and only comments written by our own account count, so a pull request cannot forge one.

Posting never decides the check's verdict: every failure is a `GitHubError` that the caller turns into a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_COMMENTS_PER_REVIEW = 30  # what reviewdog sends at most; larger reviews are slow and easily rejected
PR_DIFF_CONTEXT = 3  # GitHub shows 3 lines around each change: only those lines take a RIGHT-side comment
API_VERSION = "2022-11-28"

_MARKER = "<!-- reviewbot:fp={} -->"
_MARKER_AT_END = re.compile(r"<!-- reviewbot:fp=([0-9a-f]{8,64}) -->\s*\Z")
_MARKER_IN_LIST = re.compile(r"^- .*<!-- reviewbot:fp=([0-9a-f]{8,64}) -->\s*$", re.MULTILINE)
_RESOLVED = "<!-- reviewbot:resolved -->"
_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")
_BACKTICK_RUN = re.compile(r"`+")
_FENCE_RUN = re.compile(r"(`{3,}|~{3,})")
_SUGGESTION_FENCE = re.compile(r"^(`{3,})suggestion[ \t]*$", re.MULTILINE)
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class GitHubError(Exception):
    """The GitHub API refused or could not be reached; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def read_only(self) -> bool:
        """A 403 that means 'this token may not write here' (fork pull requests), not a rate limit."""
        return self.status == 403 and "rate limit" not in str(self).lower()


@dataclass(frozen=True)
class PullRequest:
    api_url: str  # GITHUB_API_URL, e.g. https://api.github.com
    repository: str  # owner/name
    number: int
    head_sha: str  # commit_id of the review: line numbers refer to this commit
    token: str = field(repr=False)

# The package's public names, wherever they live inside it.
from reviewbot.adapters.github.client import GitHubClient  # noqa: E402
from reviewbot.adapters.github.comments import (  # noqa: E402
    ExistingComment,
    body_entry,
    body_fingerprints,
    comment_body,
    fence,
    is_ours,
    neutralise,
    read_comment,
)
from reviewbot.adapters.github.placement import Placement, fingerprints, flagged_text, placement  # noqa: E402
from reviewbot.adapters.github.posting import PostOutcome, post_review, summary_text  # noqa: E402
from reviewbot.adapters.github.review_plan import NewComment, ReviewPlan, plan_review  # noqa: E402

__all__ = [
    "ExistingComment",
    "GitHubClient",
    "NewComment",
    "Placement",
    "PostOutcome",
    "ReviewPlan",
    "body_entry",
    "body_fingerprints",
    "comment_body",
    "fence",
    "fingerprints",
    "flagged_text",
    "is_ours",
    "neutralise",
    "placement",
    "plan_review",
    "post_review",
    "read_comment",
    "summary_text",
]
