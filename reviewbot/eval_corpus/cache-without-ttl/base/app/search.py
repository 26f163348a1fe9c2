"""Catalogue search."""

from __future__ import annotations

from app.search_backend import SearchBackend

backend = SearchBackend.from_env()


def search(query: str, limit: int = 20) -> list[dict]:
    return backend.query(query.strip(), limit=limit)
