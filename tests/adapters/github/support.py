"""Shared by the GitHub adapter's tests: a one-file diff, findings on it, and the loopback GitHub API stand-in
(tests/helpers/github_server.py) is the `server` fixture in conftest.py."""

from __future__ import annotations

import re

from reviewbot.adapters.github import PullRequest
from reviewbot.adapters.github.posting import post_review
from reviewbot.core.models import Diff, FileDiff, Finding, Hunk, Line, Severity
from tests.helpers import GitHubServer

BOT = "github-actions[bot]"
MARKER = re.compile(r"<!-- reviewbot:fp=([0-9a-f]+) -->")


def added_file(path: str, lines: list[str], *, start: int = 1) -> FileDiff:
    """A file diff whose hunk adds `lines` as new lines start.. (no context)."""
    rows = tuple(Line("+", text, None, start + i) for i, text in enumerate(lines))
    return FileDiff(path=path, old_path=None, status="added",
                    hunks=(Hunk(0, 0, start, len(lines), "", rows),))


def finding(line: int, message: str = "blocking call", *, path: str = "app/service.py", category: str = "async",
            **extra) -> Finding:
    return Finding(path=path, line=line, severity=Severity.ERROR, category=category, message=message, **extra)


SERVICE = [f"line_{i} = {i}" for i in range(1, 41)]
DIFF = Diff(files=(added_file("app/service.py", SERVICE),))


def pull(server: GitHubServer) -> PullRequest:
    return PullRequest(api_url=server.url, repository=f"{server.owner}/{server.repo}", number=server.pr,
                       head_sha=server.head_sha, token="ghs_secret_token")


def post(server, findings, diff=DIFF, **kw):
    return post_review(pull(server), findings, diff, summary="### reviewbot", **kw)


def live(server):
    return [c for c in server.comments_by() if not c["body"].startswith("<!-- reviewbot:resolved -->")]
