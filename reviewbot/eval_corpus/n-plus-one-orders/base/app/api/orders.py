"""Order endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Customer, Order, OrderItem

router = APIRouter(prefix="/orders")


@router.get("/{order_id}")
def get_order(order_id: int, db: Session = Depends(get_db)) -> dict:
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404)
    return {"id": order.id, "status": order.status, "total": str(order.total)}
