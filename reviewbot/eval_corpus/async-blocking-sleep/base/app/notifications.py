"""Outbound notifications for order events."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException

from app.deps import get_mailer

router = APIRouter(prefix="/notifications")
log = logging.getLogger(__name__)


@router.post("/orders/{order_id}/resend")
async def resend_confirmation(order_id: int) -> dict[str, str]:
    mailer = get_mailer()
    sent = await mailer.send_order_confirmation(order_id)
    if not sent:
        raise HTTPException(status_code=502, detail="mail relay refused the message")
    return {"status": "sent"}
