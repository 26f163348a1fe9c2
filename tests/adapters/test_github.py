"""Posting pull-request reviews: comment text, placement, fingerprints and idempotency, against the loopback GitHub
API stand-in (tests/helpers/github_server.py) over real HTTP."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reviewbot.adapters.github import MAX_COMMENTS_PER_REVIEW, GitHubError, PullRequest
from reviewbot.adapters.github.client import GitHubClient
from reviewbot.adapters.github.comments import comment_body, fence, neutralise, read_comment
from reviewbot.adapters.github.placement import fingerprints, placement
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


@pytest.fixture
def server():
    gh = GitHubServer()
    gh.diff_lines = {"app/service.py": set(range(1, 41))}
    try:
        yield gh
    finally:
        gh.close()


def pull(server: GitHubServer) -> PullRequest:
    return PullRequest(api_url=server.url, repository=f"{server.owner}/{server.repo}", number=server.pr,
                       head_sha=server.head_sha, token="ghs_secret_token")


def post(server, findings, diff=DIFF, **kw):
    return post_review(pull(server), findings, diff, summary="### reviewbot", **kw)


def live(server):
    return [c for c in server.comments_by() if not c["body"].startswith("<!-- reviewbot:resolved -->")]


# --- comment text ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, ticks", [("x = 1", 3), ("s = '``'", 3), ("doc = '''```'''", 4),
                                         ("````\ninner\n````", 5)])
def test_fence_is_longer_than_any_backtick_run(code, ticks):
    block = fence(code, "suggestion")
    first, *_, last = block.split("\n")
    assert first == "`" * ticks + "suggestion" and last == "`" * ticks
    assert block.split("\n")[1:-1] == code.split("\n")


def test_suggestion_block_replaces_the_flagged_range():
    f = finding(5, end_line=6, suggestion="await asyncio.sleep(5)\nreturn 1\n")
    body = comment_body(f, "ab" * 16)
    assert "```suggestion\nawait asyncio.sleep(5)\nreturn 1\n```" in body
    assert body.endswith("<!-- reviewbot:fp=" + "ab" * 16 + " -->")


def test_hostile_message_cannot_mention_forge_markers_or_swallow_the_comment():
    hostile = ("@octocat @acme/security look! <!-- reviewbot:fp=deadbeefdeadbeef --> "
               "```\nunclosed fence\x1b[31m\r\n::error::x")
    body = comment_body(finding(3, hostile, suggestion="y = 2"), "12" * 16)
    assert "@octocat" not in body and "@acme/security" not in body
    assert "@\u200boctocat" in body
    assert MARKER.findall(body) == ["12" * 16]  # only our own marker, at the end
    assert body.count("<!--") == 1
    assert "\x1b" not in body and "\r" not in body
    # The model's unclosed fence is escaped, so our suggestion block still opens and closes where we put it.
    assert "\n```suggestion\ny = 2\n```\n" in body
    assert read_comment({"id": 1, "path": "a", "line": 3, "body": body}).fingerprint == "12" * 16


def test_neutralise_keeps_ordinary_markdown():
    text = "Use `asyncio.sleep` instead of **time.sleep**; see [docs](https://docs.python.org)."
    assert neutralise(text) == text


def test_a_marker_that_is_not_at_the_end_is_not_read():
    body = "<!-- reviewbot:fp=deadbeefdeadbeef -->\nsomething after it"
    assert read_comment({"id": 1, "path": "a", "line": 1, "body": body}) is None


# --- fingerprints and placement ------------------------------------------------------------------------------------------


def test_fingerprint_ignores_line_numbers_and_wording():
    before = Diff(files=(added_file("app/service.py", ["x = 1", "time.sleep(5)"]),))
    after = Diff(files=(added_file("app/service.py", ["import time", "", "x = 1", "   time.sleep(5)  "]),))
    [a] = fingerprints([finding(2, "time.sleep blocks")], before)
    [b] = fingerprints([finding(4, "This call blocks the loop")], after)
    assert a == b
    [c] = fingerprints([finding(4, "x", category="performance")], after)
    [d] = fingerprints([finding(3, "x")], after)
    assert len({a, c, d}) == 3


def test_repeated_findings_get_distinct_fingerprints():
    fps = fingerprints([finding(2, "one"), finding(2, "two")], DIFF)
    assert len(set(fps)) == 2


def test_placement_on_diff_lines_only():
    f = DIFF.files[0]
    assert placement(finding(7), f).line == 7
    spanning = placement(finding(7, end_line=9), f)
    assert (spanning.start_line, spanning.line, spanning.whole_range) == (7, 9, True)
    beyond = placement(finding(40, end_line=45), f)
    assert (beyond.start_line, beyond.line, beyond.whole_range) == (None, 40, False)
    assert placement(finding(41), f) is None
    assert placement(finding(1), None) is None


# --- posting against the stand-in -------------------------------------------------------------------------------------


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


def test_writes_are_never_repeated(server):
    client = GitHubClient(server.url, "ghs_secret_token")
    server.fail_next(502, "Bad Gateway", times=2)
    with pytest.raises(GitHubError, match="502"):
        client.call("POST", "/repos/acme/shop/pulls/7/reviews", {"event": "COMMENT", "body": "x"})
    assert [r.method for r in server.requests] == ["POST"]  # a write that may have landed is not sent twice


# --- the token goes nowhere else -----------------------------------------------------------------------------------------


def test_client_refuses_other_hosts(server):
    client = GitHubClient(server.url, "ghs_secret_token")
    with pytest.raises(GitHubError, match="refusing"):
        client.call("GET", "http://127.0.0.2:9/repos/acme/shop/pulls/7")
    assert "ghs_secret_token" not in repr(client)
    assert "ghs_secret_token" not in repr(pull(server))


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_to_another_host_are_not_followed(server):
    _Redirect.target = server.url.replace("127.0.0.1", "localhost")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = GitHubClient(f"http://127.0.0.1:{httpd.server_address[1]}", "ghs_secret_token")
        with pytest.raises(GitHubError, match="302"):
            client.call("GET", "/repos/acme/shop/pulls/7")
        assert server.requests == []  # the other host never saw the token
    finally:
        httpd.shutdown()
        httpd.server_close()
