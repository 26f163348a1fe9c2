"""Order endpoints."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/orders")


@router.get("/health")
async def health() -> dict:
    return {"ok": True}
