"""Names and fingerprints derived from a finding: rule slugs, security categories, stable hashes.

Fingerprints never include line numbers (a finding must keep its identity when lines are inserted above it) nor,
where avoidable, the model's wording: the flagged code (`quote`) is preferred over the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from reviewbot.core.models import Finding

_NON_SLUG = re.compile(r"[^a-z0-9]+")

# Words of a category slug that mark it as a security concern (SARIF security-severity, GitLab "Security").
# Matched per word so that e.g. "resource" does not count as "rce".
_SECURITY_PREFIXES = (
    "secur", "insecur", "secret", "credential", "password", "inject", "auth", "crypt", "vuln", "permission",
    "privilege", "deserializ", "deserialis", "traversal", "sanitiz", "sanitis", "exploit", "taint",
)
_SECURITY_WORDS = frozenset({"rce", "cve", "cwe", "tls", "ssl", "xss", "xxe", "csrf", "ssrf", "sqli", "idor", "owasp"})


def slug(category: str) -> str:
    """`SQL Injection` -> `sql-injection`; empty or symbol-only categories become `general`."""
    return _NON_SLUG.sub("-", category.lower()).strip("-") or "general"


def is_security_category(category: str) -> bool:
    words = slug(category).split("-")
    return any(w in _SECURITY_WORDS or w.startswith(_SECURITY_PREFIXES) for w in words)


def normalise_code(text: str) -> str:
    """Whitespace-insensitive form of a quoted line or message: runs of whitespace collapse to one space."""
    return " ".join(text.split())


def anchor_text(finding: Finding) -> str:
    """What identifies the flagged place: the quoted code when the model gave it, else the message."""
    if finding.quote and finding.quote.strip():
        return "quote:" + normalise_code(finding.quote)
    return "message:" + normalise_code(finding.message)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def location_hash(finding: Finding) -> str:
    """Path + category + flagged text: survives line shifts, ignores which agent spoke."""
    return _digest("reviewbot-location", finding.path, slug(finding.category), anchor_text(finding))


def fingerprint(finding: Finding) -> str:
    """The `reviewbot/v1` identity of a finding: path, agent, category and flagged text (no line number)."""
    return _digest("reviewbot/v1", finding.path, finding.agent, slug(finding.category), anchor_text(finding))


def unique_fingerprints(findings: Iterable[Finding]) -> list[str]:
    """`fingerprint` for each finding, with later duplicates made distinct (same order in, same result out)."""
    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        base = fingerprint(finding)
        n = seen.get(base, 0)
        seen[base] = n + 1
        result.append(base if n == 0 else _digest(base, str(n)))
    return result
