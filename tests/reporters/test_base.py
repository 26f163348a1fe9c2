"""The reporters' shared rules: terminal text stripped of control characters, and which findings block."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from reviewbot.core.models import Severity
from reviewbot.reporters import ReportOptions
from reviewbot.reporters.base import is_blocking, sanitize_terminal
from tests.reporters.support import (
    finding,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x1b[1;31mred\x1b[0m b", "ared b"),
        ("x\x1b]8;;http://evil\x07link\x1b]8;;\x1b\\ y", "xlink y"),
        ("t\x1b]0;window title\x9c after", "t after"),
        ("unterminated \x1b]0;title\nnext line", "unterminated \nnext line"),
        ("keep\ttabs\nand newlines", "keep\ttabs\nand newlines"),
        ("over\rwrite", "overwrite"),
        ("c1 \x9b2J csi", "c1  csi"),
        ("nul\x00 del\x7f bell\x07", "nul del bell"),
        ("bidi \u202eevil\u202c \u2066x\u2069", "bidi evil x"),
        ("\x1bcreset \x1b7save", "reset save"),
        ("lone \udcff", "lone \ufffd"),
        ("unicode ok: \u00fc \u4e2d \U0001f600", "unicode ok: \u00fc \u4e2d \U0001f600"),
    ],
)
def test_sanitize_terminal(raw, clean):
    assert sanitize_terminal(raw) == clean


_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@given(st.text())
def test_sanitize_terminal_leaves_no_control_characters_and_is_idempotent(text):
    clean = sanitize_terminal(text)
    assert not _FORBIDDEN.search(clean)
    assert sanitize_terminal(clean) == clean


@pytest.mark.parametrize(
    ("fail_on", "severity", "blocks"),
    [
        (Severity.ERROR, Severity.ERROR, True),
        (Severity.ERROR, Severity.WARNING, False),
        (Severity.WARNING, Severity.WARNING, True),
        (Severity.INFO, Severity.INFO, True),
        (None, Severity.ERROR, False),
    ],
)
def test_is_blocking(fail_on, severity, blocks):
    assert is_blocking(finding(severity=severity), ReportOptions(fail_on=fail_on)) is blocks
