"""plan_review: a pure function of (findings, diff, comments already on the pull request) -> what to write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reviewbot.adapters.github.comments import ExistingComment, _retired_body, body_entry, comment_body
from reviewbot.adapters.github.placement import fingerprints, placement
from reviewbot.core.models import Diff, Finding


@dataclass(frozen=True, slots=True)
class NewComment:
    path: str
    line: int
    start_line: int | None
    body: str
    fingerprint: str

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT", "body": self.body}
        if self.start_line is not None:
            out.update(start_line=self.start_line, start_side="RIGHT")
        return out


@dataclass(frozen=True)
class ReviewPlan:
    comments: tuple[NewComment, ...]  # inline comments to post
    body_entries: tuple[str, ...]  # findings with no diff line, as body list items
    retire: tuple[tuple[ExistingComment, str], ...]  # our comments to mark resolved/moved, with the new body
    unchanged: int  # findings whose comment is already there


def plan_review(findings: Sequence[Finding], diff: Diff, existing: Sequence[ExistingComment],
                existing_body: set[str], *, not_reviewed: Iterable[str] = (), head_sha: str = "") -> ReviewPlan:
    """Decide what to write, given what is on the pull request already. Pure: no I/O."""
    fps = fingerprints(findings, diff)
    active = {c.fingerprint: c for c in existing if not c.resolved}
    comments: list[NewComment] = []
    entries: list[str] = []
    retire: list[tuple[ExistingComment, str]] = []
    unchanged = 0
    for finding, fp in zip(findings, fps):
        where = placement(finding, diff.file(finding.path))
        if where is None:
            if fp in existing_body or fp in active:
                unchanged += 1
            else:
                entries.append(body_entry(finding, fp))
            continue
        old = active.get(fp)
        if old is not None and old.line == where.line:
            unchanged += 1
            continue
        if old is None and fp in existing_body:  # posted in a body before (e.g. after a rejected review)
            unchanged += 1
            continue
        if old is not None:  # same finding, but the comment sits elsewhere now (lines moved, or it went outdated)
            retire.append((old, _retired_body(old.body, old.fingerprint,
                                              f"~~Moved~~: reviewbot now reports this at line {where.line}.")))
        comments.append(NewComment(finding.path, where.line, where.start_line,
                                   comment_body(finding, fp, suggestion_block=where.whole_range), fp))
    current = set(fps)
    skip = set(not_reviewed)
    at = f" at {head_sha[:7]}" if head_sha else ""
    for old in existing:
        if old.resolved or old.fingerprint in current or old.path in skip:
            continue
        retire.append((old, _retired_body(old.body, old.fingerprint,
                                          f"~~Resolved~~: reviewbot no longer reports this{at}.")))
    return ReviewPlan(tuple(comments), tuple(entries), tuple(retire), unchanged)
