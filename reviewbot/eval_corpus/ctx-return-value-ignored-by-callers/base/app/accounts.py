"""Account life cycle."""

from __future__ import annotations

from app.db import db
from app.errors import NotFound


def deactivate(user_id: int) -> None:
    """Deactivate an account; raises NotFound when there is no such active account."""
    changed = db.execute("UPDATE users SET active = false WHERE id = %s AND active", (user_id,)).rowcount
    if changed == 0:
        raise NotFound(f"no active user {user_id}")
