"""Inbound webhooks from the payment provider."""

from __future__ import annotations

import hashlib
import hmac
import json

from fastapi import HTTPException

from app.settings import settings


def verify_signature(body: bytes, signature: str) -> dict:
    expected = hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise HTTPException(status_code=400, detail="bad signature")
    return json.loads(body)
