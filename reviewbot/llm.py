"""The one place that talks to a model: Chat Completions through the `openai` package.

Any OpenAI-compatible server works (OpenAI, Azure's v1 endpoint, Ollama, vLLM, LM Studio, llama.cpp). The
SDK's own retry loop handles 429 (honouring Retry-After), 5xx and connection errors with exponential
backoff and jitter; reviewbot bounds the count and the per-request timeout. Errors leave this module as
ModelError sentences that name the model and the endpoint, never the key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from reviewbot.errors import ModelError

DEFAULT_OPENAI_URL = "https://api.openai.com/v1"


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
        return (self.base_url or DEFAULT_OPENAI_URL).rstrip("/")


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None


class ChatModel:
    """Sends message lists and returns the answer text; remembers which response_format the server accepts."""

    def __init__(self, settings: ModelSettings, *, use_schema: dict | None = None) -> None:
        import openai  # deferred: importing openai costs ~0.45 s, and --help/--version must stay fast

        self.settings = settings
        self._openai = openai
        self._client = openai.OpenAI(
            api_key=settings.api_key or "not-needed",  # local servers accept any key; the SDK insists on one
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
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

    def describe(self) -> str:
        return f"model '{self.settings.model}' at {self.settings.endpoint}"

    def complete(
        self, messages: list[dict[str, str]], *, seed: int | None = None, schema: dict | None = None,
        schema_name: str = "review",
    ) -> Completion:
        """One answer. `schema` replaces the constructor's schema for this call (e.g. the verification pass);
        which rung of the format ladder the server accepts is shared by every call."""
        openai = self._openai
        while True:
            with self._lock:
                fmt = self._formats[0]
            try:
                return self._create(messages, _with_schema(fmt, schema, schema_name), seed)
            except openai.BadRequestError as exc:
                # Servers without structured outputs answer 400; step down the ladder and try again.
                with self._lock:
                    if fmt is not None and self._formats and self._formats[0] == fmt and len(self._formats) > 1:
                        self._formats.pop(0)
                        continue
                    if fmt is not None and self._formats and self._formats[0] != fmt:
                        continue  # another thread already stepped down
                raise ModelError(self._explain(exc)) from None
            except openai.APIError as exc:
                raise ModelError(self._explain(exc)) from None

    def _create(self, messages, fmt, seed) -> Completion:
        s = self.settings
        kwargs: dict = {"model": s.model, "messages": messages, "max_tokens": s.max_answer_tokens}
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        chosen_seed = s.seed if seed is None else seed
        if chosen_seed is not None:
            kwargs["seed"] = chosen_seed
        if fmt is not None:
            kwargs["response_format"] = fmt
        response = self._client.chat.completions.create(**kwargs)
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise ModelError(f"{self.describe()} returned no choices")
        choice = choices[0]
        text = (choice.message.content or "") if choice.message else ""
        usage = getattr(response, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        if not text.strip():
            # Reasoning models sometimes spend the whole answer budget thinking: that is not "no findings".
            reason = choice.finish_reason or "unknown"
            raise ModelError(f"{self.describe()} returned an empty answer (finish reason: {reason})")
        return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out, finish_reason=choice.finish_reason)

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
            return f"{where} kept answering 429 (rate limited) after {self.settings.max_retries} retries"
        if isinstance(exc, openai.APIStatusError):
            return f"{where} answered HTTP {exc.status_code}: {_short(exc)}"
        return f"{where} failed: {_short(exc)}"


def _with_schema(fmt: dict | None, schema: dict | None, name: str) -> dict | None:
    if schema is None or fmt is None or fmt.get("type") != "json_schema":
        return fmt
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
