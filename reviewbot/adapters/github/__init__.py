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

import hashlib
import http.client
import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from reviewbot.core.models import Diff, FileDiff, Finding, Severity
from reviewbot.reporters.base import sanitize_terminal
from reviewbot.reporters.suggestion import advice, advice_heading, replacement

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


# --- the HTTP client -------------------------------------------------------------------------------------------------


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """urllib keeps the Authorization header across redirects; never follow one to another host."""

    def __init__(self, origin: tuple[str, str]) -> None:
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        if tuple(urlsplit(newurl)[:2]) != self.origin:
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GitHubClient:
    """A minimal REST client: JSON in and out, bearer token, Link-header pagination, same-origin only."""

    def __init__(self, api_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base = api_url.rstrip("/")
        self.origin = tuple(urlsplit(self.base)[:2])
        self.timeout = timeout
        self._token = token
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self.origin))  # type: ignore[arg-type]

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient({self.base})"

    def call(self, method: str, target: str, payload: Any = None) -> tuple[Any, dict[str, str]]:
        """One request; `target` is a path under the API or a full URL on the same host. Returns (json, headers)."""
        url = target if target.startswith(("http://", "https://")) else self.base + target
        if tuple(urlsplit(url)[:2]) != self.origin:
            raise GitHubError(f"refusing to send the token to {urlsplit(url).netloc} (not the GitHub API host)")
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "User-Agent": "reviewbot",
            "X-GitHub-Api-Version": API_VERSION,
        }
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        attempts = 2 if method == "GET" else 1  # a write is never repeated: it might have landed
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    raw = response.read()
                    answer_headers = {k.lower(): v for k, v in response.headers.items()}
            except urllib.error.HTTPError as exc:
                if exc.code >= 500 and attempt < attempts:
                    continue
                raise GitHubError(f"{method} {urlsplit(url).path} answered {exc.code}: {_api_message(exc)}",
                                  exc.code) from None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                if attempt < attempts:
                    continue
                reason = getattr(exc, "reason", None) or exc
                raise GitHubError(f"cannot reach {urlsplit(url).netloc}: {reason}") from None
            try:
                return (json.loads(raw) if raw.strip() else None), answer_headers
            except ValueError:
                raise GitHubError(f"{method} {urlsplit(url).path} answered something that is not JSON") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def paginate(self, path: str) -> list[Any]:
        """Every item of a list endpoint, following `Link: rel="next"` (100 per page)."""
        items: list[Any] = []
        target: str | None = path + ("&" if "?" in path else "?") + "per_page=100"
        pages = 0
        while target and pages < 100:  # 10,000 comments is far beyond any real pull request
            page, headers = self.call("GET", target)
            if not isinstance(page, list):
                raise GitHubError(f"GET {path} did not answer a list")
            items.extend(page)
            match = _LINK_NEXT.search(headers.get("link", ""))
            target = match.group(1) if match else None
            pages += 1
        return items


def _api_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    details = body.get("errors") if isinstance(body, dict) else None
    text = str(message or exc.reason or "error")
    if isinstance(details, list) and details:
        text += " (" + "; ".join(str(d.get("message", d) if isinstance(d, dict) else d) for d in details[:3]) + ")"
    return " ".join(sanitize_terminal(text).split())[:300]


# --- identity and placement ------------------------------------------------------------------------------------------


def _slug(category: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-") or "general"


def _squash(text: str) -> str:
    return " ".join(text.split())


def flagged_text(finding: Finding, diff: Diff) -> str:
    """What the finding points at: the flagged line's code, else the model's quote, else (last resort) its message."""
    f = diff.file(finding.path)
    line_text = f.new_line_text(finding.line) if f else None
    if line_text is not None and line_text.strip():
        return "line:" + _squash(line_text)
    if finding.quote and finding.quote.strip():
        return "line:" + _squash(finding.quote)
    return "message:" + _squash(finding.message)


def fingerprints(findings: Sequence[Finding], diff: Diff) -> list[str]:
    """One fingerprint per finding, independent of line numbers and wording; repeats made distinct in order."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        parts = ("reviewbot-pr/v1", finding.path, finding.agent, _slug(finding.category), flagged_text(finding, diff))
        base = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else hashlib.sha256(f"{base}/{n}".encode()).hexdigest()[:32])
    return out


@dataclass(frozen=True, slots=True)
class Placement:
    line: int
    start_line: int | None = None  # set when the comment spans lines
    whole_range: bool = True  # False when only the first line could be placed (no suggestion block then)


def placement(finding: Finding, f: FileDiff | None) -> Placement | None:
    """Where on the pull request's RIGHT side a comment can go: lines GitHub shows, inside one hunk."""
    if f is None or f.status == "deleted" or f.is_binary:
        return None
    for hunk in f.hunks:
        shown = set(hunk.new_lines)
        if finding.line not in shown:
            continue
        last = finding.last_line
        if last != finding.line and all(n in shown for n in range(finding.line, last + 1)):
            return Placement(line=last, start_line=finding.line)
        return Placement(line=finding.line, whole_range=last == finding.line)
    return None


# --- what a comment says ---------------------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """Model text made harmless for a GitHub comment while keeping its Markdown.

    GitHub sanitises HTML itself; what is left to stop is text that pings people (@user, @org/team), HTML comments
    (which could hide the rest of our comment or imitate our marker) and code fences that would swallow what follows.
    """
    text = sanitize_terminal(text)
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    text = _FENCE_RUN.sub(lambda m: "\\" + "\\".join(m.group(1)), text)
    return _MENTION.sub("@\u200b", text)


def _inline(text: str) -> str:
    """Untrusted text for our header line: one line, no Markdown or HTML of its own."""
    from reviewbot.reporters.markdown import escape_inline

    return escape_inline(text, 100)


def fence(code: str, info: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside, as GitHub requires for suggestions."""
    longest = max((len(m.group()) for m in _BACKTICK_RUN.finditer(code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{code}\n{ticks}"


def comment_body(finding: Finding, fp: str, *, suggestion_block: bool = True) -> str:
    header = f"**{finding.severity.label}** \u00b7 {_inline(finding.category) or 'general'}"
    if finding.agent:
        header += f" \u00b7 {_inline(finding.agent)}"
    parts = [header, "", neutralise(finding.message).strip()]
    # Only code written for exactly these lines becomes a block GitHub can apply; prose is advice (suggestion.py).
    suggestion = sanitize_terminal(replacement(finding) or "").removesuffix("\n")
    advised = advice(finding)
    if advised is not None:
        parts += ["", f"**{advice_heading(finding)}:**", "", fence(sanitize_terminal(advised).strip("\n"))]
    elif suggestion.strip():
        if suggestion_block:
            parts += ["", fence(suggestion, "suggestion")]
        else:
            lines = f"lines {finding.line}\u2013{finding.last_line}" if finding.last_line != finding.line else \
                f"line {finding.line}"
            parts += ["", f"Suggested replacement for {lines}:", "", fence(suggestion)]
    parts += ["", "<sub>reviewbot</sub>", _MARKER.format(fp)]
    return "\n".join(parts)


def _retired_body(old_body: str, fp: str, note: str) -> str:
    """A comment we no longer stand by: a struck-through note, the old text folded away, no live suggestion."""
    previous = _MARKER_AT_END.sub("", old_body).rstrip()
    previous = _SUGGESTION_FENCE.sub(r"\1", previous)  # a plain code block: nothing left to apply
    return "\n".join([_RESOLVED, note, "", "<details><summary>Previous comment</summary>", "", previous, "",
                      "</details>", _MARKER.format(fp)])


def body_entry(finding: Finding, fp: str) -> str:
    """One list item of the review body for a finding that has no diff line to sit on."""
    from reviewbot.reporters.markdown import escape_inline

    where = escape_inline(f"{finding.path}:{finding.line}")
    what = escape_inline(finding.message, 500)
    return f"- **{finding.severity.label}** {where} ({escape_inline(finding.category, 100)}): {what} " \
           + _MARKER.format(fp)


# --- existing comments -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExistingComment:
    id: int
    path: str
    line: int | None  # GitHub's current line; None when the comment is outdated
    fingerprint: str
    resolved: bool
    body: str


def is_ours(item: dict, login: str | None) -> bool:
    """Written by the account that runs reviewbot: the given login, else any GitHub App / Actions bot."""
    user = item.get("user") or {}
    name = str(user.get("login") or "")
    if login:
        return name == login
    return name.endswith("[bot]") or user.get("type") == "Bot"


def read_comment(item: dict) -> ExistingComment | None:
    body = str(item.get("body") or "")
    match = _MARKER_AT_END.search(body)
    if not match:
        return None
    line = item.get("line")
    return ExistingComment(id=int(item["id"]), path=str(item.get("path") or ""),
                           line=line if isinstance(line, int) else None, fingerprint=match.group(1),
                           resolved=body.startswith(_RESOLVED), body=body)


def body_fingerprints(review_bodies: Iterable[str]) -> set[str]:
    return {m.group(1) for body in review_bodies for m in _MARKER_IN_LIST.finditer(body or "")}


# --- the plan --------------------------------------------------------------------------------------------------------


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


# --- posting ---------------------------------------------------------------------------------------------------------


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
