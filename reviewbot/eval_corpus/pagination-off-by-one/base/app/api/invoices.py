from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Invoice

router = APIRouter(prefix="/invoices")


@router.get("")
def list_invoices(page: int = Query(1, ge=1), db: Session = Depends(get_db)) -> dict:
    rows = db.query(Invoice).order_by(Invoice.id).limit(25).all()
    return {"items": [r.to_dict() for r in rows]}
