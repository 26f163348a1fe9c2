"""The one place that talks to a model: Chat Completions through the `openai` package.

Any OpenAI-compatible server works (OpenAI, Azure's v1 endpoint, Ollama, vLLM, LM Studio, llama.cpp).
Retries are reviewbot's own (the SDK's are switched off) so that they are bounded in count *and* time: 429
(honouring Retry-After up to MAX_RETRY_AFTER), 408/409, 5xx and connection errors and timeouts are retried with
exponential backoff and jitter, at most `max_retries` times; a server asking for a longer pause is not waited
for. Once the endpoint itself has failed (unreachable, timing out, rejecting the key, unknown model), later
requests of the same run fail at once instead of repeating the wait. Errors leave this module as ModelError
sentences that name the model and the endpoint, never the key.
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
from urllib.parse import urlsplit, urlunsplit

from reviewbot.errors import ConfigError, ModelError

DEFAULT_OPENAI_URL = "https://api.openai.com/v1"

INITIAL_BACKOFF = 0.5  # seconds before the first retry; doubled each time, minus up to 25% jitter
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 30.0  # longest Retry-After honoured: a pre-commit hook must not hang for minutes
_RETRY_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True, slots=True)
class ModelSettings:
    model: str
    base_url: str | None = None  # None: the SDK default (OPENAI_BASE_URL or api.openai.com)
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    max_retries: int = 3
    temperature: float | None = 0.0
    seed: int | None = 0
    max_answer_tokens: int = 4096

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
    tool_calls: tuple[tuple[str, str, str], ...] = ()  # (id, function name, JSON arguments) the model asked for


class ToolsUnsupported(ModelError):
    """The server refused a request that offered tools (it has no tool support)."""


class ChatModel:
    """Sends message lists and returns the answer text; remembers which response_format the server accepts."""

    def __init__(self, settings: ModelSettings, *, use_schema: dict | None = None) -> None:
        import openai  # deferred: importing openai costs ~0.45 s, and --help/--version must stay fast

        timeout = settings.timeout
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
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
            timeout=settings.timeout,
            max_retries=0,  # retries are ours: see the module docstring
            default_headers=None if settings.api_key else anonymous,
        )
        self._schema = use_schema
        # Ladder of response formats; a server that rejects one (400) is asked with the next, once per run.
        self._formats: list[dict | None] = []
        if use_schema is not None:
            self._formats.append(
                {"type": "json_schema", "json_schema": {"name": "review", "strict": True, "schema": use_schema}}
            )
        self._formats += [{"type": "json_object"}, None]
        self._lock = threading.Lock()
        self._broken: str | None = None  # set once the endpoint itself failed; later calls fail fast with it

    def describe(self) -> str:
        return f"model '{self.settings.model}' at {self.settings.endpoint}"

    def complete(
        self, messages: list[dict[str, str]], *, seed: int | None = None, schema: dict | None = None,
        schema_name: str = "review", tools: list[dict] | None = None,
    ) -> Completion:
        """One answer. `schema` replaces the constructor's schema for this call (e.g. the verification pass);
        which rung of the format ladder the server accepts is shared by every call. With `tools` the model may
        answer with tool calls instead (no response format is asked for then: a grammar-constrained answer could
        not call a tool); a 400 to such a request raises ToolsUnsupported."""
        openai = self._openai
        attempt = 0
        while True:
            with self._lock:
                fmt = self._formats[0]
                broken = self._broken
            if broken:
                raise ModelError(broken)
            try:
                if tools:
                    return self._create(messages, None, seed, tools)
                return self._create(messages, _with_schema(fmt, schema, schema_name), seed)
            except openai.BadRequestError as exc:
                if tools:
                    raise ToolsUnsupported(self._explain(exc)) from None
                # Servers without structured outputs answer 400; step down the ladder and try again.
                with self._lock:
                    if fmt is not None and self._formats and self._formats[0] == fmt and len(self._formats) > 1:
                        self._formats.pop(0)
                        continue
                    if fmt is not None and self._formats and self._formats[0] != fmt:
                        continue  # another thread already stepped down
                raise ModelError(self._explain(exc)) from None
            except openai.APIError as exc:
                wait = self._retry_wait(exc, attempt)
                if wait is None:
                    raise self._give_up(exc, attempt) from None
                time.sleep(wait)
                attempt += 1

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

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc`, or None to give up now."""
        if attempt >= self.settings.max_retries or not self._retryable(exc):
            return None
        asked = _retry_after(exc)
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
        return min(INITIAL_BACKOFF * 2**attempt, MAX_BACKOFF) * (1 - 0.25 * random.random())

    def _give_up(self, exc: Exception, attempt: int) -> ModelError:
        openai = self._openai
        message = self._explain(exc)
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

    def _create(self, messages, fmt, seed, tools=None) -> Completion:
        s = self.settings
        kwargs: dict = {"model": s.model, "messages": messages, "max_tokens": s.max_answer_tokens}
        if tools:
            kwargs["tools"] = tools
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        chosen_seed = s.seed if seed is None else seed
        if chosen_seed is not None:
            kwargs["seed"] = chosen_seed
        if fmt is not None:
            kwargs["response_format"] = fmt
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
        calls = _tool_calls(getattr(choice, "message", None)) if tools else ()
        if calls:
            return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason,
                              tool_calls=calls)
        if not text.strip():
            # Reasoning models sometimes spend the whole answer budget thinking: that is not "no findings".
            reason = finish_reason or "unknown"
            raise ModelError(f"{self.describe()} returned an empty answer (finish reason: {reason})")
        return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason)

    def _explain(self, exc: Exception) -> str:
        text = self._explain_raw(exc)
        key = self.settings.api_key
        if key and len(key) >= 4:
            text = text.replace(key, "***")  # a server may echo the key back; it never reaches the user's screen
        return text

    def _explain_raw(self, exc: Exception) -> str:
        openai = self._openai
        where = self.describe()
        if isinstance(exc, openai.APITimeoutError):
            return f"{where} did not answer within {self.settings.timeout:g} s (set --timeout to wait longer)"
        if isinstance(exc, openai.APIConnectionError):
            return f"could not connect to {where}: {_short(exc)}"
        if isinstance(exc, openai.AuthenticationError):
            return f"{where} rejected the API key (HTTP 401); check OPENAI_API_KEY"
        if isinstance(exc, openai.NotFoundError):
            return f"{where} answered 404: the model or the endpoint path does not exist (check --model and --base-url)"
        if isinstance(exc, openai.RateLimitError):
            return f"{where} answered 429 (rate limited)"
        if isinstance(exc, openai.APIStatusError):
            return f"{where} answered HTTP {exc.status_code}: {_short(exc)}"
        return f"{where} failed: {_short(exc)}"


def _tool_calls(message) -> tuple[tuple[str, str, str], ...]:
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


def _with_schema(fmt: dict | None, schema: dict | None, name: str) -> dict | None:
    if schema is None or fmt is None or fmt.get("type") != "json_schema":
        return fmt
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


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


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


# A server's error text ends up on the user's terminal: no escape sequences (CSI, OSC such as clipboard writes),
# control characters or bidi overrides from it.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _UNPRINTABLE.sub("", _ESCAPE_SEQUENCE.sub("", text))[:300]
