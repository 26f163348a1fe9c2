"""literals: the cheap "looks like code" check is exactly the regular expression it replaces."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from reviewbot.secrets import literals

_CODE_LIKE_REGEX = re.compile(r"\\|\(\?|\{.*\}|\[.*\]")  # what secrets._code_like replaces


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab{}[]()?\\", max_size=20))
def test_code_like_is_the_regex_it_replaces(value):
    assert literals._code_like(value) == bool(_CODE_LIKE_REGEX.search(value))
