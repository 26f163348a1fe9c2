"""The one place that talks to a model: Chat Completions through the `openai` package.

Any OpenAI-compatible server works (OpenAI, Azure's v1 endpoint, Ollama, vLLM, LM Studio, llama.cpp).
Retries are reviewbot's own (the SDK's are switched off) so that they are bounded in count *and* time: 429
(honouring Retry-After up to MAX_RETRY_AFTER), 408/409, 5xx and connection errors and timeouts are retried with
exponential backoff and jitter, at most `max_retries` times; a server asking for a longer pause is not waited
for. Once the endpoint itself has failed (unreachable, timing out, rejecting the key, unknown model), later
requests of the same run fail at once instead of repeating the wait. A refused connection is not retried at
all. With the run's RequestGate (`gate`, reviewbot/adapters/request_flow.py) every attempt goes through it: it caps how many are
in flight, counts failed attempts, and its circuit breaker stops the run when the endpoint is down. Errors leave
this module as ModelError sentences that name the model and the endpoint and keep the server's whole reason on
one line, never the key.

Real servers differ in what they accept and how they say no (docs/offline.md):
- response_format: `auto` asks for json_schema, then json_object, then nothing, stepping down when a server
  rejects a format: with a 4xx, or with a 5xx whose body names the format (llama-cpp-python answers json_schema
  with a 500 "Input should be 'text' or 'json_object'"). The rung that works is remembered per endpoint for the run
  (one FormatLadder shared by every model of the run) and reported with each answer.
- A request larger than the server's context (400/500 "Context size has been exceeded", "maximum context length",
  "context_length_exceeded" ...) raises ContextOverflowError at once: the request is too large, the server is not
  at fault, so it is neither retried as is nor counted against the endpoint.
- Timeouts: the `timeout` setting when given; else 120 s for hosted endpoints, and for local ones (loopback, private
  networks, single-label hosts) 60 s plus 1 s per 8 requested answer tokens (CPU servers generate slowly).
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from reviewbot.core.errors import ConfigError, ContextOverflowError, ModelError

if TYPE_CHECKING:
    import openai

    from reviewbot.adapters.request_flow import RequestGate

DEFAULT_OPENAI_URL = "https://api.openai.com/v1"

INITIAL_BACKOFF = 0.5  # seconds before the first retry; doubled each time, minus up to 25% jitter
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 30.0  # longest Retry-After honoured: a pre-commit hook must not hang for minutes
_RETRY_STATUSES = frozenset({408, 409, 429})
# With a RequestGate (reviewbot/adapters/request_flow.py) the run sends fewer requests at once after a 429/503, so such a
# request is tried again up to this many times without using up `max_retries`: it is waiting, not failing.
CONGESTION_RETRIES = 8

RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")
HOSTED_TIMEOUT = 120.0  # seconds, for endpoints on the internet
LOCAL_TIMEOUT_BASE = 60.0  # seconds, for local endpoints, plus:
LOCAL_TOKENS_PER_SECOND = 8.0  # the slowest generation speed a local server is waited for
MAX_REASON_CHARS = 500  # a server's reason, on one line, is cut after this many characters

# What servers say when a request does not fit their context (llama-server, vLLM, OpenAI, LM Studio, Ollama).
_OVERFLOW = re.compile(
    r"context size has been exceeded|exceeds? the (?:available )?context|maximum context length|context_length_exceeded"
    r"|exceed_context_size|too many tokens|context window|prompt is too long|input is too long|longer than the "
    r"model's context|n_ctx|requested tokens? \(\d+\) exceed",
    re.IGNORECASE,
)
# What servers say when they do not support a response_format (a 5xx must say so to count as a rejection).
_FORMAT_REJECTED = re.compile(
    r"response_format|json_schema|json_object|input should be 'text'|structured output|guided_json|grammar",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    model: str
    base_url: str | None = None  # None: the SDK default (OPENAI_BASE_URL or api.openai.com)
    api_key: str | None = field(default=None, repr=False)
    timeout: float | None = None  # None: by endpoint kind and requested tokens (timeout_for)
    max_retries: int = 3
    temperature: float | None = 0.0
    seed: int | None = 0
    max_answer_tokens: int = 4096
    response_format: str = "auto"

    @property
    def is_local(self) -> bool:
        return is_local_url(self.base_url or DEFAULT_OPENAI_URL)

    def timeout_for(self, max_tokens: int) -> float:
        """Seconds to wait for one answer of at most `max_tokens` tokens."""
        if self.timeout is not None:
            return float(self.timeout)
        if self.is_local:
            return LOCAL_TIMEOUT_BASE + max_tokens / LOCAL_TOKENS_PER_SECOND
        return HOSTED_TIMEOUT

    @property
    def endpoint(self) -> str:
        """The endpoint as shown to the user: without a user name, password or query (they may hold a key)."""
        url = (self.base_url or DEFAULT_OPENAI_URL).rstrip("/")
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


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    response_format: str = "none"  # the rung of the format ladder the answer was asked with
    max_tokens: int = 0  # the answer allowance it was asked with
    cached_tokens: int = 0  # prompt tokens the server read from its prompt cache, when it says so
    tool_calls: tuple[tuple[str, str, str], ...] = ()  # (id, function name, JSON arguments) the model asked for

    @property
    def cut_off(self) -> bool:
        """The answer hit the token limit: whatever it holds is not the whole answer."""
        return self.finish_reason == "length"


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


class FormatLadder:
    """The response formats still to try with one endpoint, best first; shared by every model of a run."""

    def __init__(self, setting: str = "auto") -> None:
        if setting not in RESPONSE_FORMATS:
            raise ConfigError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, not {setting!r}")
        self.setting = setting
        self._rungs = {"auto": ["json_schema", "json_object", "none"], "json_schema": ["json_schema"],
                       "json_object": ["json_object"], "none": ["none"]}[setting]
        self._lock = threading.Lock()
        self.rejections: list[str] = []  # why each rung was left, for the user

    @property
    def current(self) -> str:
        with self._lock:
            return self._rungs[0]

    def step_down(self, rejected: str, reason: str) -> bool:
        """Leave `rejected` for the next rung; False when there is none. Another thread may have stepped already."""
        with self._lock:
            if self._rungs[0] != rejected:
                return True
            if len(self._rungs) == 1:
                return False
            self._rungs.pop(0)
            self.rejections.append(f"{rejected}: {reason}")
            return True


class ToolsUnsupported(ModelError):
    """The server refused a request that offered tools (it has no tool support)."""


class ChatModel:
    """Sends message lists and returns the answer text; remembers which response_format the server accepts."""

    def __init__(self, settings: ModelSettings, *, use_schema: dict | None = None,
                 ladder: FormatLadder | None = None) -> None:
        import openai  # deferred: importing openai costs ~0.45 s, and --help/--version must stay fast

        timeout = settings.timeout
        if timeout is not None and not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
                                        and math.isfinite(timeout) and timeout > 0):
            # httpx rejects these only when the request is sent, some of them with a traceback (inf overflows)
            raise ConfigError(f"timeout must be a positive number of seconds, not {settings.timeout!r}")
        self.settings = settings
        self._openai = openai
        # Without a key (none set, or withheld from an endpoint the user has not trusted) nothing else that
        # identifies the user's account goes either: the SDK would add OPENAI_ORG_ID / OPENAI_PROJECT_ID headers.
        anonymous = {"OpenAI-Organization": openai.Omit(), "OpenAI-Project": openai.Omit()}
        self._client = openai.OpenAI(
            api_key=settings.api_key or "not-needed",  # local servers accept any key; the SDK insists on one
            base_url=settings.base_url,
            timeout=settings.timeout_for(settings.max_answer_tokens),
            max_retries=0,  # retries are ours: see the module docstring
            # The SDK drops a header whose value is Omit(); its annotation allows only str values.
            default_headers=None if settings.api_key else anonymous,  # type: ignore[arg-type]
        )
        self._schema = use_schema
        self.ladder = ladder or FormatLadder(settings.response_format)
        self._lock = threading.Lock()
        self._broken: str | None = None  # set once the endpoint itself failed; later calls fail fast with it
        self.gate: RequestGate | None = None  # the run's RequestGate (reviewbot/adapters/request_flow.py): concurrency and circuit breaker, if any

    def describe(self) -> str:
        return f"model '{self.settings.model}' at {self.settings.endpoint}"

    def complete(
        self, messages: list[dict[str, str]], *, seed: int | None = None, schema: dict | None = None,
        schema_name: str = "review", max_tokens: int | None = None, tools: list[dict] | None = None,
    ) -> Completion:
        """One answer. `schema` replaces the constructor's schema for this call (e.g. the verification pass);
        `max_tokens` the answer allowance. Which rung of the format ladder the server accepts is shared by every
        call. A cut answer (finish_reason "length") is returned as it is, for the caller to judge. With `tools` the
        model may answer with tool calls instead (no response format is asked for then: a grammar-constrained answer
        could not call a tool); a 400 to such a request raises ToolsUnsupported."""
        openai = self._openai
        max_tokens = max_tokens or self.settings.max_answer_tokens
        schema = schema if schema is not None else self._schema
        attempt = congested = 0
        while True:
            rung = self.ladder.current
            with self._lock:
                broken = self._broken
            if broken:
                raise ModelError(broken)
            try:
                return self._send(messages, "none" if tools else rung, schema, schema_name, seed, max_tokens, tools)
            except openai.APIError as exc:
                if isinstance(exc, openai.APIStatusError):
                    reason = _reason(exc)
                    if _overflow(exc, reason):
                        raise ContextOverflowError(
                            f"the request is too large for the context of {self.describe()} "
                            f"(HTTP {exc.status_code}: {self._clean(reason)})"
                        ) from None
                    if not tools and self._format_rejected(exc, rung, reason):
                        if self.ladder.step_down(rung, self._clean(reason)):
                            continue
                        raise ModelError(self._explain(exc) + self._format_hint(rung)) from None
                    if isinstance(exc, openai.BadRequestError):
                        raise (ToolsUnsupported if tools else ModelError)(self._explain(exc)) from None
                waiting = getattr(exc, "reviewbot_crowded", False) and self.settings.max_retries > 0
                wait = self._retry_wait(exc, congested if waiting else attempt,
                                        limit=max(CONGESTION_RETRIES, self.settings.max_retries) if waiting else None)
                if wait is None:
                    raise self._give_up(exc, attempt + congested, max_tokens) from None
                (self.gate.sleep if self.gate is not None else time.sleep)(wait)
                if waiting:
                    congested += 1
                else:
                    attempt += 1

    def _send(self, messages: list[dict[str, str]], rung: str, schema: dict | None, schema_name: str,
              seed: int | None, max_tokens: int,
              tools: list[dict] | None = None) -> Completion:
        """One attempt on the wire, through the run's gate when there is one (which counts it)."""
        gate = self.gate
        if gate is None:
            return self._create(messages, rung, schema, schema_name, seed, max_tokens, tools)
        ticket = gate.acquire()
        try:
            completion = self._create(messages, rung, schema, schema_name, seed, max_tokens, tools)
        except Exception as exc:
            congestion = _congestion(exc)
            if congestion is not None and not _overflow(exc, _reason(exc)):
                # Turned away while others were in flight: the gate sends fewer at once, this one waits its turn.
                exc.reviewbot_crowded = gate.congested(ticket, congestion, _retry_after(exc))  # type: ignore[attr-defined]
            else:
                gate.failed(ticket, self._failure_kind(exc, rung), self._explain(exc), at_once=_refused(exc))
            raise
        gate.succeeded(ticket)
        return completion

    def _failure_kind(self, exc: Exception, rung: str = "none") -> str | None:
        """The kinds of failure that say the endpoint is down (the circuit breaker counts them), else None. A request
        too large for the server's context, or a response_format it refuses, says nothing about the endpoint."""
        openai = self._openai
        if isinstance(exc, openai.APITimeoutError):
            return "timeout"
        if isinstance(exc, openai.APIConnectionError):
            return "connection"
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return "auth"
        if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
            reason = _reason(exc)
            if _overflow(exc, reason) or self._format_rejected(exc, rung, reason):
                return None
            return "server error"
        return None

    @staticmethod
    def _format_rejected(exc: openai.APIStatusError, rung: str, reason: str) -> bool:
        """A server saying no to the response_format: any 4xx but those about the key, model, path or rate, or a
        5xx whose body names the format."""
        if rung == "none":
            return False
        status = exc.status_code
        if 400 <= status < 500 and status not in (401, 403, 404, 408, 409, 429):
            return True
        return status >= 500 and bool(_FORMAT_REJECTED.search(reason))

    def _format_hint(self, rung: str) -> str:
        if self.ladder.setting == "auto":
            return ""
        return f" (response_format = {rung} is set; try response_format = \"auto\")"

    def _retryable(self, exc: Exception) -> bool:
        openai = self._openai
        if isinstance(exc, openai.APIConnectionError):  # timeouts included
            return True
        if not isinstance(exc, openai.APIStatusError):
            return False
        said = exc.response.headers.get("x-should-retry")  # a server's explicit word wins
        if said in ("true", "false"):
            return said == "true"
        return exc.status_code in _RETRY_STATUSES or exc.status_code >= 500

    def _retry_wait(self, exc: Exception, attempt: int, limit: int | None = None) -> float | None:
        """Seconds to wait before retrying after `exc`, or None to give up now."""
        if attempt >= (self.settings.max_retries if limit is None else limit) or not self._retryable(exc):
            return None
        if _refused(exc):
            return None  # nothing listens on that port: waiting will not change that within a review
        asked = _retry_after(exc)
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
        return min(INITIAL_BACKOFF * 2**attempt, MAX_BACKOFF) * (1 - 0.25 * random.random())

    def _give_up(self, exc: Exception, attempt: int, max_tokens: int = 0) -> ModelError:
        openai = self._openai
        message = self._explain(exc, max_tokens)
        asked = _retry_after(exc)
        if (asked is not None and asked > MAX_RETRY_AFTER and attempt < self.settings.max_retries
                and self._retryable(exc)):
            message += f" and asked to wait {asked:g} s before retrying, longer than reviewbot waits; try again later"
        elif attempt:
            message += f" (gave up after {attempt} {'retry' if attempt == 1 else 'retries'})"
        endpoint_down = (openai.APIConnectionError, openai.AuthenticationError, openai.PermissionDeniedError,
                         openai.NotFoundError)
        if isinstance(exc, endpoint_down):
            with self._lock:
                self._broken = self._broken or message
        return ModelError(message)

    def _create(self, messages: list[dict[str, str]], rung: str, schema: dict | None, schema_name: str,
                seed: int | None, max_tokens: int,
                tools: list[dict] | None = None) -> Completion:
        s = self.settings
        kwargs: dict = {"model": s.model, "messages": messages, "max_tokens": max_tokens,
                        "timeout": s.timeout_for(max_tokens)}
        if tools:
            kwargs["tools"] = tools
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        chosen_seed = s.seed if seed is None else seed
        if chosen_seed is not None:
            kwargs["seed"] = chosen_seed
        if rung == "json_schema" and schema is not None:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": schema_name, "strict": True, "schema": schema}}
        elif rung in ("json_schema", "json_object"):
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = self._client.chat.completions.create(**kwargs)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a 200 that is not JSON: a proxy's HTML page
            raise ModelError(
                f"{self.describe()} answered with a body that is not JSON ({_short(exc)}); is the base URL an "
                "OpenAI-compatible /v1 endpoint?"
            ) from None
        # The SDK does not validate answers, so an odd server can hand back any shape: read it defensively.
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise ModelError(f"{self.describe()} returned no choices (the answer is not a chat completion)")
        choice = choices[0]
        content = getattr(getattr(choice, "message", None), "content", None)
        finish_reason = getattr(choice, "finish_reason", None)
        finish_reason = finish_reason if isinstance(finish_reason, str) else None
        text = content if isinstance(content, str) else ""
        usage = getattr(response, "usage", None)
        tokens_in = _count(getattr(usage, "prompt_tokens", 0))
        tokens_out = _count(getattr(usage, "completion_tokens", 0))
        cached_tokens = _count(getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", 0))
        calls = _tool_calls(getattr(choice, "message", None)) if tools else ()
        if calls:
            return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason,
                              max_tokens=max_tokens, cached_tokens=cached_tokens, tool_calls=calls)
        if not text.strip() and finish_reason != "length":
            reason = finish_reason or "unknown"
            raise ModelError(f"{self.describe()} returned an empty answer (finish reason: {reason})")
        # An empty answer cut off by the limit (a reasoning model that spent it all thinking) goes back as a cut answer.
        used = "json_schema" if rung == "json_schema" and schema is not None else (
            "json_object" if rung != "none" else "none")
        return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason,
                          response_format=used, max_tokens=max_tokens, cached_tokens=cached_tokens)

    def _explain(self, exc: Exception, max_tokens: int = 0) -> str:
        return self._clean(self._explain_raw(exc, max_tokens or self.settings.max_answer_tokens))

    def _clean(self, text: str) -> str:
        key = self.settings.api_key
        if key and len(key) >= 4:
            text = text.replace(key, "***")  # a server may echo the key back; it never reaches the user's screen
        return text

    def _explain_raw(self, exc: Exception, max_tokens: int) -> str:
        openai = self._openai
        where = self.describe()
        if isinstance(exc, openai.APITimeoutError):
            waited = self.settings.timeout_for(max_tokens)
            return f"{where} did not answer within {waited:g} s (set --timeout to wait longer)"
        if isinstance(exc, openai.APIConnectionError):
            return f"could not connect to {where}: {_short(exc)}"
        if isinstance(exc, openai.AuthenticationError):
            return f"{where} rejected the API key (HTTP 401); check OPENAI_API_KEY"
        if isinstance(exc, openai.NotFoundError):
            return f"{where} answered 404: the model or the endpoint path does not exist (check --model and --base-url)"
        if isinstance(exc, openai.RateLimitError):
            return f"{where} answered 429 (rate limited)"
        if isinstance(exc, openai.APIStatusError):
            return f"{where} answered HTTP {exc.status_code}: {_reason(exc)}"
        return f"{where} failed: {_short(exc)}"


def _tool_calls(message: object) -> tuple[tuple[str, str, str], ...]:
    """The function calls of an answer, read defensively (an odd server can send any shape)."""
    out = []
    for i, call in enumerate(getattr(message, "tool_calls", None) or ()):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        arguments = getattr(function, "arguments", None)
        if isinstance(name, str):
            call_id = getattr(call, "id", None)
            out.append((call_id if isinstance(call_id, str) and call_id else f"call_{i}", name,
                        arguments if isinstance(arguments, str) else "{}"))
    return tuple(out)


def _retry_after(exc: Exception) -> float | None:
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


def _overflow(exc: Exception, reason: str) -> bool:
    """The server said the request does not fit its context (413, or a 4xx/5xx in the known wording)."""
    status = getattr(exc, "status_code", None)
    return status == 413 or (status in (400, 422, 500, 503) and bool(_OVERFLOW.search(reason)))


def _congestion(exc: Exception) -> str | None:
    """"HTTP 429" or "HTTP 503" when the server said it is overloaded, else None."""
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status in (429, 503) else None


def _refused(exc: BaseException) -> bool:
    """True when the connection was refused outright (nothing listens there), anywhere in the cause chain."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, ConnectionRefusedError):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# A server's error text ends up on the user's terminal: no escape sequences (CSI, OSC such as clipboard writes),
# control characters or bidi overrides from it.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """Server text fit for a terminal: no escape sequences or control characters, all of it on one line, cut with
    an ellipsis after `limit` characters."""
    text = " ".join(_UNPRINTABLE.sub(" ", _ESCAPE_SEQUENCE.sub("", text)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _short(exc: Exception) -> str:
    return one_line(str(exc)) or type(exc).__name__


def _reason(exc: Exception) -> str:
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
