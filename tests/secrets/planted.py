"""Planted secrets for the secrets tests, and diffs that carry them.

Every planted secret is built at run time from a seeded random generator and string pieces, so that this file holds
no string that looks like a live credential (nothing here trips a push-protection scanner), yet every value has the
real shape of its kind.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

from reviewbot.core.models import FileDiff, Hunk, Line

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
          "xo" + "xb-" + rand("s1", 12, string.digits) + "-" + rand("s2", 13, string.digits)
          + "-" + rand("s3", 24, LOWER_DIGITS)),
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
