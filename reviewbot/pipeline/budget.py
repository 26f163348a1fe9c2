"""How many tokens one request may use: from the model's context window when it is known, else a safe default.

A request holds the prompt, the diff and the answer allowance (`max_answer_tokens`, sent as `max_tokens`), so the
budget must fit the context window the server gives the model. Hosted models have a fixed, published window
(the table below, matched on the model id's family prefix); a local server (llama.cpp, Ollama, vLLM) decides the
window itself when it starts (`-c`, `num_ctx`, `--max-model-len`), whatever the model could do, so local model
names are not guessed: set `context_window` for them.

The derived budget is capped at FOCUS_CAP_TOKENS: a model reviews a 30,000-token change about as well as a
smaller one (PR-Agent's default budget is 32,000 tokens), but whole repositories in one request lose focus, and a
cached rerun after a one-file edit resends one chunk, so chunks should not grow without bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.config import Settings

FOCUS_CAP_TOKENS = 32_000

# Family prefix of a model id -> context window in tokens (input + output), from the providers' model pages.
# The longest matching prefix wins ("gpt-4-turbo" before "gpt-4").
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-5": 400_000,
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "chatgpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4-1106": 128_000,
    "gpt-4-0125": 128_000,
    "gpt-4-32k": 32_768,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude": 200_000,
    "gemini-1.5": 1_000_000,
    "gemini-2": 1_000_000,
    "deepseek-chat": 64_000,
    "deepseek-reasoner": 64_000,
    "mistral-large": 128_000,
    "codestral": 256_000,
}


def known_context_window(model: str | None) -> int | None:
    """The published context window of a hosted model family, or None for a model the table does not know."""
    if not model:
        return None
    name = model.strip().lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" and "azure/gpt-4o" name gpt-4o
    best = None
    for prefix in KNOWN_CONTEXT_WINDOWS:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return KNOWN_CONTEXT_WINDOWS[best] if best else None


def request_budget(settings: Settings, model: str | None) -> int:
    """The token budget of one request to `model`, answer allowance included.

    An explicit max_request_tokens wins (but never exceeds a configured context_window); otherwise the budget
    is the configured context_window, else the model's known window, capped at FOCUS_CAP_TOKENS; otherwise
    max_request_tokens (16,000 by default, which fits a local server started with a 16k context).
    """
    configured = settings.values.get("context_window")
    explicit = settings.origins.get("max_request_tokens", "default") != "default"
    if explicit:
        budget = settings.max_request_tokens
        return min(budget, configured) if configured else budget
    window = configured or known_context_window(model)
    if window is None:
        return settings.max_request_tokens
    return min(window, FOCUS_CAP_TOKENS)
