"""Reporting endpoints for the back office."""

from flask import Blueprint, jsonify

from app.db import pool

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("/weekly")
def weekly_report():
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT week, total FROM weekly_totals ORDER BY week DESC LIMIT 12")
        rows = cur.fetchall()
    return jsonify([{"week": w.isoformat(), "total": float(t)} for w, t in rows])
