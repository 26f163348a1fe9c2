"""The request budget: known context windows by model family, and the budget they give unless the user sets one."""

from __future__ import annotations

import pytest

from reviewbot.config import load_settings
from reviewbot.pipeline.budget import FOCUS_CAP_TOKENS, known_context_window, request_budget


@pytest.mark.parametrize(("model", "window"), [
    ("gpt-4o-mini", 128_000), ("gpt-4-turbo-2024-04-09", 128_000), ("gpt-4", 8_192), ("openai/gpt-4.1", 1_047_576),
    ("claude-3-5-sonnet-latest", 200_000), ("qwen2.5-coder:1.5b", None), ("test-model", None), ("", None),
])
def test_known_context_windows_match_the_family_prefix(model, window):
    assert known_context_window(model) == window


def _settings(env: dict[str, str]):
    return load_settings(repo_source=None, environ=env, user_path=None)


def test_request_budget_comes_from_the_context_window_unless_set():
    assert request_budget(_settings({}), "test-model") == 16_000  # unknown model: the old default
    assert request_budget(_settings({}), "gpt-4o") == FOCUS_CAP_TOKENS  # 128k window, capped for focus
    assert request_budget(_settings({}), "gpt-4") == 8_192  # a small window is the budget itself
    assert request_budget(_settings({"REVIEWBOT_CONTEXT_WINDOW": "24000"}), "test-model") == 24_000
    explicit = {"REVIEWBOT_MAX_REQUEST_TOKENS": "9000"}
    assert request_budget(_settings(explicit), "gpt-4o") == 9_000  # the user's own budget wins
    assert request_budget(_settings({**explicit, "REVIEWBOT_CONTEXT_WINDOW": "8000"}), "m") == 8_000  # never past it
