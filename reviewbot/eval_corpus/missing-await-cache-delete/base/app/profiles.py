"""Profile read and update endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.cache import cache
from app.db import get_db
from app.models import User
from app.schemas import ProfileOut

router = APIRouter(prefix="/profiles")


@router.get("/{user_id}", response_model=ProfileOut)
async def read_profile(user_id: int, db: AsyncSession = Depends(get_db)) -> ProfileOut:
    cached = await cache.get(f"profile:{user_id}")
    if cached is not None:
        return ProfileOut.model_validate_json(cached)
    user = await db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404)
    profile = ProfileOut.model_validate(user)
    await cache.set(f"profile:{user_id}", profile.model_dump_json(), ex=300)
    return profile
