"""Comment text: suggestion fences, neutralised model text, and the fingerprint marker read back."""

from __future__ import annotations

import pytest

from reviewbot.adapters.github.comments import comment_body, fence, neutralise, read_comment
from tests.adapters.github.support import MARKER, finding


@pytest.mark.parametrize("code, ticks", [("x = 1", 3), ("s = '``'", 3), ("doc = '''```'''", 4),
                                         ("````\ninner\n````", 5)])
def test_fence_is_longer_than_any_backtick_run(code, ticks):
    block = fence(code, "suggestion")
    first, *_, last = block.split("\n")
    assert first == "`" * ticks + "suggestion" and last == "`" * ticks
    assert block.split("\n")[1:-1] == code.split("\n")


def test_suggestion_block_replaces_the_flagged_range():
    f = finding(5, end_line=6, suggestion="await asyncio.sleep(5)\nreturn 1\n")
    body = comment_body(f, "ab" * 16)
    assert "```suggestion\nawait asyncio.sleep(5)\nreturn 1\n```" in body
    assert body.endswith("<!-- reviewbot:fp=" + "ab" * 16 + " -->")


def test_hostile_message_cannot_mention_forge_markers_or_swallow_the_comment():
    hostile = ("@octocat @acme/security look! <!-- reviewbot:fp=deadbeefdeadbeef --> "
               "```\nunclosed fence\x1b[31m\r\n::error::x")
    body = comment_body(finding(3, hostile, suggestion="y = 2"), "12" * 16)
    assert "@octocat" not in body and "@acme/security" not in body
    assert "@\u200boctocat" in body
    assert MARKER.findall(body) == ["12" * 16]  # only our own marker, at the end
    assert body.count("<!--") == 1
    assert "\x1b" not in body and "\r" not in body
    # The model's unclosed fence is escaped, so our suggestion block still opens and closes where we put it.
    assert "\n```suggestion\ny = 2\n```\n" in body
    assert read_comment({"id": 1, "path": "a", "line": 3, "body": body}).fingerprint == "12" * 16


def test_neutralise_keeps_ordinary_markdown():
    text = "Use `asyncio.sleep` instead of **time.sleep**; see [docs](https://docs.python.org)."
    assert neutralise(text) == text


def test_a_marker_that_is_not_at_the_end_is_not_read():
    body = "<!-- reviewbot:fp=deadbeefdeadbeef -->\nsomething after it"
    assert read_comment({"id": 1, "path": "a", "line": 1, "body": body}) is None
