"""Small query helpers over the shared connection."""

from __future__ import annotations

from app.db import connection


def find_by(table: str, column: str, value: str) -> list[dict]:
    cursor = connection.cursor()
    cursor.execute(f"SELECT * FROM {table} WHERE {column} = '{value}'")
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
