"""Thin client for the card gateway's REST API."""

from __future__ import annotations

from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Charge:
    id: str
    amount_cents: int
    status: str


class GatewayClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {api_key}"

    def charge(self, customer_id: str, amount_cents: int) -> Charge:
        resp = self._session.post(
            f"{self._base_url}/charges",
            json={"customer": customer_id, "amount": amount_cents},
            timeout=self._timeout,
        )
        resp.raise_for_status()
        body = resp.json()
        return Charge(body["id"], body["amount"], body["status"])
