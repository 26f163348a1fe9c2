"""Nightly settlement of open invoices."""

from __future__ import annotations

import logging

from app.invoices import open_invoices
from app.payments import record_payment

log = logging.getLogger(__name__)


def settle_open_invoices() -> int:
    settled = 0
    for invoice in open_invoices():
        record_payment(invoice.id, invoice.customer_id, invoice.amount_cents)
        settled += 1
    return settled
