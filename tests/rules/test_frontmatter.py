"""Front matter as hand-written agent and rule files have it: strict YAML when it is, plain `key: value` lines read
leniently when it is not, and a ConfigError naming the file when nothing can read it."""

from __future__ import annotations

import pytest

from reviewbot.core.errors import ConfigError
from reviewbot.rules.frontmatter import split_front_matter, text_value


def test_text_without_front_matter_is_all_body():
    assert split_front_matter("# Rules\n---\nx: 1\n", path="a.md") == (None, "# Rules\n---\nx: 1\n")


def test_front_matter_and_body_are_split_across_bom_and_crlf():
    meta, body = split_front_matter("\ufeff---\r\nname: reviewer\r\ntools: [Read, Grep]\r\n---\r\nBe careful.\r\n",
                                    path="agents/reviewer.md")
    assert meta == {"name": "reviewer", "tools": ["Read", "Grep"]}
    assert body == "Be careful.\n"


def test_values_that_are_not_strict_yaml_are_read_as_the_text_written():
    wizard = "---\nname: async\ndescription: Use this agent when... Examples: <example>Context: x</example>\n---\n"
    assert split_front_matter(wizard, path="a.md")[0] == {
        "name": "async", "description": "Use this agent when... Examples: <example>Context: x</example>"}
    cursor = "---\nglobs: *.ts, *.tsx\nalwaysApply: false\n---\nUse strict mode.\n"
    meta, body = split_front_matter(cursor, path="rules/ts.mdc")
    # once strict YAML fails, every single-line value is read as the text written, `false` included
    assert meta == {"globs": "*.ts, *.tsx", "alwaysApply": "false"} and body == "Use strict mode.\n"


@pytest.mark.parametrize("text", ["---\nname: x\n", "---\ntools: [Read, Grep\n---\nbody\n"])
def test_unreadable_front_matter_is_a_config_error_naming_the_file(text):
    with pytest.raises(ConfigError, match=r"agents/broken\.md"):
        split_front_matter(text, path="agents/broken.md")


def test_text_value_reads_scalars_as_text():
    assert text_value(2024) == "2024"
    assert text_value(True) == "true"
    assert text_value("  padded ") == "padded"
    assert text_value(None) is None and text_value(["a"]) is None and text_value({"a": 1}) is None
