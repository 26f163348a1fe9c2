"""Billing endpoints."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("billing", __name__)


@bp.get("/billing/plans")
def plans():
    return jsonify(["free", "pro"])
