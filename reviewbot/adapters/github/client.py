"""GitHub's REST API over urllib: authenticated requests, pagination, same-origin redirects, API errors."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import IO, Any
from urllib.parse import urlsplit

from reviewbot.adapters.github import _LINK_NEXT, API_VERSION, GitHubError
from reviewbot.reporters.base import sanitize_terminal


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """urllib keeps the Authorization header across redirects; never follow one to another host."""

    def __init__(self, origin: tuple[str, str]) -> None:
        self.origin = origin

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        if tuple(urlsplit(newurl)[:2]) != self.origin:
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GitHubClient:
    """A minimal REST client: JSON in and out, bearer token, Link-header pagination, same-origin only."""

    def __init__(self, api_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base = api_url.rstrip("/")
        parts = urlsplit(self.base)
        self.origin = (parts.scheme, parts.netloc)  # what the checks compare urlsplit(url)[:2] with
        self.timeout = timeout
        self._token = token
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self.origin))

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
