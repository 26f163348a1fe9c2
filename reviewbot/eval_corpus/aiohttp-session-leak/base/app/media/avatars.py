"""Avatar storage."""

from __future__ import annotations

from pathlib import Path

AVATAR_DIR = Path("/var/lib/app/avatars")


def avatar_path(user_id: int) -> Path:
    return AVATAR_DIR / f"{user_id}.png"
