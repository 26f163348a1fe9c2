"""redact and redact_file_diff: secrets replaced by their kind, the code around them and the line structure kept,
idempotent."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from reviewbot.core.models import FileDiff
from reviewbot.secrets.redaction import redact, redact_file_diff
from reviewbot.secrets.scanning import find_secrets
from tests.secrets.planted import (
    ORDINARY,
    PLANTED,
    _by_kind,
    _hunk,
    _pem_block,
    _settings_file,
)


def test_redact_removes_every_planted_secret_and_leaves_the_rest_alone() -> None:
    lines: list[str] = []
    for i, planted in enumerate(PLANTED):
        lines.append(ORDINARY[i % len(ORDINARY)])
        lines.append(planted.line)
    text = "\n".join(lines + ORDINARY) + "\n"

    redacted, count = redact(text)

    assert count == len(PLANTED)
    assert redacted.count("\n") == text.count("\n")
    for planted in PLANTED:
        assert planted.value not in redacted
        assert f"«REDACTED:{planted.kind}»" in redacted
    before, after = text.split("\n"), redacted.split("\n")
    for original, result in zip(before, after):
        if original in ORDINARY:
            assert result == original
        else:
            assert result != original


def test_redaction_keeps_the_code_around_the_value() -> None:
    planted = next(p for p in PLANTED if p.kind == "password in URL")
    redacted, count = redact(planted.line)
    assert count == 1
    assert redacted == 'DATABASE_URL = "postgres://app:«REDACTED:password in URL»@db.internal:5432/app"'


def test_a_private_key_block_is_redacted_line_by_line_and_counts_once() -> None:
    block, body = _pem_block()
    text = "\n".join(["def load():", '    key = """' + block[0], *block[1:], '"""', "x = 1"])

    redacted, count = redact(text)

    out = redacted.split("\n")
    assert count == 1
    assert len(out) == len(text.split("\n"))
    assert out[0] == "def load():"
    assert out[1] == '    key = """«REDACTED:private key»'
    assert all(line == "«REDACTED:private key»" for line in out[2:2 + len(block) - 1])
    assert out[-2:] == ['"""', "x = 1"]
    for line in body:
        assert line not in redacted
    assert "PRIVATE KEY-----" not in redacted


def test_a_one_line_key_with_escaped_newlines_is_caught() -> None:
    block, body = _pem_block()
    line = '  "private_key": "' + "\\n".join(block) + '\\n",'
    redacted, count = redact(line)
    assert count == 1
    assert redacted == '  "private_key": "«REDACTED:private key»\\n",'


def test_a_clipped_key_block_without_its_footer_is_still_redacted() -> None:
    block, body = _pem_block()
    text = "\n".join([block[0], *body[:4], "", "after = 2"])
    redacted, _ = redact(text)
    assert all(line not in redacted for line in body[:4])
    assert redacted.split("\n")[-2:] == ["", "after = 2"]


def test_a_rendered_diff_keeps_its_line_numbers_and_markers() -> None:
    block, body = _pem_block()
    rendered = "\n".join(f"{n} +{line}" for n, line in enumerate(block, start=20))
    out = redact(rendered)[0].split("\n")
    assert [line.split(" ", 1)[0] for line in out] == [str(n) for n in range(20, 20 + len(block))]
    assert all(line.split(" ", 1)[1].startswith("+«REDACTED:private key»") for line in out)


def test_placeholders_and_allowlisted_lines_are_left_alone() -> None:
    secret = next(p for p in PLANTED if p.kind == "GitHub token")
    allowed = secret.line + "  # pragma: allowlist secret"
    assert find_secrets(allowed) == []
    assert redact(allowed) == (allowed, 0)
    already = "TOKEN = «REDACTED:GitHub token»"
    assert redact(already) == (already, 0)


def test_redaction_is_deterministic_and_idempotent() -> None:
    text = "\n".join(p.line for p in PLANTED)
    first, second = redact(text), redact(str(text))
    assert first == second
    assert redact(first[0]) == (first[0], 0)


# A mix of planted secrets, fragments that almost look like secrets, and random text (with odd line breaks).
_FRAGMENTS = [
    "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", _pem_block()[1][0], "«REDACTED:x»",
    "password=", "API_KEY: ", "://u:", "@host", "Bearer ", "\r", "\x0b", "\u2028", "'", '"', " ", "=", "#",
    "eyJ", "AK" + "IA", "xo" + "xb-1-", "sk" + "-", "pragma: allowlist secret",
]


_pieces = st.one_of(
    st.sampled_from([p.line for p in PLANTED] + [p.value for p in PLANTED]),
    st.sampled_from(_FRAGMENTS),
    st.text(max_size=30),
)


_texts = st.lists(st.lists(_pieces, max_size=6).map("".join), max_size=12).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_redaction_keeps_line_structure_and_is_idempotent(text: str) -> None:
    redacted, count = redact(text)
    assert len(redacted.split("\n")) == len(text.split("\n"))
    assert len(redacted.splitlines()) == len(text.splitlines())
    assert redact(redacted) == (redacted, 0)
    assert redact(text) == (redacted, count)
    assert (count == 0) == (redacted == text)


def test_redact_file_diff_redacts_every_side_and_keeps_the_structure() -> None:
    original = _settings_file()
    redacted, count = redact_file_diff(original)

    assert count == 6  # AWS, GitLab (removed), Stripe (context), PASSWORD, the key block, the hunk header
    assert (redacted.path, redacted.status, len(redacted.hunks)) == (original.path, original.status, 2)
    everything = json.dumps([[h.section, [ln.text for ln in h.lines]] for h in redacted.hunks])
    for planted in (_by_kind("AWS access key"), _by_kind("Stripe key"), _by_kind("GitLab token")):
        assert planted.value not in everything
    for before, after in zip(original.hunks, redacted.hunks):
        assert [(ln.kind, ln.old_no, ln.new_no) for ln in after.lines] == \
               [(ln.kind, ln.old_no, ln.new_no) for ln in before.lines]
        assert (after.old_start, after.new_start, after.old_len, after.new_len) == \
               (before.old_start, before.new_start, before.old_len, before.new_len)
    block_lines = [ln.text for ln in redacted.hunks[1].lines[:-1]]
    assert block_lines == ["«REDACTED:private key»"] * len(block_lines)
    assert redacted.hunks[0].section == 'API_TOKEN = "«REDACTED:secret assignment»"'
    assert redacted.hunks[0].lines[0].text == "import os"
    assert redacted.hunks[0].lines[5].text == 'password = request.form["password"]'
    assert redact_file_diff(redacted) == (redacted, 0)


def test_redact_file_diff_returns_a_clean_file_unchanged() -> None:
    clean = FileDiff("app/x.py", None, "added", (_hunk(1, 0, [("+", line) for line in ORDINARY]),))
    result, count = redact_file_diff(clean)
    assert count == 0 and result is clean
