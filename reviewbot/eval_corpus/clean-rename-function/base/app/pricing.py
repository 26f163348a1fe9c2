"""Price arithmetic in integer cents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class LineItem:
    sku: str
    unit_cents: int
    quantity: int


def calc_total(items: list[LineItem], discount_percent: int = 0) -> int:
    """Sum of the items, less a whole-percent discount, rounded half up to the cent."""
    if not 0 <= discount_percent <= 100:
        raise ValueError("discount_percent must be between 0 and 100")
    gross = sum(item.unit_cents * item.quantity for item in items)
    net = Decimal(gross) * (100 - discount_percent) / 100
    return int(net.quantize(Decimal(1), rounding=ROUND_HALF_UP))
