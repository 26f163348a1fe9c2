"""Shared pagination for list endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int  # 1-based, as the API documents it
    pages: int
    total: int
