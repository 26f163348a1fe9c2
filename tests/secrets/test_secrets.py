"""Secret detection, redaction and local findings (reviewbot/secrets/__init__.py).

Every planted secret is built at run time from a seeded random generator and string pieces, so that this file holds
no string that looks like a live credential (nothing here trips a push-protection scanner), yet every value has the
real shape of its kind.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from reviewbot.core.models import Diff, FileDiff, Hunk, Line, Severity
from reviewbot.secrets.local_findings import secret_findings
from reviewbot.secrets.records import SecretHit
from reviewbot.secrets.redaction import redact, redact_file_diff
from reviewbot.secrets.scanning import find_secrets
from reviewbot.secrets.sensitive_files import is_sensitive_path

ROOT = Path(__file__).resolve().parents[2]
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
LOWER_DIGITS = string.ascii_lowercase + string.digits


def rand(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """A deterministic random string with at least one upper-case letter, lower-case letter and digit where the
    alphabet has them (the shape real tokens have)."""
    rng = random.Random(seed)
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        classes = [set(alphabet) & set(cls) for cls in (string.ascii_uppercase, string.ascii_lowercase, string.digits)]
        if all(set(value) & cls for cls in classes if cls):
            return value


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "4242", "name": "Test User", "iat": 1700000000}).encode())
    return f"{header}.{payload}.{rand('jwt-sig', 43, ALNUM + '-_')}"


@dataclass(frozen=True)
class Planted:
    kind: str
    line: str  # a line of code holding the secret
    value: str  # the secret itself: what must never survive redaction


def _planted() -> list[Planted]:
    def p(kind: str, template: str, value: str) -> Planted:
        return Planted(kind, template.replace("{v}", value), value)

    return [
        p("AWS access key", 'aws_access_key_id = "{v}"', "AK" + "IA" + rand("aws-id", 16, UPPER_DIGITS)),
        p("AWS secret key", "aws_secret_access_key = '{v}'", rand("aws-secret", 40, ALNUM + "/+")),
        p("GitHub token", 'GH = "{v}"  # classic', "gh" + "p_" + rand("ghp", 36)),
        p("GitHub token", "token: {v}", "github" + "_pat_" + rand("pat-a", 22) + "_" + rand("pat-b", 59)),
        p("GitLab token", 'gitlab = "{v}"', "gl" + "pat-" + rand("glpat", 20)),
        p("Slack token", "slack_hook: {v}",
          "xo" + "xb-" + rand("s1", 12, string.digits) + "-" + rand("s2", 13, string.digits) + "-" + rand("s3", 24, LOWER_DIGITS)),
        p("Stripe key", 'stripe.api_key = "{v}"', "sk" + "_live_" + rand("stripe", 99)),
        p("JSON web token", 'session = "{v}"', fake_jwt()),
        p("password in URL", 'DATABASE_URL = "postgres://app:{v}@db.internal:5432/app"', rand("dburl", 14)),
        p("password in URL", "CACHE=redis://:{v}@cache:6379/0", rand("redis", 12) + "!"),
        p("secret assignment", 'FOO_SECRET="{v}"', rand("foo-secret", 18)),
        p("secret assignment", "API_KEY: {v}", rand("yaml-key", 24)),
        p("secret assignment", "PASSWORD={v}", rand("env-pass", 10) + "#x"),
        p("secret assignment", 'db.password = "{v}"', rand("dotted", 12) + "$%"),
        p("secret assignment", '    "clientSecret": "{v}",', rand("json-secret", 32)),
        p("OpenAI API key", 'OPENAI = "{v}"', "sk" + "-proj-" + rand("openai", 48, ALNUM + "-_")),
        p("OpenAI API key", 'legacy = "{v}"', "sk" + "-" + rand("openai-legacy", 48)),
        p("Google API key", 'maps = "{v}"', "AI" + "za" + rand("google", 35, ALNUM + "-_")),
        p("Anthropic API key", 'claude = "{v}"', "sk" + "-ant-api03-" + rand("anthropic", 60, ALNUM + "-_")),
        p("bearer token", 'curl -H "Authorization: Bearer {v}" https://api.internal/', rand("bearer", 40)),
    ]


PLANTED = _planted()

# Ordinary code that mentions secrets without holding one: never flagged, never changed.
ORDINARY = [
    'password = request.form["password"]',
    "token = get_token()",
    'api_key = os.environ["API_KEY"]',
    "const apiKey = process.env.API_KEY;",
    'SECRET_KEY = env("SECRET_KEY")',
    "export GITHUB_TOKEN=$(gh auth token)",
    "password: ${DB_PASSWORD}",
    'password: "{{ vault_db_password }}"',
    "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    'password = "changeme"',
    'API_KEY="<your-key>"',
    "TOKEN=${TOKEN}",
    'secret = "xxx"',
    'api_key: "your-api-key-here"',
    "def login(user, password=None):",
    "auth = (user, password)",
    "password = pwd",
    "    password=password,",
    "token = self.token",
    "API_KEY = settings.API_KEY",
    'TOKEN_URL = "https://oauth2.example.org/token"',
    'token_type = "Bearer"',
    "PASSWORD_MIN_LENGTH = 12",
    "max_tokens = 1000",
    'primary_key = "id"',
    'cache_key = "user:123:profile:v2"',
    'mask_token = "[MASK]"',
    'bos_token = "<s>"',
    'headers["Authorization"] = f"Bearer {token}"',
    'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):',
    'idempotency_token = "9a1f2c3d-4e5f-6789-abcd-ef0123456789"',
    'commit = "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"',
    'url = "https://user:password@example.com/"',
    'aws_key = "AK' + 'IAIOSFODNN7EXAMPLE"',  # the documentation example key
    "for key, value in items.items():",
    "",
]


def _pem_block(kind: str = "RSA") -> tuple[list[str], list[str]]:
    """A fake PEM private key: its lines, and the base64 body lines that must not survive."""
    rng = random.Random("pem")
    blob = base64.b64encode(bytes(rng.randrange(256) for _ in range(600))).decode()
    body = [blob[i:i + 64] for i in range(0, len(blob), 64)]
    dashes = "-" * 5
    lines = [f"{dashes}BEGIN {kind} PRIVATE KEY{dashes}", *body, f"{dashes}END {kind} PRIVATE KEY{dashes}"]
    return lines, body


# -- detection and redaction -------------------------------------------------------------------------------------

@pytest.mark.parametrize("planted", PLANTED, ids=lambda p: f"{p.kind}:{p.line[:18]}")
def test_each_planted_secret_is_found_with_its_kind_and_exact_span(planted: Planted) -> None:
    hits = find_secrets(planted.line)
    assert [h.kind for h in hits] == [planted.kind]
    hit = hits[0]
    assert hit.line == 1
    assert planted.line[hit.start:hit.end] == planted.value


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


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_code_is_not_a_secret(line: str) -> None:
    assert find_secrets(line) == []
    assert redact(line) == (line, 0)


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


@pytest.mark.parametrize("kind", ["RSA", "EC", "OPENSSH", "ENCRYPTED", "DSA"])
def test_every_private_key_flavour_is_caught(kind: str) -> None:
    block, body = _pem_block(kind)
    hits = find_secrets("\n".join(block))
    assert {h.kind for h in hits} == {"private key"}
    assert sorted({h.line for h in hits}) == list(range(1, len(block) + 1))


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


def test_line_numbers_count_newlines_only() -> None:
    aws = PLANTED[0]
    text = "a = 1\r\nb = 2\x0bc\n\n" + aws.line + "\n"
    assert [(h.kind, h.line) for h in find_secrets(text)] == [("AWS access key", 4)]


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


def test_hostile_long_lines_are_scanned_in_linear_time() -> None:
    n = 200_000
    hostile = [
        "password" + " " * n + "x",
        "//" * (n // 2) + "_authToken=",
        "a" * n + "://x",
        "eyJ" + "A" * n,
        'key="' * (n // 5),
        "Bearer " + "a1" * (n // 2) + "!",
        "-----BEGIN RSA PRIVATE KEY-----\n" + "A" * n,
    ]
    started = time.perf_counter()
    for text in hostile:
        redact(text)
    assert time.perf_counter() - started < 10  # measured about 0.3 s; quadratic patterns took minutes


# -- files and diffs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "sensitive"), [
    (".env", True),
    ("config/.env.local", True),
    (".env.production", True),
    ("deploy/prod.env", True),
    (".env.example", False),
    (".env.sample", False),
    (".env.template", False),
    (".env.dist", False),
    ("certs/server.pem", True),
    ("certs\\server.pem", True),
    ("tls/server.key", True),
    ("Store.P12", True),
    ("signing.pfx", True),
    ("android/release.jks", True),
    ("AuthKey_ABC123.p8", True),
    ("home/.ssh/id_rsa", True),
    ("id_ed25519", True),
    ("id_rsa.pub", False),
    ("certs/server.crt", False),
    (".npmrc", False),
    (".envrc", False),
    (".pypirc", True),
    (".netrc", True),
    (".git-credentials", True),
    ("credentials.json", True),
    ("client_secret_1234.apps.googleusercontent.com.json", True),
    ("home/.aws/credentials", True),
    ("infra/terraform.tfstate", True),
    ("infra/terraform.tfstate.backup", True),
    ("app/keys.py", False),
    ("docs/env.md", False),
    ("environment.yml", False),
    ("monkey.txt", False),
    ("src/secrets.py", False),
])
def test_sensitive_paths(path: str, sensitive: bool) -> None:
    assert is_sensitive_path(path) is sensitive


def _hunk(new_start: int, old_start: int, spec: list[tuple[str, str]], section: str = "") -> Hunk:
    """A hunk from (kind, text) pairs, numbering old and new lines as git would."""
    lines, old_no, new_no = [], old_start, new_start
    for kind, text in spec:
        if kind == "+":
            lines.append(Line("+", text, None, new_no))
            new_no += 1
        elif kind == "-":
            lines.append(Line("-", text, old_no, None))
            old_no += 1
        else:
            lines.append(Line(" ", text, old_no, new_no))
            old_no += 1
            new_no += 1
    old_len = sum(1 for k, _ in spec if k != "+")
    new_len = sum(1 for k, _ in spec if k != "-")
    return Hunk(old_start, old_len, new_start, new_len, section, tuple(lines))


def _by_kind(kind: str) -> Planted:
    return next(p for p in PLANTED if p.kind == kind)


def _settings_file() -> FileDiff:
    aws, stripe, gitlab = _by_kind("AWS access key"), _by_kind("Stripe key"), _by_kind("GitLab token")
    password = next(p for p in PLANTED if p.line.startswith("PASSWORD="))
    block, _ = _pem_block()
    first = _hunk(10, 10, [
        (" ", "import os"),                       # 10
        ("+", "DEBUG = False"),                   # 11
        ("+", aws.line),                          # 12: reported
        ("-", gitlab.line),                       # removed: redacted, not reported
        (" ", stripe.line),                       # 13: already committed: redacted, not reported
        ("+", 'password = request.form["password"]'),  # 14
        ("+", password.line),                     # 15: reported
    ], section='API_TOKEN = "' + rand("section", 30) + '"')
    second = _hunk(40, 38, [("+", line) for line in block] + [(" ", "def main():")])  # 40..: one finding at 40
    return FileDiff("app/settings.py", "app/settings.py", "modified", (first, second))


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


def test_secret_hit_is_a_plain_frozen_record() -> None:
    hit = SecretHit("GitHub token", 3, 4, 10)
    with pytest.raises(AttributeError):
        hit.line = 4  # type: ignore[misc]


# -- the detector library ----------------------------------------------------------------------------------------

_PROBE = """
import json, os, sys
events = []

def audit(event, args):
    if event == "socket.bind":
        # urllib3 (detect-secrets imports requests) binds a socket to ::1 once, to learn whether IPv6 exists:
        # loopback only, no traffic. Anything else would be a finding.
        if args[1][0] not in ("::1", "127.0.0.1"):
            events.append("bind " + str(args[1]))
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                   "socket.gethostbyname", "http.client.connect", "urllib.Request", "subprocess.Popen",
                   "os.system"):
        events.append(event)
    elif event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writes:
            events.append("write " + str(path))
    elif event in ("os.mkdir", "os.remove", "os.rename", "os.unlink", "shutil.rmtree"):
        events.append(event)

sys.addaudithook(audit)
import reviewbot.secrets as secrets
loaded_at_import = "detect_secrets" in sys.modules
text = sys.stdin.read()
redacted, count = secrets.redact(text)
print(json.dumps({"loaded_at_import": loaded_at_import, "loaded_after_scan": "detect_secrets" in sys.modules,
                  "count": count, "events": events}))
"""


def test_detect_secrets_is_imported_lazily_and_neither_writes_nor_connects() -> None:
    text = "\n".join(p.line for p in PLANTED)
    result = subprocess.run(
        [sys.executable, "-B", "-c", _PROBE], input=text, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=True)
    report = json.loads(result.stdout)
    assert report == {"loaded_at_import": False, "loaded_after_scan": True, "count": len(PLANTED), "events": []}
