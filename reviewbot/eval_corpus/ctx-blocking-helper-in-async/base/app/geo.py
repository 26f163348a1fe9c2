"""Country look-up for sign-ups, from the IP geolocation service."""

from __future__ import annotations

import requests

from app.settings import settings


def lookup_country(ip: str) -> str | None:
    """ISO country code of `ip`, or None when the service does not know it."""
    resp = requests.get(f"{settings.geo_url}/v1/ip/{ip}", timeout=3)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.json().get("country")
