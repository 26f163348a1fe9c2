"""secret_findings: each added secret reported once, at its new line number, without the secret in the message."""

from __future__ import annotations

import json

from reviewbot.core.models import Diff, FileDiff, Severity
from reviewbot.secrets.local_findings import secret_findings
from tests.secrets.planted import (
    ALNUM,
    PLANTED,
    _by_kind,
    _hunk,
    _pem_block,
    _settings_file,
    rand,
)


def test_secret_findings_report_each_added_secret_once_with_new_line_numbers() -> None:
    planted_file = FileDiff("app/planted.py", None, "added", (
        _hunk(1, 0, [("+", p.line) for p in PLANTED]),))
    env_file = FileDiff("deploy/.env", None, "added", (
        _hunk(1, 0, [("+", "DB_HOST=db"), ("+", "DB_PASSWORD=" + rand("env-file", 16))]),))
    keystore = FileDiff("certs/server.p12", None, "added", is_binary=True)
    deleted = FileDiff("old/creds.py", "old/creds.py", "deleted", (
        _hunk(0, 1, [("-", _by_kind("Slack token").line)]),))
    template = FileDiff(".env.example", None, "added", (_hunk(1, 0, [("+", "API_KEY=changeme")]),))
    public_key = FileDiff("deploy/id_ed25519.pub", None, "added", (
        _hunk(1, 0, [("+", "ssh-ed25519 " + rand("pub", 68, ALNUM + "+/") + " deploy@example")]),))
    diff = Diff((_settings_file(), planted_file, env_file, keystore, deleted, template, public_key))

    findings = secret_findings(diff)

    located = [(f.path, f.line) for f in findings]
    assert located == [
        ("app/settings.py", 12),
        ("app/settings.py", 15),
        ("app/settings.py", 40),
        *[("app/planted.py", n) for n in range(1, len(PLANTED) + 1)],
        ("deploy/.env", 1),
        ("certs/server.p12", 1),
    ]
    for finding in findings:
        assert finding.severity is Severity.ERROR
        assert (finding.category, finding.source, finding.agent) == ("secrets", "secrets", "reviewbot")
        assert finding.quote is None and finding.suggestion is None
    kinds = [f.message for f in findings if f.path == "app/planted.py"]
    for message, planted in zip(kinds, PLANTED):
        assert f"({planted.kind})" in message
    assert "private key" in findings[2].message
    assert "environment file" in findings[-2].message
    assert "key store" in findings[-1].message


def test_finding_messages_never_hold_the_secret() -> None:
    diff = Diff((FileDiff("app/planted.py", None, "added", (_hunk(1, 0, [("+", p.line) for p in PLANTED]),)),))
    text = json.dumps([[f.message, f.suggestion, f.quote] for f in secret_findings(diff)])
    for planted in PLANTED:
        for i in range(0, len(planted.value) - 7):
            assert planted.value[i:i + 8] not in text


def test_a_key_block_split_across_added_and_context_lines_is_reported_at_the_first_added_line() -> None:
    block, _ = _pem_block()
    spec = [(" ", line) for line in block[:3]] + [("+", line) for line in block[3:]]
    f = FileDiff("keys/embedded.py", "keys/embedded.py", "modified", (_hunk(5, 5, spec),))
    assert [(x.path, x.line) for x in secret_findings(Diff((f,)))] == [("keys/embedded.py", 8)]


def test_a_changed_sensitive_file_is_reported_at_its_first_added_line() -> None:
    f = FileDiff(".env", ".env", "modified", (_hunk(3, 3, [(" ", "A=1"), ("+", "B=2")]),))
    findings = secret_findings(Diff((f,)))
    assert [(x.path, x.line) for x in findings] == [(".env", 4)]
    assert "changed in the repository" in findings[0].message
