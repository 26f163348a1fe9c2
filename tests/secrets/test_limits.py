"""The secret scan on hostile input (reviewbot/secrets/__init__.py): a CI check scans diffs written by strangers, so no
line may make it slow, and the measures that keep it fast (long lines searched in windows, bounded re-checks, linear
helper patterns) must not cost any detection on real code.

Timings are generous bounds for a 2-core machine; the scan of each input was measured at 0.01-0.3 s (several of
them took 3 s, 5 s or minutes before). Planted secrets are built at run time from seeded random strings and string
pieces, so this file holds nothing that looks like a live credential.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import time

import pytest
from hypothesis import given, settings, strategies as st

from reviewbot.core.models import Diff, FileDiff, Hunk, Line
from reviewbot.secrets import scanning
from reviewbot.secrets.local_findings import secret_findings
from reviewbot.secrets.redaction import redact, redact_file_diff
from reviewbot.secrets.scanning import find_secrets

ALNUM = string.ascii_letters + string.digits
LENGTH = 120_000  # characters of each hostile line
EACH_BOUND = 1.5  # seconds for scanning and redacting one hostile input
ALL_BOUND = 15.0  # seconds for all of them, one after the other


def rand(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """A seeded random string holding an upper-case letter, a lower-case letter and a digit where the alphabet has
    them (as real tokens do)."""
    rng = random.Random(seed)
    classes = [set(alphabet) & set(c) for c in (string.ascii_uppercase, string.ascii_lowercase, string.digits)]
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if all(set(value) & c for c in classes if c):
            return value


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(claims: int = 1) -> str:
    """A well-formed JWT; more claims make it longer (claims=60 gives about 3 kB)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = {"sub": "4242", "name": "Test User", "iat": 1700000000}
    body.update({f"claim_{i}": rand(f"claim-{i}", 24) for i in range(claims - 1)})
    return f"{header}.{b64url(json.dumps(body).encode())}.{rand('jwt-sig', 43, ALNUM + '-_')}"


def github_token() -> str:
    return "gh" + "p_" + rand("ghp", 36)


def repeat(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def _base64_line() -> str:
    rng = random.Random("b64")
    return base64.b64encode(bytes(rng.randrange(256) for _ in range(LENGTH * 3 // 4))).decode()


def _minified(length: int) -> str:
    """Something like a line of minified JavaScript: short names, dots, calls, strings, no secrets."""
    rng = random.Random("minified")
    words = ["a", "b", "fn", "this", "el", "x", "length", "push", "map", "key", "token", "value", "get", "e", "t"]
    parts, size = [], 0
    while size < length:
        parts.append(rng.choice(["{0}.{1}({2});", "var {0}={1}||{2};", "if({0}){{{1}.{2}()}}", '{0}["{1}"]={2};',
                                 "return {0}?{1}:{2};"]).format(*(rng.choice(words) for _ in range(3))))
        size += len(parts[-1])
    return "".join(parts)[:length]


SQUARE_CASCADE = "sq0" + "csp-hf_eyJsq0" + "csp-"
HOSTILE = {
    "eyJ": repeat("eyJ"),
    "eyJa.": repeat("eyJa."),
    "a": repeat("a"),
    "spaces": repeat(" "),
    "slashes": repeat("/"),
    "equals": repeat("="),
    "-----BEGIN": repeat("-----BEGIN"),
    "key headers": repeat("-----BEGIN RSA PRIVATE KEY-----"),
    "password=": repeat("password="),
    "password then spaces": "password" + " " * LENGTH + "x",
    "://:@": repeat("://:@"),
    "base64": _base64_line(),
    "sk- and one T3BlbkFJ": repeat("sk-") + "T3Bl" + "bkFJ" + "a" * 20,
    "unclosed brackets in a value": 'api_key = "' + repeat("[a") + '"',
    "unclosed placeholders": repeat("«REDACTED:") + " AK" + "IA" + rand("aws-1", 16, string.ascii_uppercase),
    "placeholders and keys": repeat("«REDACTED:x» AK" + "IA" + rand("aws-2", 16, string.ascii_uppercase) + " "),
    "Slack prefixes": repeat("xo" + "xb-1-"),
    # Each redaction exposed one more Square token (the others were glued to "eyJ"): one round, one scan, apiece.
    "a secret more in each round": repeat(SQUARE_CASCADE),
    'key="': repeat('key="'),
    "Bearer": repeat("Bearer "),
    "quotes": repeat("'\""),
    "key headers on their own lines": "\n".join(["-----BEGIN RSA PRIVATE KEY-----", "A" * 64] * 1700),
    "headers far from a footer": "\n".join((["-----BEGIN RSA PRIVATE KEY-----"] * 150 + ["x = 1 + 2"] * 250
                                            + ["-----END RSA PRIVATE KEY-----"]) * 4),
}


def _scan_and_redact(text: str) -> float:
    """Seconds to find the secrets, redact them, and check the redaction is final (a second, different scan)."""
    scanning._SCANNED.clear()  # time a real scan, not a remembered one
    started = time.perf_counter()
    find_secrets(text)
    redacted, _ = redact(text)
    assert redact(redacted)[1] == 0
    return time.perf_counter() - started


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_input_is_scanned_and_redacted_quickly(name):
    text = HOSTILE[name]
    elapsed = _scan_and_redact(text)
    assert elapsed < EACH_BOUND, f"{name}: {elapsed:.2f} s"


def test_all_hostile_inputs_together_stay_within_budget():
    started = time.perf_counter()
    for text in HOSTILE.values():
        _scan_and_redact(text)
    assert time.perf_counter() - started < ALL_BOUND


def test_a_hostile_line_in_a_diff_is_redacted_and_reported_quickly():
    """The same work through the diff functions a review calls, on added and removed lines."""
    lines = tuple(Line("+", text, None, n) for n, text in enumerate(HOSTILE.values(), start=1))
    lines += (Line("-", HOSTILE["eyJ"], 1, None),)
    f = FileDiff("web/app.min.js", "web/app.min.js", "modified", (Hunk(1, 1, 1, len(lines) - 1, "", lines),))
    scanning._SCANNED.clear()
    started = time.perf_counter()
    redacted, _ = redact_file_diff(f)
    secret_findings(Diff((f,)))
    assert time.perf_counter() - started < ALL_BOUND
    assert len(redacted.hunks[0].lines) == len(lines)


def test_a_line_that_shows_a_secret_more_each_round_ends_redacted_whole():
    """After a few rounds, the parts of lines still showing secrets are redacted whole, keeping every line break."""
    unit = SQUARE_CASCADE
    text = "ok = 1\n" + repeat(unit, 30_000) + "\r" + repeat(unit, 30_000) + "\u2028tail = 2\r\nend"
    started = time.perf_counter()
    redacted, count = redact(text)
    assert time.perf_counter() - started < EACH_BOUND
    assert count > 0 and "sq0" + "csp-" not in redacted
    assert redacted.split("\n")[0] == "ok = 1" and redacted.endswith("\u2028tail = 2\r\nend")
    assert len(redacted.split("\n")) == len(text.split("\n"))
    assert len(redacted.splitlines()) == len(text.splitlines())
    assert redact(redacted) == (redacted, 0)


# -- detection survives on long lines ----------------------------------------------------------------------------

FILLERS = {
    "minified code": _minified(LENGTH),
    "letters": repeat("a"),
    "eyJ": repeat("eyJ"),
    "sk-": repeat("sk-"),
    "base64": _base64_line(),
}
TOKENS = {"JSON web token": fake_jwt(), "GitHub token": github_token()}


@pytest.mark.parametrize("filler", list(FILLERS))
@pytest.mark.parametrize("kind", list(TOKENS))
def test_a_token_at_position_100000_of_a_long_line_is_found_and_redacted(kind, filler):
    token = TOKENS[kind]
    at = 100_000
    line = FILLERS[filler][:at - 1] + ";" + token + ";" + FILLERS[filler][at:]  # ";": not glued to a word
    hits = [h for h in find_secrets(line) if h.kind == kind]
    assert [(h.line, h.start, h.end) for h in hits] == [(1, at, at + len(token))]
    redacted, count = redact(line)
    assert token not in redacted and count >= 1
    assert redacted.startswith(line[:at]) and redacted.endswith(line[at + len(token):])


def test_a_jwt_longer_than_its_search_window_is_redacted_whole():
    token = fake_jwt(claims=60)
    assert len(token) > 2_500
    for at in (50_000, 50_000 + 700, 51_200 - 10):  # before, across and at window edges
        line = _minified(at) + "=" + token + ";" + _minified(20_000)
        hits = [h for h in find_secrets(line) if h.kind == "JSON web token"]
        assert [(h.start, h.end) for h in hits] == [(at + 1, at + 1 + len(token))]
        assert token[-40:] not in redact(line)[0]


def _planted_lines() -> list[tuple[str, str, str]]:
    """(kind, short line of code, secret) for kinds found by windowed rules and by the unwindowed assignment rules."""
    aws = "AK" + "IA" + rand("aws", 16, string.ascii_uppercase + string.digits)
    slack = "xo" + "xb-" + rand("s1", 12, string.digits) + "-" + rand("s2", 13, string.digits) + "-" + rand(
        "s3", 24, string.ascii_lowercase + string.digits)
    return [
        ("GitHub token", 'gh="{v}"', github_token()),
        ("AWS access key", "k='{v}'", aws),
        ("JSON web token", 'jwt="{v}"', fake_jwt()),
        ("Slack token", "hook={v}", slack),
        ("password in URL", 'db="postgres://app:{v}@db:5432/app"', rand("db", 14)),
        ("Google API key", 'maps="{v}"', "AI" + "za" + rand("google", 35, ALNUM + "-_")),
        ("secret assignment", 'clientSecret:"{v}"', rand("client", 32)),
        ("secret assignment", 'api_key = "{v}"', "LS0t" + rand("pem-b64", 3_000, ALNUM + "+/")),  # a long value
    ]


@pytest.mark.parametrize("offset", [0, 1_000, 1_020, 2_040, 2_048, 4_090, 6_140, 8_190, 30_700])
def test_secrets_across_window_edges_are_found_exactly_as_on_their_own_line(offset):
    """Each planted line is found alone; glued into a long line at every kind of window edge, the same spans are
    found, shifted. Window steps are 256, 1,024 and 2,048 characters."""
    for kind, template, secret in _planted_lines():
        short = template.replace("{v}", secret)
        alone = [(h.kind, h.start, h.end) for h in find_secrets(short)]
        assert alone and alone[0][0] == kind, short[:60]
        head = _minified(offset) + (";" if offset else "")
        line = head + short + ";" + _minified(12_000)
        shifted = [(k, s + len(head), e + len(head)) for k, s, e in alone]
        assert [(h.kind, h.start, h.end) for h in find_secrets(line)] == shifted, (kind, offset)


def test_a_long_line_of_many_secrets_finds_each_of_them():
    planted = _planted_lines()
    pieces, expected = [], []
    for n in range(40):
        kind, template, secret = planted[n % len(planted)]
        prefix = ";".join(pieces) + (";" if pieces else "")
        start = len(prefix) + template.index("{v}")
        expected.append((kind, start, start + len(secret)))
        pieces.append(template.replace("{v}", secret))
        pieces.append(_minified(300 + 97 * n))
    line = ";".join(pieces)
    assert len(line) > 50_000
    assert [(h.kind, h.start, h.end) for h in find_secrets(line)] == expected
    redacted, count = redact(line)
    assert count == 40 and not any(secret in redacted for _, _, secret in planted)


def test_redaction_of_hostile_text_keeps_lines_and_is_idempotent():
    text = "\n".join([HOSTILE["eyJa."][:30_000], "x = 1", TOKENS["JSON web token"] + " " + HOSTILE["://:@"][:20_000],
                      HOSTILE["placeholders and keys"][:30_000], "\r", HOSTILE["key headers"][:10_000]])
    redacted, count = redact(text)
    assert count > 0
    assert len(redacted.split("\n")) == len(text.split("\n"))
    assert len(redacted.splitlines()) == len(text.splitlines())
    assert redact(redacted) == (redacted, 0)
    assert redact(str(text)) == (redacted, count)


# -- the pieces that make it linear ----------------------------------------------------------------------------

_BOUNDED_PATTERNS = [re.compile(p) for p in (r"(?:ab|b)c{0,3}d?", r"\d{2,4}", r"x[a-z]{0,6}y", r"(?<![a-z])q[a-z]{2}",
                                             r"^a+", r"[ab]{3}(?!c)", r"c(?=ab)")]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdqxy12 ", min_size=0, max_size=300), st.integers(min_value=8, max_value=40))
def test_windowed_search_finds_what_a_whole_line_search_finds(line, step):
    """For matches no longer than the step (every pattern here), the windows give exactly finditer's matches."""
    for pattern in _BOUNDED_PATTERNS:
        expected = [m.span() for m in pattern.finditer(line)]
        assert [m.span() for m in scanning._windowed(pattern, line, step)] == expected, pattern.pattern


def test_a_match_cut_by_its_window_is_matched_again_over_more_of_the_line():
    line = "z" * 50 + "a" * 200 + "z" * 50
    assert [m.span() for m in scanning._windowed(re.compile("a+"), line, 32)] == [(50, 250)]
    # Beyond _LONGEST, a run comes in pieces: in order, apart, together covering it.
    longest = scanning._LONGEST
    line = "z" * 50 + "a" * (2 * longest + 100) + "z" * 50
    spans = [m.span() for m in scanning._windowed(re.compile("a+"), line, 32)]
    assert spans[0] == (50, 50 + longest)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert spans[-1][1] == 50 + 2 * longest + 100


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 8)), max_size=12),
       st.lists(st.tuples(st.integers(0, 60), st.integers(1, 8)), max_size=8))
def test_outside_drops_exactly_the_spans_that_overlap_a_placeholder(raw_spans, raw_taken):
    spans = [(s, s + n, 0) for s, n in raw_spans]
    taken, end = [], -1
    for s, n in sorted(raw_taken):  # placeholders are apart and in order
        if s >= end:
            taken.append((s, s + n))
            end = s + n
    expected = [sp for sp in spans if not any(sp[0] < e and b < sp[1] for b, e in taken)]
    assert scanning._outside(spans, taken) == expected
