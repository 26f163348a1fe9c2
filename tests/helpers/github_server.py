"""A stand-in for the part of the GitHub REST API that pull-request reviews use, on loopback, keeping state.

Set `GITHUB_API_URL` to `server.url`. The server validates like GitHub where it matters to reviewbot:
401 without a token, 403 "Resource not accessible by integration" for read-only (fork PR) tokens, 422 for review
comments off the diff (when `diff_lines` is set), 404 for unknown pulls and comments. Every request is recorded.

Routes (all under /repos/{owner}/{repo}):
  GET    /pulls/{n}                               the pull request (head/base sha)
  GET    /pulls/{n}/comments                      review comments, paginated (per_page, page, Link header)
  POST   /pulls/{n}/comments                      one review comment (line or subject_type "file")
  GET    /pulls/{n}/reviews                       reviews, paginated
  POST   /pulls/{n}/reviews                       a review with inline comments
  GET    /pulls/{n}/reviews/{id}/comments         the comments of one review
  PUT    /pulls/{n}/reviews/{id}/dismissals       dismiss a review
  PATCH  /pulls/comments/{id}                     edit a review comment's body
  DELETE /pulls/comments/{id}                     delete a review comment
  GET    /issues/{n}/comments, POST same          conversation comments (for a summary comment)
  PATCH  /issues/comments/{id}, DELETE same
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FORBIDDEN_MESSAGE = "Resource not accessible by integration"
DOCS = "https://docs.github.com/rest/pulls"
BOT_LOGIN = "github-actions[bot]"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]  # keys lower-cased
    json: Any  # parsed body, or None


class GitHubServer:
    """Loopback GitHub REST API for one repository and pull request.

    Attributes tests read or set:
      url          the GITHUB_API_URL, "http://127.0.0.1:PORT"
      owner, repo, pr, head_sha, base_sha, head_ref, base_ref
      requests     every RecordedRequest, in order
      reviews      stored reviews (dicts shaped like GitHub's)
      comments     stored review comments (dicts shaped like GitHub's), deleted ones removed
      issue_comments  stored conversation comments
      read_only    True: every write answers 403 "Resource not accessible by integration"
      diff_lines   None (accept any line) or {path: {commentable RIGHT-side lines}}; see GitRepo.diff_lines
      left_diff_lines  {path: {commentable LEFT-side lines}} for side=LEFT comments
      token        None (any "Bearer x"/"token x" is accepted) or the one token accepted
      max_comments_per_review  None, or the most inline comments one review may carry (else 422)
      most_comments_in_one_review  the largest inline comment count seen in a single review request
      login        the user that owns comments posted through the API
    """

    def __init__(self, owner: str = "acme", repo: str = "shop", pr: int = 7, *, head_sha: str = "h" * 40,
                 base_sha: str = "b" * 40, token: str | None = None) -> None:
        self.owner, self.repo, self.pr = owner, repo, pr
        self.head_sha, self.base_sha = head_sha, base_sha
        self.head_ref, self.base_ref = "feature", "main"
        self.token = token
        self.login = BOT_LOGIN
        self.read_only = False
        self.diff_lines: dict[str, set[int]] | None = None
        self.left_diff_lines: dict[str, set[int]] = {}
        self.max_comments_per_review: int | None = None
        self.most_comments_in_one_review = 0
        self.requests: list[RecordedRequest] = []
        self.reviews: list[dict] = []
        self.comments: list[dict] = []
        self.issue_comments: list[dict] = []
        self._failures: list[tuple[int, dict, dict[str, str]]] = []
        self._ids = itertools.count(1001)
        self._lock = threading.RLock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"github-server-{self.port}", daemon=True)
        self._thread.start()

    # scripting ----------------------------------------------------------------------------------------------------

    def fail_next(self, status: int, message: str = "Server Error", *, headers: dict[str, str] | None = None,
                  times: int = 1) -> None:
        """Answer the next `times` requests (any route) with this error, e.g. 502 or a 403 rate limit."""
        with self._lock:
            self._failures.extend([(status, {"message": message}, dict(headers or {}))] * times)

    def add_comment(self, path: str, line: int, body: str, *, login: str = "alice", side: str = "RIGHT",
                    start_line: int | None = None, review_id: int | None = None) -> dict:
        """Store a review comment as if someone (a human by default) had written it before the run."""
        with self._lock:
            return self._store_comment({"path": path, "line": line, "side": side, "start_line": start_line,
                                        "body": body}, review_id=review_id, login=login, commit_id=self.head_sha)

    def use_repo(self, repo: Any, base: str, head: str = "HEAD") -> None:
        """Take base/head shas and the commentable lines from a tests.helpers.GitRepo (merge-base diff, like a PR)."""
        self.base_sha, self.head_sha = repo.rev(base), repo.rev(head)
        self.diff_lines = repo.diff_lines(self.base_sha, self.head_sha)

    # inspection ---------------------------------------------------------------------------------------------------

    def comments_by(self, login: str | None = None) -> list[dict]:
        """Stored review comments, by default those written through the API (the bot's)."""
        login = login or self.login
        with self._lock:
            return [c for c in self.comments if c["user"]["login"] == login]

    def writes(self) -> list[RecordedRequest]:
        """Recorded requests that are not GETs."""
        with self._lock:
            return [r for r in self.requests if r.method != "GET"]

    # lifecycle ----------------------------------------------------------------------------------------------------

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> GitHubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GitHubServer({self.url}, {self.owner}/{self.repo}#{self.pr}, reviews={len(self.reviews)}, " \
               f"comments={len(self.comments)})"

    # request handling (called by the handler, under the lock) ----------------------------------------------------

    def _handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            payload = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            payload, bad_json = None, True
        with self._lock:
            self.requests.append(RecordedRequest(method, parts.path, query, headers, payload))
            if self._failures:
                return self._failures.pop(0)
            auth = _token_of(headers.get("authorization", ""))
            if auth is None:
                return _error(401, "Requires authentication")
            if self.token is not None and auth != self.token:
                return _error(401, "Bad credentials")
            if bad_json:
                return _error(400, "Problems parsing JSON")
            route = self._route(method, parts.path)
            if route is None:
                return _error(404, "Not Found")
            if method != "GET" and self.read_only:
                return _error(403, FORBIDDEN_MESSAGE)
            handler, args = route
            return handler(*args, payload=payload if isinstance(payload, dict) else {}, query=query)

    def _route(self, method: str, path: str) -> tuple[Any, tuple] | None:
        prefix = f"/repos/{self.owner}/{self.repo}"
        if not path.startswith(prefix + "/"):
            return None
        rest = path[len(prefix):].rstrip("/")
        # (verb, pattern, handler); patterns under /pulls/{n} and /issues/{n} start with the pull number.
        table = [
            ("GET", r"/pulls/(\d+)", self._get_pull),
            ("GET", r"/pulls/(\d+)/comments", self._list_comments),
            ("POST", r"/pulls/(\d+)/comments", self._create_comment),
            ("GET", r"/pulls/(\d+)/reviews", self._list_reviews),
            ("POST", r"/pulls/(\d+)/reviews", self._create_review),
            ("GET", r"/pulls/(\d+)/reviews/(\d+)/comments", self._list_review_comments),
            ("PUT", r"/pulls/(\d+)/reviews/(\d+)/dismissals", self._dismiss_review),
            ("PATCH", r"/pulls/comments/(\d+)", self._update_comment),
            ("DELETE", r"/pulls/comments/(\d+)", self._delete_comment),
            ("GET", r"/issues/(\d+)/comments", self._list_issue_comments),
            ("POST", r"/issues/(\d+)/comments", self._create_issue_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._update_issue_comment),
            ("DELETE", r"/issues/comments/(\d+)", self._delete_issue_comment),
        ]
        for verb, pattern, handler in table:
            match = re.fullmatch(pattern, rest)
            if verb != method or not match:
                continue
            numbers = tuple(int(g) for g in match.groups())
            if "/comments/" not in pattern and numbers[0] != self.pr:  # only the one pull request exists
                return (lambda **_: _error(404, "Not Found")), ()
            return handler, numbers
        return None

    # pulls ------------------------------------------------------------------------------------------------------

    def _get_pull(self, number: int, **_: Any) -> tuple[int, Any, dict]:
        return 200, {
            "number": number, "state": "open", "title": "Change", "body": "",
            "url": f"{self.url}/repos/{self.owner}/{self.repo}/pulls/{number}",
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}",
            "user": {"login": "alice"},
            "head": {"sha": self.head_sha, "ref": self.head_ref, "repo": {"full_name": f"{self.owner}/{self.repo}"}},
            "base": {"sha": self.base_sha, "ref": self.base_ref, "repo": {"full_name": f"{self.owner}/{self.repo}"}},
        }, {}

    def _list_comments(self, number: int, *, query: dict, **_: Any) -> tuple[int, Any, dict]:
        return self._page(self.comments, query, f"/repos/{self.owner}/{self.repo}/pulls/{number}/comments")

    def _list_reviews(self, number: int, *, query: dict, **_: Any) -> tuple[int, Any, dict]:
        return self._page(self.reviews, query, f"/repos/{self.owner}/{self.repo}/pulls/{number}/reviews")

    def _list_review_comments(self, number: int, review_id: int, *, query: dict, **_: Any) -> tuple[int, Any, dict]:
        if self._find(self.reviews, review_id) is None:
            return _error(404, "Not Found")
        mine = [c for c in self.comments if c["pull_request_review_id"] == review_id]
        return self._page(mine, query, f"/repos/{self.owner}/{self.repo}/pulls/{number}/reviews/{review_id}/comments")

    def _create_review(self, number: int, *, payload: dict, **_: Any) -> tuple[int, Any, dict]:
        event = payload.get("event")
        states = {"COMMENT": "COMMENTED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "APPROVE": "APPROVED",
                  None: "PENDING"}
        if event not in states:
            return _error(422, "Unprocessable Entity", [f"event {event!r} is not one of COMMENT, REQUEST_CHANGES, "
                                                        "APPROVE"])
        commit_id = payload.get("commit_id") or self.head_sha
        if commit_id not in (self.head_sha, self.base_sha):
            return _error(422, "Unprocessable Entity", ["commit_id is not part of the pull request"])
        comments = payload.get("comments") or []
        if not isinstance(comments, list):
            return _error(422, "Invalid request.", ["For 'properties/comments', it is not an array."])
        self.most_comments_in_one_review = max(self.most_comments_in_one_review, len(comments))
        if self.max_comments_per_review is not None and len(comments) > self.max_comments_per_review:
            return _error(422, "Unprocessable Entity", [f"too many comments in one review ({len(comments)})"])
        if event in ("COMMENT", "REQUEST_CHANGES") and not payload.get("body") and not comments:
            return _error(422, "Unprocessable Entity", ["Review body can't be blank"])
        problems = [p for c in comments for p in self._comment_problems(c)]
        if problems:  # GitHub rejects the whole review, nothing is stored
            return _error(422, "Unprocessable Entity", problems)
        review = {
            "id": next(self._ids), "node_id": "PRR_test", "user": {"login": self.login},
            "body": payload.get("body") or "", "state": states[event], "commit_id": commit_id,
            "submitted_at": _now(), "author_association": "NONE",
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}#pullrequestreview",
            "pull_request_url": f"{self.url}/repos/{self.owner}/{self.repo}/pulls/{number}",
        }
        self.reviews.append(review)
        for comment in comments:
            self._store_comment(comment, review_id=review["id"], login=self.login, commit_id=commit_id)
        return 200, review, {}

    def _dismiss_review(self, number: int, review_id: int, *, payload: dict, **_: Any) -> tuple[int, Any, dict]:
        review = self._find(self.reviews, review_id)
        if review is None:
            return _error(404, "Not Found")
        if review["state"] not in ("APPROVED", "CHANGES_REQUESTED"):
            return _error(422, "Can not dismiss a commented pull request review")
        if not payload.get("message"):
            return _error(422, "Unprocessable Entity", ["message is missing"])
        review["state"] = "DISMISSED"
        return 200, review, {}

    # review comments ----------------------------------------------------------------------------------------------

    def _create_comment(self, number: int, *, payload: dict, **_: Any) -> tuple[int, Any, dict]:
        if payload.get("subject_type") == "file":
            path = payload.get("path")
            if not path or not payload.get("body"):
                return _error(422, "Unprocessable Entity", ["path and body are required"])
            if self.diff_lines is not None and path not in self.diff_lines:
                return _error(422, "Unprocessable Entity", ["Path could not be resolved"])
            comment = self._store_comment({**payload, "line": None}, review_id=None, login=self.login,
                                          commit_id=payload.get("commit_id") or self.head_sha)
            comment["subject_type"] = "file"
            return 201, comment, {}
        problems = self._comment_problems(payload)
        if problems:
            return _error(422, "Unprocessable Entity", problems)
        comment = self._store_comment(payload, review_id=None, login=self.login,
                                      commit_id=payload.get("commit_id") or self.head_sha)
        return 201, comment, {}

    def _update_comment(self, comment_id: int, *, payload: dict, **_: Any) -> tuple[int, Any, dict]:
        comment = self._find(self.comments, comment_id)
        if comment is None:
            return _error(404, "Not Found")
        if not payload.get("body"):
            return _error(422, "Unprocessable Entity", ["body is missing"])
        comment["body"] = payload["body"]
        comment["updated_at"] = _now()
        return 200, comment, {}

    def _delete_comment(self, comment_id: int, **_: Any) -> tuple[int, Any, dict]:
        comment = self._find(self.comments, comment_id)
        if comment is None:
            return _error(404, "Not Found")
        self.comments.remove(comment)
        return 204, None, {}

    def _comment_problems(self, comment: Any) -> list[str]:
        if not isinstance(comment, dict):
            return ["a comment is not an object"]
        path, line, body = comment.get("path"), comment.get("line"), comment.get("body")
        side = comment.get("side") or "RIGHT"
        start_line = comment.get("start_line")
        start_side = comment.get("start_side") or side
        if not path or not body:
            return ["path and body are required"]
        if comment.get("position") is not None and line is None:
            return ["position is deprecated here; send line and side"]
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            return [f"line must be a positive integer, got {line!r}"]
        if side not in ("RIGHT", "LEFT") or start_side not in ("RIGHT", "LEFT"):
            return [f"side must be RIGHT or LEFT, got {side!r}"]
        if start_line is not None:
            if not isinstance(start_line, int) or isinstance(start_line, bool) or start_line < 1:
                return [f"start_line must be a positive integer, got {start_line!r}"]
            if start_line >= line:
                return ["start_line must precede the end line"]
        allowed = self.left_diff_lines if side == "LEFT" else self.diff_lines
        if allowed is None:
            return []
        if path not in allowed:
            return ["Path could not be resolved"]
        lines = allowed[path]
        wanted = [line] if start_line is None else [start_line, line]
        if any(n not in lines for n in wanted):
            return ["Pull request review thread line must be part of the diff and Pull request review thread diff "
                    "hunk can't be blank"]
        return []

    def _store_comment(self, comment: dict, *, review_id: int | None, login: str, commit_id: str) -> dict:
        comment_id = next(self._ids)
        side = comment.get("side") or "RIGHT"
        start_line = comment.get("start_line")
        stored = {
            "id": comment_id, "node_id": f"PRRC_test{comment_id}", "pull_request_review_id": review_id,
            "path": comment["path"], "line": comment.get("line"), "original_line": comment.get("line"),
            "side": side, "start_line": start_line, "original_start_line": start_line,
            "start_side": (comment.get("start_side") or side) if start_line is not None else None,
            "body": comment["body"], "user": {"login": login}, "commit_id": commit_id,
            "original_commit_id": commit_id, "created_at": _now(), "updated_at": _now(), "diff_hunk": "",
            "subject_type": "line", "author_association": "NONE", "in_reply_to_id": comment.get("in_reply_to"),
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{self.pr}#discussion_r{comment_id}",
        }
        self.comments.append(stored)
        return stored

    # conversation comments ----------------------------------------------------------------------------------------

    def _list_issue_comments(self, number: int, *, query: dict, **_: Any) -> tuple[int, Any, dict]:
        return self._page(self.issue_comments, query, f"/repos/{self.owner}/{self.repo}/issues/{number}/comments")

    def _create_issue_comment(self, number: int, *, payload: dict, **_: Any) -> tuple[int, Any, dict]:
        if not payload.get("body"):
            return _error(422, "Unprocessable Entity", ["body is missing"])
        comment = {"id": next(self._ids), "body": payload["body"], "user": {"login": self.login},
                   "created_at": _now(), "updated_at": _now()}
        self.issue_comments.append(comment)
        return 201, comment, {}

    def _update_issue_comment(self, comment_id: int, *, payload: dict, **_: Any) -> tuple[int, Any, dict]:
        comment = self._find(self.issue_comments, comment_id)
        if comment is None:
            return _error(404, "Not Found")
        if not payload.get("body"):
            return _error(422, "Unprocessable Entity", ["body is missing"])
        comment.update(body=payload["body"], updated_at=_now())
        return 200, comment, {}

    def _delete_issue_comment(self, comment_id: int, **_: Any) -> tuple[int, Any, dict]:
        comment = self._find(self.issue_comments, comment_id)
        if comment is None:
            return _error(404, "Not Found")
        self.issue_comments.remove(comment)
        return 204, None, {}

    # shared -------------------------------------------------------------------------------------------------------

    def _page(self, items: list[dict], query: dict, path: str) -> tuple[int, Any, dict]:
        """GitHub pagination: per_page (default 30, max 100), page (from 1), Link header with next/last/prev/first."""
        try:
            per_page = min(max(int(query.get("per_page", 30)), 1), 100)
            page = max(int(query.get("page", 1)), 1)
        except ValueError:
            return _error(422, "Unprocessable Entity", ["per_page and page must be integers"])
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = [dict(item) for item in items[(page - 1) * per_page: page * per_page]]
        links = []

        def link(n: int, rel: str) -> str:
            return f'<{self.url}{path}?per_page={per_page}&page={n}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    @staticmethod
    def _find(items: list[dict], item_id: int) -> dict | None:
        return next((item for item in items if item["id"] == item_id), None)


def _token_of(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


def _error(status: int, message: str, errors: list[str] | None = None) -> tuple[int, dict, dict]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors:
        body["errors"] = errors
    return status, body, {}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: GitHubServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.server.owner._handle(self.command, self.path, headers, raw)
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


# --- CI environments that go with the stand-in ------------------------------------------------------------------------


def actions_env(tmp_path: Path, server: GitHubServer | None = None, *, base_sha: str | None = None,
                head_sha: str | None = None, pr: int | None = None, repository: str | None = None,
                token: str = "ghs_testtoken123", workspace: Path | None = None) -> dict[str, str]:
    """Environment variables of a GitHub Actions pull_request run, with the event payload written to tmp_path.

    With a server, its url, repository, pr and shas are used unless given. GITHUB_STEP_SUMMARY and GITHUB_OUTPUT are
    empty files under tmp_path that the test can read afterwards.
    """
    base_sha = base_sha or (server.base_sha if server else "b" * 40)
    head_sha = head_sha or (server.head_sha if server else "h" * 40)
    pr = pr or (server.pr if server else 7)
    repository = repository or (f"{server.owner}/{server.repo}" if server else "acme/shop")
    actions_dir = tmp_path / "_actions"
    actions_dir.mkdir(parents=True, exist_ok=True)
    event = {"action": "synchronize", "number": pr,
             "pull_request": {"number": pr, "head": {"sha": head_sha, "ref": "feature"},
                              "base": {"sha": base_sha, "ref": "main"}},
             "repository": {"full_name": repository}}
    event_path = actions_dir / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    summary, output = actions_dir / "step_summary.md", actions_dir / "output.txt"
    summary.touch()
    output.touch()
    env = {
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
        "GITHUB_REPOSITORY": repository, "GITHUB_SHA": head_sha, "GITHUB_REF": f"refs/pull/{pr}/merge",
        "GITHUB_HEAD_REF": "feature", "GITHUB_BASE_REF": "main", "GITHUB_TOKEN": token,
        "GITHUB_WORKSPACE": str(workspace or os.getcwd()), "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": server.url if server else "https://api.github.com",
        "RUNNER_TEMP": str(actions_dir),
    }
    return env


def gitlab_env(base_sha: str, head_sha: str, *, iid: int = 7, project: str = "acme/shop") -> dict[str, str]:
    """Environment variables of a GitLab merge-request pipeline."""
    return {
        "CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": str(iid), "CI_MERGE_REQUEST_DIFF_BASE_SHA": base_sha,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
        "CI_COMMIT_SHA": head_sha, "CI_PROJECT_PATH": project, "CI_SERVER_URL": "https://gitlab.example",
    }
