"""Order queries (synchronous SQLAlchemy session)."""

from __future__ import annotations

from sqlalchemy import select

from app.db import SessionLocal
from app.models import Order


def load_orders(customer_id: int) -> list[Order]:
    with SessionLocal() as session:
        return list(session.scalars(select(Order).where(Order.customer_id == customer_id)))
