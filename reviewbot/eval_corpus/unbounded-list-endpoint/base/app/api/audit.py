"""Audit trail endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_db
from app.models import AuditEvent, LoginAttempt
from app.schemas import AuditEventOut, LoginAttemptOut

router = APIRouter(prefix="/audit")


@router.get("/logins", response_model=list[LoginAttemptOut])
async def list_logins(
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
    db: AsyncSession = Depends(get_db),
) -> list[LoginAttempt]:
    stmt = select(LoginAttempt).order_by(LoginAttempt.created_at.desc()).limit(limit).offset(offset)
    return list(await db.scalars(stmt))
