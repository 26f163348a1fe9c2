"""Queries over the products table."""

from __future__ import annotations

import sqlite3


def products_in_category(conn: sqlite3.Connection, category_id: int, limit: int = 50) -> list[dict]:
    cur = conn.execute(
        "SELECT id, name, price_cents FROM products WHERE category_id = ? ORDER BY name LIMIT ?",
        (category_id, limit),
    )
    return [{"id": r[0], "name": r[1], "price_cents": r[2]} for r in cur.fetchall()]


def products_on_sale(conn: sqlite3.Connection, limit: int = 50) -> list[dict]:
    cur = conn.execute(
        "SELECT id, name, price_cents FROM products WHERE sale_price_cents IS NOT NULL ORDER BY name LIMIT ?",
        (limit,),
    )
    return [{"id": r[0], "name": r[1], "price_cents": r[2]} for r in cur.fetchall()]
