"""User storage."""

from __future__ import annotations

from dataclasses import dataclass

from app.db import db


@dataclass(frozen=True)
class User:
    id: int
    email: str
    plan: str


def get_user(user_id: int) -> User | None:
    row = db.fetch_one("SELECT id, email, plan FROM users WHERE id = %s", (user_id,))
    if row is None:
        return None
    return User(*row)
