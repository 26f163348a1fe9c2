"""Import endpoints."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("imports", __name__)


@bp.get("/imports")
def list_imports():
    return jsonify([])
