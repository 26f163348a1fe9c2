"""Posting pull-request reviews against the loopback GitHub API stand-in over real HTTP: idempotency, paging,
resolving, and findings that cannot be placed inline."""

from __future__ import annotations

import pytest

from reviewbot.adapters.github import MAX_COMMENTS_PER_REVIEW, GitHubError
from reviewbot.adapters.github.comments import read_comment
from reviewbot.adapters.github.placement import fingerprints
from reviewbot.core.models import Diff
from tests.adapters.github.support import DIFF, MARKER, SERVICE, added_file, finding, live, post


def test_posts_one_review_with_inline_comments_and_ranges(server):
    outcome = post(server, [finding(5), finding(8, "range", end_line=10, suggestion="fixed()\n")])
    assert (outcome.reviews, outcome.comments) == (1, 2)
    [request] = [r for r in server.requests if r.method == "POST"]
    assert request.path == "/repos/acme/shop/pulls/7/reviews"
    assert request.json["event"] == "COMMENT" and request.json["commit_id"] == server.head_sha
    by_line = {c["line"]: c for c in request.json["comments"]}
    assert by_line[5] == {"path": "app/service.py", "line": 5, "side": "RIGHT", "body": by_line[5]["body"]}
    assert (by_line[10]["start_line"], by_line[10]["start_side"]) == (8, "RIGHT")
    assert "```suggestion\nfixed()\n```" in by_line[10]["body"]
    assert request.headers["authorization"] == "Bearer ghs_secret_token"


def test_rerun_posts_nothing_new(server):
    findings = [finding(5), finding(12, "other")]
    post(server, findings)
    again = post(server, findings)
    assert (again.reviews, again.comments, again.unchanged) == (0, 0, 2)
    assert len(server.comments_by()) == 2 and len(server.reviews) == 1


def test_more_than_30_comments_go_in_several_reviews(server):
    server.max_comments_per_review = MAX_COMMENTS_PER_REVIEW
    findings = [finding(n, f"problem {n}") for n in range(1, 36)]
    outcome = post(server, findings)
    assert outcome.reviews == 2 and outcome.comments == 35
    assert server.most_comments_in_one_review == 30
    assert "part 2 of 2" in server.reviews[1]["body"]
    assert post(server, findings).comments == 0


def test_existing_comments_are_read_across_pages(server):
    for n in range(120):  # humans chatting: more than one page of 100
        server.add_comment("app/service.py", 1 + n % 40, f"human remark {n}")
    post(server, [finding(30)])
    assert post(server, [finding(30)]).comments == 0
    pages = [r for r in server.requests if r.method == "GET" and r.path.endswith("/comments")]
    assert len(pages) >= 4  # two pages per run


def test_human_comment_with_a_forged_marker_is_ignored_and_untouched(server):
    [fp] = fingerprints([finding(5)], DIFF)
    forged = server.add_comment("app/service.py", 5, f"lgtm\n<!-- reviewbot:fp={fp} -->", login="mallory")
    outcome = post(server, [finding(5)])
    assert outcome.comments == 1  # our comment is posted anyway
    assert not [r for r in server.writes() if r.method == "PATCH"]
    assert forged["body"].startswith("lgtm")


def test_configured_login_decides_which_comments_are_ours(server, monkeypatch):
    post(server, [finding(5)])
    monkeypatch.setenv("REVIEWBOT_GITHUB_LOGIN", "reviewbot-user")
    # Posting through a personal token: the bot's earlier comments are not ours, so they are neither reused nor edited.
    outcome = post(server, [finding(5)])
    assert outcome.comments == 1 and outcome.retired == 0


def test_gone_findings_are_marked_resolved_except_on_files_not_reviewed(server):
    server.diff_lines["app/other.py"] = set(range(1, 41))
    first = post(server, [finding(5), finding(6, path="app/other.py")],
                 diff=Diff(files=(DIFF.files[0], added_file("app/other.py", SERVICE))))
    assert first.comments == 2
    outcome = post(server, [], not_reviewed=["app/other.py"])
    assert outcome.retired == 1
    bodies = {c["path"]: c["body"] for c in server.comments_by()}
    assert bodies["app/service.py"].startswith("<!-- reviewbot:resolved -->\n~~Resolved~~")
    assert MARKER.findall(bodies["app/service.py"])[-1] == read_comment(
        {"id": 1, "path": "p", "line": 1, "body": bodies["app/service.py"]}).fingerprint
    assert not bodies["app/other.py"].startswith("<!-- reviewbot:resolved -->")
    assert post(server, [], not_reviewed=["app/other.py"]).retired == 0  # resolved once, not again


def test_a_resolved_finding_that_returns_is_posted_again(server):
    post(server, [finding(5)])
    post(server, [])
    outcome = post(server, [finding(5)])
    assert outcome.comments == 1
    assert len(live(server)) == 1


def test_findings_off_the_diff_go_in_the_body_once(server):
    off = finding(3, "module-level problem", path="app/untouched.py")
    outcome = post(server, [off, finding(5)])
    assert (outcome.comments, outcome.in_body) == (1, 1)
    body = server.reviews[0]["body"]
    assert "app/untouched.py:3" in body and "module-level problem" in body and MARKER.search(body)
    again = post(server, [off, finding(5)])
    assert (again.reviews, again.in_body, again.unchanged) == (0, 0, 2)


def test_rejected_inline_comments_are_moved_into_the_body(server):
    server.diff_lines = {"app/service.py": {1, 2, 3}}  # GitHub's view of the diff is narrower than ours
    outcome = post(server, [finding(5)])
    assert outcome.reviews == 1 and outcome.comments == 0 and outcome.in_body == 1
    assert outcome.warnings and "refused" in outcome.warnings[0]
    assert server.comments == [] and "blocking call" in server.reviews[0]["body"]
    assert post(server, [finding(5)]).reviews == 0  # and not repeated


def test_read_only_token_raises_read_only(server):
    server.read_only = True
    with pytest.raises(GitHubError) as err:
        post(server, [finding(5)])
    assert err.value.status == 403 and err.value.read_only
    assert not GitHubError("answered 403: API rate limit exceeded", 403).read_only


def test_server_errors_on_reads_are_retried_once(server):
    server.fail_next(502, "Bad Gateway")
    assert post(server, [finding(5)]).comments == 1
    server.fail_next(502, "Bad Gateway", times=2)
    with pytest.raises(GitHubError, match="502"):
        post(server, [finding(6)])
