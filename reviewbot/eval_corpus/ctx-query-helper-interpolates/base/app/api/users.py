"""User endpoints."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("users", __name__)


@bp.get("/users/me")
def me():
    return jsonify({"ok": True})
