"""The model as the review pipeline uses it, and the stand-in that builds it only when a request has to be sent.

`ReviewModel` is everything the pipeline asks of a model (its name and endpoint for cache keys, `complete`,
`describe`): reviewbot.adapters.model_client.ChatModel is one, and so is `LazyModel`, which execute() hands out.
Building a ChatModel imports openai (~0.45 s); a run whose answers all come from the cache never pays for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from reviewbot.core.errors import ModelError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from reviewbot.adapters.model_client import ChatModel, Completion
    from reviewbot.adapters.request_gate import RequestGate
    from reviewbot.config import Settings


class ModelIdentity(Protocol):
    """What a cache key needs to know about a model (ChatModel's ModelSettings has more)."""

    @property
    def model(self) -> str: ...

    @property
    def endpoint(self) -> str: ...


class ReviewModel(Protocol):
    """What the review pipeline needs from a model (reviewbot.adapters.model_client.ChatModel is the real one)."""

    @property
    def settings(self) -> ModelIdentity: ...

    def describe(self) -> str:
        """The model and endpoint as error sentences name them."""
        ...

    def complete(
        self, messages: Sequence[Mapping[str, object]], *, seed: int | None = None,
        schema: dict[str, object] | None = None, schema_name: str = "review", max_tokens: int | None = None,
        tools: list[dict[str, object]] | None = None,
    ) -> Completion:
        """One answer (ChatModel.complete says what each argument does)."""
        ...


def model_endpoint(settings: Settings) -> str:
    """The endpoint a request goes to, as its cache key records it, without building a client.

    The same value as `ModelSettings.endpoint` of the models `session.make_model_factory` builds: settings.base_url
    (config has already put OPENAI_BASE_URL there), else the SDK's default URL.
    """
    from reviewbot.adapters.model_client import ModelSettings

    return ModelSettings(model="", base_url=settings.base_url).endpoint


@dataclass(frozen=True, slots=True)
class ModelName:
    """A model's name and endpoint, known before any client is built."""

    model: str
    endpoint: str


class LazyModel:
    """Stands in for one model's ChatModel and builds it on the first request that really has to be sent.

    `settings` carries only the model and endpoint (what request and verification keys use); `complete` and
    `describe` are the real ChatModel's, built on first use. One ChatModel per model, shared by every thread:
    it remembers which response format works.
    """

    def __init__(self, name: str, endpoint: str, factory: Callable[[str], ChatModel],
                 gate: RequestGate | None = None) -> None:
        self.settings = ModelName(model=name, endpoint=endpoint)
        self._factory = factory
        self._gate = gate  # the run's RequestGate, shared by every model (they share the endpoint)
        self._model: ChatModel | None = None
        self._lock = threading.Lock()

    def complete(
        self, messages: Sequence[Mapping[str, object]], *, seed: int | None = None,
        schema: dict[str, object] | None = None, schema_name: str = "review", max_tokens: int | None = None,
        tools: list[dict[str, object]] | None = None,
    ) -> Completion:
        return self._built().complete(messages, seed=seed, schema=schema, schema_name=schema_name,
                                      max_tokens=max_tokens, tools=tools)

    def describe(self) -> str:
        return self._built().describe()

    def format_rejections(self) -> tuple[str, ...]:
        """The response formats the server refused this model, each with its reason; none when it was never built
        (a model that sent nothing was refused nothing)."""
        with self._lock:
            built = self._model
        return tuple(built.ladder.rejections) if built is not None else ()

    def _built(self) -> ChatModel:
        with self._lock:
            if self._model is None:
                self._check_listening()
                self._model = self._factory(self.settings.model)
                if self._gate is not None:
                    self._model.gate = self._gate
            return self._model

    def _check_listening(self) -> None:
        """A loopback endpoint with nothing listening fails the run at once, before openai is even imported."""
        from reviewbot.adapters.request_gate import refused_locally

        if self._gate is None or not refused_locally(self.settings.endpoint):
            return
        message = (f"could not connect to model '{self.settings.model}' at {self.settings.endpoint}: connection "
                   "refused (is the model server running?)")
        self._gate.failed(self._gate.acquire(), "connection", message, at_once=True)  # counted as one attempt
        raise ModelError(message)
