"""plan_review: what to write on a pull request, given the comments already there. Pure, so no server is needed."""

from __future__ import annotations

from reviewbot.adapters.github.comments import ExistingComment, comment_body
from reviewbot.adapters.github.placement import fingerprints
from reviewbot.adapters.github.review_plan import plan_review
from tests.adapters.github.support import DIFF, finding


def existing(fp: str, line: int | None, *, path: str = "app/service.py", resolved: bool = False) -> ExistingComment:
    body = comment_body(finding(line or 1), fp)
    return ExistingComment(id=1, path=path, line=line, fingerprint=fp, resolved=resolved, body=body)


def test_new_findings_on_the_diff_become_inline_comments_and_the_rest_body_entries():
    on_diff, off_diff = finding(5, end_line=7), finding(3, "elsewhere", path="app/untouched.py")
    plan = plan_review([on_diff, off_diff], DIFF, [], set())
    [comment] = plan.comments
    assert (comment.path, comment.line, comment.start_line) == ("app/service.py", 7, 5)
    assert comment.payload()["start_side"] == "RIGHT" and comment.fingerprint in comment.body
    assert len(plan.body_entries) == 1 and "elsewhere" in plan.body_entries[0]
    assert (plan.retire, plan.unchanged) == ((), 0)


def test_a_comment_already_in_place_is_unchanged_and_a_moved_one_is_retired_and_reposted():
    [fp] = fingerprints([finding(5)], DIFF)
    same = plan_review([finding(5)], DIFF, [existing(fp, 5)], set())
    assert (same.comments, same.retire, same.unchanged) == ((), (), 1)
    moved = plan_review([finding(5)], DIFF, [existing(fp, 9)], set())
    assert [c.line for c in moved.comments] == [5]
    [(old, body)] = moved.retire
    assert old.line == 9 and "~~Moved~~" in body and "line 5" in body


def test_gone_findings_are_resolved_unless_their_file_was_not_reviewed():
    gone = existing("ab" * 16, 5)
    plan = plan_review([], DIFF, [gone], set(), head_sha="0123456789abcdef")
    [(old, body)] = plan.retire
    assert old is gone and "~~Resolved~~" in body and "at 0123456" in body
    assert plan_review([], DIFF, [gone], set(), not_reviewed=["app/service.py"]).retire == ()
    assert plan_review([], DIFF, [existing("ab" * 16, 5, resolved=True)], set()).retire == ()


def test_a_finding_already_listed_in_a_review_body_is_not_posted_again():
    [fp] = fingerprints([finding(5)], DIFF)
    plan = plan_review([finding(5)], DIFF, [], {fp})
    assert (plan.comments, plan.body_entries, plan.unchanged) == ((), (), 1)
