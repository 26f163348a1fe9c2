"""Charging customers through the payment provider."""

from __future__ import annotations

import requests

from app.settings import settings


class Billing:
    def __init__(self, api_url: str, api_key: str) -> None:
        self._api_url = api_url
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {api_key}"

    def charge(self, customer_id: str, amount_cents: int, description: str) -> str:
        """Create a new charge; every call charges the customer again."""
        resp = self._session.post(
            f"{self._api_url}/charges",
            json={"customer": customer_id, "amount": amount_cents, "description": description},
            timeout=10,
        )
        resp.raise_for_status()
        return resp.json()["id"]


billing = Billing(settings.billing_url, settings.billing_key)
