"""Settling captured charges."""

from __future__ import annotations

import logging

from app.billing import gateway, ledger
from app.billing.models import Order

log = logging.getLogger(__name__)


def settle(order: Order) -> None:
    charge = gateway.capture(order.payment_intent_id)
    order.mark_paid(charge.id)
