"""Outbound notifications for order events."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, HTTPException

from app.deps import get_mailer

router = APIRouter(prefix="/notifications")
log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@router.post("/orders/{order_id}/resend")
async def resend_confirmation(order_id: int) -> dict[str, str]:
    mailer = get_mailer()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        sent = await mailer.send_order_confirmation(order_id)
        if sent:
            return {"status": "sent", "attempts": str(attempt)}
        log.warning("mail relay refused order %s (attempt %d)", order_id, attempt)
        time.sleep(2 * attempt)
    raise HTTPException(status_code=502, detail="mail relay refused the message")
