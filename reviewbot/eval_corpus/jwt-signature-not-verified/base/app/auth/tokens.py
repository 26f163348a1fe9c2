"""Bearer-token authentication."""

from __future__ import annotations

import jwt
from fastapi import Header, HTTPException

from app.settings import settings


def current_user_id(authorization: str = Header(...)) -> int:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401)
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], audience="api")
    except jwt.PyJWTError:
        raise HTTPException(status_code=401) from None
    return int(claims["sub"])
