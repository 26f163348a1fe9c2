"""The one place that talks to a model: Chat Completions through the `openai` package.

Any OpenAI-compatible server works (OpenAI, Azure's v1 endpoint, Ollama, vLLM, LM Studio, llama.cpp).
Retries are reviewbot's own (the SDK's are switched off) so that they are bounded in count *and* time: 429
(honouring Retry-After up to MAX_RETRY_AFTER), 408/409, 5xx and connection errors and timeouts are retried with
exponential backoff and jitter, at most `max_retries` times; a server asking for a longer pause is not waited
for. Once the endpoint itself has failed (unreachable, timing out, rejecting the key, unknown model), later
requests of the same run fail at once instead of repeating the wait. A refused connection is not retried at
all. With the run's RequestGate (`gate`, reviewbot/adapters/request_gate.py) every attempt goes through it: it caps
how many are in flight, counts failed attempts, and its circuit breaker stops the run when the endpoint is down.
Errors leave this module as ModelError sentences that name the model and the endpoint and keep the server's whole
reason on one line, never the key.

Its neighbours hold what this client decides with:
- response_format.py: the format ladder (json_schema, then json_object, then none) and what counts as a refusal;
- server_errors.py: reading a failure (its reason, Retry-After, context overflow, congestion, endpoint down); a
  request too large for the server's context raises ContextOverflowError at once and is neither retried as is nor
  counted against the endpoint;
- endpoint.py: local or hosted, how long to wait for an answer, the URL as shown.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewbot.adapters.endpoint import DEFAULT_OPENAI_URL, answer_timeout, is_local_url, shown_endpoint
from reviewbot.adapters.response_format import FormatLadder, format_request, format_used, rejects_format
from reviewbot.adapters.server_errors import (
    congestion,
    connection_refused,
    endpoint_failed,
    exception_line,
    explain,
    failure_kind,
    is_context_overflow,
    is_retryable,
    retry_after,
    server_reason,
)
from reviewbot.core.errors import ConfigError, ContextOverflowError, ModelError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from reviewbot.adapters.request_gate import RequestGate

INITIAL_BACKOFF = 0.5  # seconds before the first retry; doubled each time, minus up to 25% jitter
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 30.0  # longest Retry-After honoured: a pre-commit hook must not hang for minutes
# With a RequestGate (reviewbot/adapters/request_gate.py) the run sends fewer requests at once after a 429/503, so
# such a request is tried again up to this many times without using up `max_retries`: it is waiting, not failing.
CONGESTION_RETRIES = 8


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
        return answer_timeout(self.base_url or DEFAULT_OPENAI_URL, max_tokens)

    @property
    def endpoint(self) -> str:
        """The endpoint as shown to the user: without a user name, password or query (they may hold a key)."""
        return shown_endpoint(self.base_url or DEFAULT_OPENAI_URL)


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


class ToolsUnsupported(ModelError):
    """The server refused a request that offered tools (it has no tool support)."""


class ChatModel:
    """Sends message lists and returns the answer text; remembers which response_format the server accepts."""

    def __init__(self, settings: ModelSettings, *, use_schema: dict[str, object] | None = None,
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
        # The run's RequestGate (reviewbot/adapters/request_gate.py): concurrency and circuit breaker, if any.
        self.gate: RequestGate | None = None

    def describe(self) -> str:
        return f"model '{self.settings.model}' at {self.settings.endpoint}"

    def complete(
        self, messages: Sequence[Mapping[str, object]], *, seed: int | None = None,
        schema: dict[str, object] | None = None, schema_name: str = "review", max_tokens: int | None = None,
        tools: list[dict[str, object]] | None = None,
    ) -> Completion:
        """One answer. `schema` replaces the constructor's schema for this call (e.g. the verification pass);
        `max_tokens` the answer allowance. Which rung of the format ladder the server accepts is shared by every
        call. A cut answer (finish_reason "length") is returned as it is, for the caller to judge. With `tools` the
        model may answer with tool calls instead (no response format is asked for then: a grammar-constrained answer
        could not call a tool); a 400 to such a request raises ToolsUnsupported. `messages` are the prompt's
        role/content strings, plus, in the tool loop, the turns that carry tool calls and their results."""
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
                    reason = server_reason(exc)
                    if is_context_overflow(exc, reason):
                        raise ContextOverflowError(
                            f"the request is too large for the context of {self.describe()} "
                            f"(HTTP {exc.status_code}: {self._clean(reason)})"
                        ) from None
                    if not tools and rejects_format(exc.status_code, rung, reason):
                        if self.ladder.step_down(rung, self._clean(reason)):
                            continue
                        raise ModelError(self._explain(exc) + self.ladder.hint(rung)) from None
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

    def _send(self, messages: Sequence[Mapping[str, object]], rung: str, schema: dict[str, object] | None,
              schema_name: str, seed: int | None, max_tokens: int,
              tools: list[dict[str, object]] | None = None) -> Completion:
        """One attempt on the wire, through the run's gate when there is one (which counts it)."""
        gate = self.gate
        if gate is None:
            return self._create(messages, rung, schema, schema_name, seed, max_tokens, tools)
        ticket = gate.acquire()
        try:
            completion = self._create(messages, rung, schema, schema_name, seed, max_tokens, tools)
        except Exception as exc:
            crowded = congestion(exc)
            if crowded is not None and not is_context_overflow(exc, server_reason(exc)):
                # Turned away while others were in flight: the gate sends fewer at once, this one waits its turn.
                exc.reviewbot_crowded = gate.congested(ticket, crowded, retry_after(exc))  # type: ignore[attr-defined]
            else:
                gate.failed(ticket, failure_kind(exc, rung), self._explain(exc), at_once=connection_refused(exc))
            raise
        gate.succeeded(ticket)
        return completion

    def _retry_wait(self, exc: Exception, attempt: int, limit: int | None = None) -> float | None:
        """Seconds to wait before retrying after `exc`, or None to give up now."""
        if attempt >= (self.settings.max_retries if limit is None else limit) or not is_retryable(exc):
            return None
        if connection_refused(exc):
            return None  # nothing listens on that port: waiting will not change that within a review
        asked = retry_after(exc)
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
        backoff: float = INITIAL_BACKOFF * 2**attempt  # int ** int is typed Any (a negative power is a float)
        return min(backoff, MAX_BACKOFF) * (1 - 0.25 * random.random())

    def _give_up(self, exc: Exception, attempt: int, max_tokens: int = 0) -> ModelError:
        message = self._explain(exc, max_tokens)
        asked = retry_after(exc)
        if (asked is not None and asked > MAX_RETRY_AFTER and attempt < self.settings.max_retries
                and is_retryable(exc)):
            message += f" and asked to wait {asked:g} s before retrying, longer than reviewbot waits; try again later"
        elif attempt:
            message += f" (gave up after {attempt} {'retry' if attempt == 1 else 'retries'})"
        if endpoint_failed(exc):
            with self._lock:
                self._broken = self._broken or message
        return ModelError(message)

    def _create(self, messages: Sequence[Mapping[str, object]], rung: str, schema: dict[str, object] | None,
                schema_name: str, seed: int | None, max_tokens: int,
                tools: list[dict[str, object]] | None = None) -> Completion:
        s = self.settings
        # The SDK's keyword arguments: each has its own type, which create()'s overloads check, not this dict.
        kwargs: dict[str, Any] = {"model": s.model, "messages": messages, "max_tokens": max_tokens,
                        "timeout": s.timeout_for(max_tokens)}
        if tools:
            kwargs["tools"] = tools
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        chosen_seed = s.seed if seed is None else seed
        if chosen_seed is not None:
            kwargs["seed"] = chosen_seed
        response_format = format_request(rung, schema, schema_name)
        if response_format is not None:
            kwargs["response_format"] = response_format
        try:
            response = self._client.chat.completions.create(**kwargs)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a 200 that is not JSON: a proxy's HTML page
            raise ModelError(
                f"{self.describe()} answered with a body that is not JSON ({exception_line(exc)}); is the base URL an "
                "OpenAI-compatible /v1 endpoint?"
            ) from None
        return self._read(response, format_used(rung, schema), max_tokens, with_tools=bool(tools))

    def _read(self, response: object, used: str, max_tokens: int, *, with_tools: bool) -> Completion:
        """The answer of one response. The SDK does not validate answers, so an odd server can hand back any
        shape: read it defensively."""
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
        calls = _tool_calls(getattr(choice, "message", None)) if with_tools else ()
        if calls:
            return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason,
                              max_tokens=max_tokens, cached_tokens=cached_tokens, tool_calls=calls)
        if not text.strip() and finish_reason != "length":
            reason = finish_reason or "unknown"
            raise ModelError(f"{self.describe()} returned an empty answer (finish reason: {reason})")
        # An empty answer cut off by the limit (a reasoning model that spent it all thinking) goes back as a cut answer.
        return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=finish_reason,
                          response_format=used, max_tokens=max_tokens, cached_tokens=cached_tokens)

    def _explain(self, exc: Exception, max_tokens: int = 0) -> str:
        waited = self.settings.timeout_for(max_tokens or self.settings.max_answer_tokens)
        return self._clean(explain(exc, self.describe(), waited))

    def _clean(self, text: str) -> str:
        key = self.settings.api_key
        if key and len(key) >= 4:
            text = text.replace(key, "***")  # a server may echo the key back; it never reaches the user's screen
        return text


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


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
