"""Account balance operations (psycopg 3)."""

from __future__ import annotations

from decimal import Decimal

import psycopg


class InsufficientFunds(Exception):
    pass


def balance(conn: psycopg.Connection, account_id: int) -> Decimal:
    row = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
    return row[0]
