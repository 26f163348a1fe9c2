"""Keep secrets on the developer's machine: find them, redact them before anything is sent, report them locally.

Detection uses the token detectors of Yelp's detect-secrets for the formats it knows well, and a few rules of our own
where it has gaps. The library costs ~0.13 s to import, so it is imported only when a cheap pre-filter (needles and a
"gate" pattern per plugin, from a static table) says one of its plugins could match; most diffs never load it. Each
text's result is remembered for the run, so a file scanned for local findings is not scanned again for redaction.
Our own rules:

- a private-key block spans lines (BEGIN .. END): every line of it is redacted, not only the header the library flags;
- passwords in URLs with an empty user name or characters the library's pattern refuses (``redis://:pw@host``);
- assignments to secret-sounding names (``*_SECRET``, ``*_TOKEN``, ``*_KEY``, ``*PASSWORD*``) in code, YAML, env,
  INI and JSON styles. The library's KeywordDetector is not used: it needs a file name to pick its patterns, does not
  know ``*_TOKEN`` names, and accepts any word as a value. Here the value must look like a literal secret, not an
  expression, a lookup or a placeholder (``changeme``, ``xxx``, ``<your-key>``, ``${VAR}``);
- newer key formats: Google ``AIza...``, OpenAI ``sk-proj-...`` and plain ``sk-...``, Anthropic, Hugging Face,
  GitHub fine-grained ``github_pat_...``, and ``Authorization: Bearer/Basic`` credentials.

Only the plugins' compiled regular expressions (and the JWT shape check) are used: never ``analyze_line``, which
consults detect-secrets' global settings and may call a plugin's ``verify`` (a network request with the secret).
Nothing here writes a file or opens a connection.

A line holding ``pragma: allowlist secret`` (detect-secrets' own marker) is never flagged nor redacted.

A CI check scans diffs written by strangers, so the scan takes time in proportion to the text even on hostile
input: long lines are searched in windows (some library patterns backtrack quadratically on a long line), a token
run is re-checked only a few times, and the rounds of redaction are bounded (see _windowed, _token_hits, _ROUNDS).
tests/secrets/test_limits.py times the worst inputs we know.
"""

from __future__ import annotations

# The package's public names, wherever they live inside it.
from reviewbot.secrets.local_findings import CATEGORY, file_secrets, secret_findings, secret_phrase
from reviewbot.secrets.records import PRIVATE_KEY, SECRET_ASSIGNMENT, SecretHit
from reviewbot.secrets.redaction import Position, placeholder, redact, redact_file_diff
from reviewbot.secrets.scanning import find_secrets
from reviewbot.secrets.sensitive_files import is_sensitive_path, sensitive_reason

__all__ = [
    "CATEGORY",
    "PRIVATE_KEY",
    "Position",
    "SECRET_ASSIGNMENT",
    "SecretHit",
    "file_secrets",
    "find_secrets",
    "is_sensitive_path",
    "placeholder",
    "redact",
    "redact_file_diff",
    "secret_findings",
    "secret_phrase",
    "sensitive_reason",
]
