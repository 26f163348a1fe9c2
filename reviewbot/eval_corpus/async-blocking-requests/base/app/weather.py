"""Weather lookups proxied from the forecast provider."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from app.settings import settings

router = APIRouter(prefix="/weather")
_client = httpx.AsyncClient(base_url=settings.forecast_url, timeout=5.0)


@router.get("/current/{city}")
async def current(city: str) -> dict:
    resp = await _client.get("/v1/current", params={"q": city})
    resp.raise_for_status()
    return resp.json()
