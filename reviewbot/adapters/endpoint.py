"""What an endpoint's URL alone says: whether it is local, how long to wait for an answer, how to show it.

Timeouts: the `timeout` setting when given (ModelSettings.timeout_for); else 120 s for hosted endpoints, and for
local ones (loopback, private networks, single-label hosts) 60 s plus 1 s per 8 requested answer tokens: CPU servers
generate slowly.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

DEFAULT_OPENAI_URL = "https://api.openai.com/v1"

HOSTED_TIMEOUT = 120.0  # seconds, for endpoints on the internet
LOCAL_TIMEOUT_BASE = 60.0  # seconds, for local endpoints, plus:
LOCAL_TOKENS_PER_SECOND = 8.0  # the slowest generation speed a local server is waited for


def is_local_url(url: str) -> bool:
    """Loopback, private-network and single-label hosts (localhost, 10.x, 192.168.x, `ollama` in a compose file)."""
    import ipaddress

    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    single_label = "." not in host and ":" not in host  # `ollama`, `llm`: a name on the local network
    if single_label or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def answer_timeout(url: str, max_tokens: int) -> float:
    """Seconds to wait at `url` for one answer of at most `max_tokens` tokens, when the user set no timeout."""
    if is_local_url(url):
        return LOCAL_TIMEOUT_BASE + max_tokens / LOCAL_TOKENS_PER_SECOND
    return HOSTED_TIMEOUT


def shown_endpoint(url: str) -> str:
    """The endpoint as shown to the user: without a user name, password or query (they may hold a key)."""
    url = url.rstrip("/")
    parts = urlsplit(url)
    if not (parts.username or parts.password or parts.query or parts.fragment):
        return url
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
