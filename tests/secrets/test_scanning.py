"""find_secrets: each planted secret found with its kind and exact span, ordinary code left alone, hostile input
scanned in linear time, and detect-secrets imported lazily without writes or connections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from reviewbot.secrets.redaction import redact
from reviewbot.secrets.scanning import find_secrets
from tests.secrets.planted import (
    ORDINARY,
    PLANTED,
    ROOT,
    Planted,
    _pem_block,
)


@pytest.mark.parametrize("planted", PLANTED, ids=lambda p: f"{p.kind}:{p.line[:18]}")
def test_each_planted_secret_is_found_with_its_kind_and_exact_span(planted: Planted) -> None:
    hits = find_secrets(planted.line)
    assert [h.kind for h in hits] == [planted.kind]
    hit = hits[0]
    assert hit.line == 1
    assert planted.line[hit.start:hit.end] == planted.value


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_code_is_not_a_secret(line: str) -> None:
    assert find_secrets(line) == []
    assert redact(line) == (line, 0)


@pytest.mark.parametrize("kind", ["RSA", "EC", "OPENSSH", "ENCRYPTED", "DSA"])
def test_every_private_key_flavour_is_caught(kind: str) -> None:
    block, body = _pem_block(kind)
    hits = find_secrets("\n".join(block))
    assert {h.kind for h in hits} == {"private key"}
    assert sorted({h.line for h in hits}) == list(range(1, len(block) + 1))


def test_line_numbers_count_newlines_only() -> None:
    aws = PLANTED[0]
    text = "a = 1\r\nb = 2\x0bc\n\n" + aws.line + "\n"
    assert [(h.kind, h.line) for h in find_secrets(text)] == [("AWS access key", 4)]


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
