"""OAuth 2 authorization-code flow against the identity provider."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from app.settings import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def authorize_url(state: str) -> str:
    return (
        f"{settings.idp_url}/authorize?response_type=code&client_id={settings.client_id}"
        f"&redirect_uri={settings.redirect_uri}&state={state}"
    )
