"""Admin actions."""

from __future__ import annotations

from app.accounts import deactivate
from app.audit import audit


def ban_user(admin_id: int, user_id: int, reason: str) -> dict:
    deactivate(user_id)
    audit.record(admin_id, "ban", user_id, reason=reason)
    return {"banned": user_id}


def close_account(user_id: int) -> dict:
    deactivate(user_id)
    return {"closed": user_id}
