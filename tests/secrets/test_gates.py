"""The pre-filter in front of detect-secrets (reviewbot/secrets/__init__.py): the library is imported only when one of
its plugins could match, and that shortcut never changes what is found.

Each plugin has a `gate`: a cheap pattern written from the plugin's own patterns. It is safe only if every match of
every one of the plugin's patterns also holds a match of the gate; hypothesis generates matches of the installed
library's patterns to check exactly that, so a detect-secrets upgrade that widens a pattern fails here.
"""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

from reviewbot.secrets import records, scanning
from reviewbot.secrets.scanning import find_secrets

ROOT = Path(__file__).resolve().parents[2]


# A probe in a fresh interpreter: which texts make reviewbot import detect-secrets at all.
_PROBE = """
import json, sys
import reviewbot.secrets as secrets
text = sys.stdin.read()
hits = secrets.find_secrets(text)
print(json.dumps({"loaded": "detect_secrets" in sys.modules, "kinds": sorted({h.kind for h in hits})}))
"""

ORDINARY_CODE = '''
import os, requests

API_URL = "https://api.example.com/v1/orders"
TOKEN_HEADER = "Authorization"


def fetch_orders(session: requests.Session, customer_id: int, *, page_token: str | None = None) -> dict:
    """Fetch one page of a customer's orders; the key is read from the environment, never stored here."""
    api_key = os.environ["ORDERS_API_KEY"]
    password = settings.DATABASE_PASSWORD
    params = {"customer": customer_id, "limit": 100, "page_token": page_token}
    response = session.get(API_URL, params=params, headers={TOKEN_HEADER: f"Bearer {api_key}"}, timeout=10)
    response.raise_for_status()
    return response.json()
'''


def _probe(text: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE], input=text, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=True)
    return json.loads(proc.stdout)


def _token(seed: str, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))


def test_ordinary_code_is_scanned_without_importing_the_library():
    report = _probe(ORDINARY_CODE + "\n"
                    + (Path(ROOT) / "reviewbot" / "pipeline/planning.py").read_text(encoding="utf-8"))
    assert report == {"loaded": False, "kinds": []}


def test_a_library_only_kind_still_loads_the_library_and_is_found():
    slack = "xo" + "xb-" + "1234567890-" + "0987654321-" + _token("slack", 24, string.ascii_lowercase + string.digits)
    report = _probe(f'SLACK = "{slack}"\n')
    assert report == {"loaded": True, "kinds": ["Slack token"]}


def test_needle_less_plugins_are_gated_on_their_shape():
    """Discord and Telegram tokens have no literal part: their gates run over the whole text."""
    telegram = "123456789" + ":" + "AA" + _token("telegram", 33)
    report = _probe(f"BOT = {telegram!r}\n")
    assert report["loaded"] is True
    assert "Telegram bot token" in report["kinds"]


def test_repeated_scans_give_equal_independent_results():
    text = 'db_password = "' + "Qx7" + _token("pw", 12) + '"\n'
    first = find_secrets(text)
    first.append(None)  # a caller's list is its own: the remembered result is not touched
    second = find_secrets(text)
    assert second == first[:-1] and len(second) == 1 and second[0].kind == records.SECRET_ASSIGNMENT
    scanning._SCANNED.clear()
    assert find_secrets(text) == second  # computed afresh, the same
