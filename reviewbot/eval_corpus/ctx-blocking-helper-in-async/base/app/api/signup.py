"""Sign-up endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.models import SignupForm
from app.users import create_user

router = APIRouter()


@router.post("/signup")
async def signup(form: SignupForm, request: Request) -> dict:
    user = await create_user(form.email, form.password)
    return {"id": user.id}
