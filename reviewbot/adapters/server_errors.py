"""Reading a server's failure: its reason on one line, the pause it asks for, and what kind of failure it is.

Real servers differ in how they say no (docs/offline.md). A request larger than the server's context (400/500
"Context size has been exceeded", "maximum context length", "context_length_exceeded" ...) is a context overflow:
the request is too large, the server is not at fault. A 429 or 503 says the server is crowded. A refused
connection says nothing listens there. Whatever a server says reaches the user's terminal only through `one_line`:
no escape sequences or control characters, cut after MAX_REASON_CHARS.

The functions that tell the `openai` package's exception types apart import it when called: they are only
reached once a ChatModel exists, and importing openai at start-up costs ~0.45 s.
"""

from __future__ import annotations

import email.utils
import json
import re
import time

from reviewbot.adapters.response_format import rejects_format

MAX_REASON_CHARS = 500  # a server's reason, on one line, is cut after this many characters
RETRY_STATUSES = frozenset({408, 409, 429})  # retried like any 5xx

# What servers say when a request does not fit their context (llama-server, vLLM, OpenAI, LM Studio, Ollama).
_OVERFLOW = re.compile(
    r"context size has been exceeded|exceeds? the (?:available )?context|maximum context length|context_length_exceeded"
    r"|exceed_context_size|too many tokens|context window|prompt is too long|input is too long|longer than the "
    r"model's context|n_ctx|requested tokens? \(\d+\) exceed",
    re.IGNORECASE,
)

# A server's error text ends up on the user's terminal: no escape sequences (CSI, OSC such as clipboard writes),
# control characters or bidi overrides from it.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """Server text fit for a terminal: no escape sequences or control characters, all of it on one line, cut with
    an ellipsis after `limit` characters."""
    text = " ".join(_UNPRINTABLE.sub(" ", _ESCAPE_SEQUENCE.sub("", text)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def exception_line(exc: BaseException) -> str:
    """An exception's text on one line, or its type's name when it has none."""
    return one_line(str(exc)) or type(exc).__name__


def server_reason(exc: Exception) -> str:
    """The server's own words for an HTTP error: the message of an OpenAI-style error body, FastAPI's `detail`,
    or the raw body, on one line (a pydantic validation error's cause is on its second line)."""
    body = getattr(exc, "body", None)
    found = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            found = inner.get("message") or inner.get("detail")
        elif isinstance(inner, str):
            found = inner
        if found is None and "detail" in body:
            found = body["detail"]
    elif isinstance(body, str):
        found = body
    if found is not None and not isinstance(found, str):
        found = json.dumps(found, ensure_ascii=False, default=str)[:4 * MAX_REASON_CHARS]
    inner = body.get("error", body) if isinstance(body, dict) else None
    code = inner.get("code") if isinstance(inner, dict) else None
    if found and isinstance(code, str) and code not in found:
        found = f"{found} ({code})"  # OpenAI's context_length_exceeded is in the code, not the message
    if not found:
        found = getattr(exc, "message", None) or str(exc)
    return one_line(str(found)) or type(exc).__name__


def retry_after(exc: Exception) -> float | None:
    """The pause a server asked for (retry-after-ms, Retry-After in seconds or as an HTTP date), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            when = email.utils.parsedate_tz(value)
            if when is None:
                continue
            seconds = email.utils.mktime_tz(when) - time.time()
        if seconds == seconds:  # not NaN
            return max(seconds, 0.0)
    return None


def is_context_overflow(exc: Exception, reason: str) -> bool:
    """The server said the request does not fit its context (413, or a 4xx/5xx in the known wording)."""
    status = getattr(exc, "status_code", None)
    return status == 413 or (status in (400, 422, 500, 503) and bool(_OVERFLOW.search(reason)))


def congestion(exc: Exception) -> str | None:
    """"HTTP 429" or "HTTP 503" when the server said it is overloaded, else None."""
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status in (429, 503) else None


def connection_refused(exc: BaseException) -> bool:
    """True when the connection was refused outright (nothing listens there), anywhere in the cause chain."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, ConnectionRefusedError):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def is_retryable(exc: Exception) -> bool:
    """Worth another attempt: connection errors and timeouts, 408, 409, 429 and 5xx, unless the server said
    otherwise in x-should-retry."""
    import openai

    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    if not isinstance(exc, openai.APIStatusError):
        return False
    said = exc.response.headers.get("x-should-retry")  # a server's explicit word wins
    if said in ("true", "false"):
        return said == "true"
    return exc.status_code in RETRY_STATUSES or exc.status_code >= 500


def failure_kind(exc: Exception, rung: str = "none") -> str | None:
    """The kinds of failure that say the endpoint is down (the circuit breaker counts them), else None. A request
    too large for the server's context, or a response_format (`rung`) it refuses, says nothing about the endpoint."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return "auth"
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        reason = server_reason(exc)
        if is_context_overflow(exc, reason) or rejects_format(exc.status_code, rung, reason):
            return None
        return "server error"
    return None


def endpoint_failed(exc: Exception) -> bool:
    """The endpoint itself failed (unreachable, timing out, rejecting the key, no such model): every later request
    of the run would fail the same way."""
    import openai

    return isinstance(exc, (openai.APIConnectionError, openai.AuthenticationError, openai.PermissionDeniedError,
                            openai.NotFoundError))


def explain(exc: Exception, where: str, waited: float) -> str:
    """The failure as a sentence about `where` (the model and endpoint); `waited` is the timeout that ran out."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"{where} did not answer within {waited:g} s (set --timeout to wait longer)"
    if isinstance(exc, openai.APIConnectionError):
        return f"could not connect to {where}: {exception_line(exc)}"
    if isinstance(exc, openai.AuthenticationError):
        return f"{where} rejected the API key (HTTP 401); check OPENAI_API_KEY"
    if isinstance(exc, openai.NotFoundError):
        return f"{where} answered 404: the model or the endpoint path does not exist (check --model and --base-url)"
    if isinstance(exc, openai.RateLimitError):
        return f"{where} answered 429 (rate limited)"
    if isinstance(exc, openai.APIStatusError):
        return f"{where} answered HTTP {exc.status_code}: {server_reason(exc)}"
    return f"{where} failed: {exception_line(exc)}"
