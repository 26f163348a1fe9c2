"""Checkout endpoint."""

from __future__ import annotations

from fastapi import APIRouter

from app.pricing import LineItem, calc_total
from app.schemas import CartIn, QuoteOut

router = APIRouter(prefix="/checkout")


@router.post("/quote", response_model=QuoteOut)
async def quote(cart: CartIn) -> QuoteOut:
    items = [LineItem(i.sku, i.unit_cents, i.quantity) for i in cart.items]
    return QuoteOut(total_cents=calc_total(items, cart.discount_percent))
