"""The front-matter fast path (frontmatter._simple_mapping) must read a block exactly as yaml.safe_load does.

It exists so that a run does not import PyYAML (~10 ms) for the common `key: plain text` front matter. Whenever
it accepts a block, its mapping must equal safe_load's; whenever it is unsure, it must decline (None) and let
PyYAML decide. The generated blocks lean on the characters that make YAML differ from plain text.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from reviewbot.rules import frontmatter
from reviewbot.rules.agents import bundled_agents_dir

ROOT = Path(__file__).resolve().parents[2]

# Characters and words that change how YAML reads a line: indicators, comment and mapping markers, quotes,
# numbers, booleans, null, tabs, non-ASCII.
_PIECES = st.sampled_from([
    "a", "Z", "x", " ", "  ", ":", ": ", "#", " #", "-", "- ", "'", '"', ",", "[", "]", "{", "}", "!", "&", "*",
    "?", "|", ">", "%", "@", "`", "\\", "=", "~", ".", "0", "12", "1.5", "0x1F", "2024-01-01", "12:30", "\t",
    "é", "yes", "No", "TRUE", "off", "On", "null", "NULL", "Null", "inf", ".nan", "word", "reviewbot's",
])
_KEYS = st.sampled_from(["name", "description", "model", "color", "tools", "on", "Yes", "null", "a.b", "a-b",
                         "_x", "x_1", "1", "-a", "é"])
_VALUES = st.lists(_PIECES, min_size=0, max_size=8).map("".join)
_LINES = st.one_of(
    st.builds(lambda k, sep, v: f"{k}{sep}{v}", _KEYS, st.sampled_from([": ", ":  ", ":", ":\t"]), _VALUES),
    st.sampled_from(["", " ", "# comment", "  continued", "- item"]),
)
# Lines close to what the fast path accepts: a plain key, a letter, then any printable ASCII.
_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_NEAR_SIMPLE = st.builds(lambda k, first, rest: f"{k}: {first}{rest}", _KEYS, st.sampled_from("aZnyoOtf"),
                         st.text(alphabet=_ASCII, max_size=20))


def _yaml_mapping(block: str):
    """What _load_mapping returns through PyYAML, or the exception type when PyYAML refuses the block."""
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as err:
        return type(err)
    if data is None:
        return {}
    if not isinstance(data, dict):
        return type(data)
    return {str(k): v for k, v in data.items()}


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINES, min_size=0, max_size=5).map("\n".join))
def test_fast_path_agrees_with_yaml_whenever_it_answers(block):
    fast = frontmatter._simple_mapping(block)
    if fast is not None:
        expected = _yaml_mapping(block)
        assert fast == expected
        assert list(fast) == list(expected)  # same key order, too


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(_NEAR_SIMPLE, _NEAR_SIMPLE, _LINES), min_size=1, max_size=4).map("\n".join))
def test_fast_path_agrees_with_yaml_on_near_simple_blocks(block):
    fast = frontmatter._simple_mapping(block)
    if fast is not None:
        expected = _yaml_mapping(block)
        assert fast == expected
        assert list(fast) == list(expected)


@pytest.mark.parametrize("block, expected", [
    ("name: x\ndescription: A reviewer - quick, careful; it's fine [really] {ok}", {
        "name": "x", "description": "A reviewer - quick, careful; it's fine [really] {ok}"}),
    ("name: a  b   ", {"name": "a  b"}),  # inner spaces kept, trailing ones dropped
    ("name: x\n\ncolor: cyan", {"name": "x", "color": "cyan"}),
    ("name: x\nname: y\ncolor: z", {"name": "y", "color": "z"}),
    ("", {}),
])
def test_fast_path_reads_simple_blocks(block, expected):
    assert frontmatter._simple_mapping(block) == expected
    assert _yaml_mapping(block) == expected


@pytest.mark.parametrize("block", [
    "name: yes", "on: x", "name: x # comment", "name: Examples:", "name: a: b", "name: 12", "name: 'q'",
    "name:\tx", "name: x\t", "name: café", "name:", "tools:\n  - Read", "# just a comment", "name: Null",
])
def test_fast_path_declines_what_yaml_reads_differently_or_might(block):
    assert frontmatter._simple_mapping(block) is None


def test_every_bundled_agent_takes_the_fast_path_with_yaml_s_answer():
    files = sorted(bundled_agents_dir().glob("*.md"))
    assert files
    for file in files:
        block = file.read_text(encoding="utf-8").split("---\n")[1]
        fast = frontmatter._simple_mapping(block)
        assert fast is not None, file.name
        assert fast == _yaml_mapping(block)


def test_loading_the_bundled_agents_does_not_import_yaml():
    code = (
        "import sys\n"
        "from reviewbot.rules.agents import discover_agents\n"
        "found = discover_agents(None, None)\n"
        "assert 'senior-backend-engineer' in found, sorted(found)\n"
        "print('yaml' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
