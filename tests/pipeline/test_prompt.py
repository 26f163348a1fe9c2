"""Rendering the diff for the prompt: each file is rendered once per run, and the remembered renderings build the same
messages as fresh ones."""

from __future__ import annotations

from reviewbot.core.models import Chunk, FileDiff, Hunk, Line
from reviewbot.pipeline.prompt import PromptParts, build_messages, remembering_renderer, render_file


def _file(path: str, text: str) -> FileDiff:
    lines = (Line(" ", "a = 1", 1, 1), Line("+", text, None, 2))
    return FileDiff(path=path, old_path=path, status="modified", hunks=(Hunk(1, 1, 1, 2, "", lines),))


def test_remembering_renderer_renders_each_file_once_and_like_render_file():
    render = remembering_renderer()
    first, twin, other = _file("a.py", "b = 2"), _file("a.py", "b = 2"), _file("a.py", "b = 3")
    text = render(first)
    assert text == render_file(first)
    assert render(first) is text  # the remembered rendering, not a new one
    assert render(twin) == text and render(twin) is not text  # an equal file is its own entry
    assert render(other) == render_file(other) != text


def test_remembering_renderer_offers_the_plain_renderer_for_trial_renders():
    render = remembering_renderer()
    # chunking sizes chunks with `uncached` so that thrown-away renderings do not stay in the memo
    assert getattr(render, "uncached", None) is render_file


def test_messages_built_with_the_memo_equal_those_built_without():
    files = (_file("a.py", "b = 2"), _file("c.py", "d = 4"))
    parts = PromptParts(agent_name="x", persona="Be careful.", standards="Use tabs.")
    chunk = Chunk(files=files, notes=("a note",))
    render = remembering_renderer()
    for f in files:
        render(f)  # as chunking does first
    assert build_messages(parts, chunk, render) == build_messages(parts, chunk)
