"""Domain events published to the message broker."""

from __future__ import annotations

import json
import logging

log = logging.getLogger(__name__)


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
