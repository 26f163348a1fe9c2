"""The shared Redis cache (asyncio client: every command is a coroutine)."""

from __future__ import annotations

from redis.asyncio import Redis

from app.settings import settings

cache = Redis.from_url(settings.redis_url, decode_responses=True)
