"""Payments: charge the customer and write the ledger row."""

from __future__ import annotations

from app.db import db
from app.gateway import gateway


def record_payment(invoice_id: int, customer_id: str, amount_cents: int) -> int:
    """Charge the customer and record the payment; returns the ledger row id."""
    charge = gateway.create_charge(customer_id, amount_cents)
    row = db.execute(
        "INSERT INTO ledger (invoice_id, charge_id, amount_cents) VALUES (%s, %s, %s) RETURNING id",
        (invoice_id, charge.id, amount_cents),
    )
    return row.id
