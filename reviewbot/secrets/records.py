"""What a scan finds: a SecretHit (kind, line, span) and the kind names other modules test for."""

from __future__ import annotations

from dataclasses import dataclass

PRIVATE_KEY = "private key"
SECRET_ASSIGNMENT = "secret assignment"


@dataclass(frozen=True, slots=True)
class SecretHit:
    kind: str  # e.g. "AWS access key", "GitHub token", "private key", "password in URL", "secret assignment"
    line: int  # 1-based line number within the text scanned (the new-file line number for a FileDiff's new side)
    start: int  # character offsets of the secret value within that line
    end: int
