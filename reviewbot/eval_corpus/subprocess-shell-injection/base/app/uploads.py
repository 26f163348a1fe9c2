"""Image uploads."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, jsonify, request

UPLOAD_DIR = Path("/srv/uploads")
bp = Blueprint("uploads", __name__, url_prefix="/uploads")


@bp.post("/")
def upload():
    file = request.files["image"]
    target = UPLOAD_DIR / file.filename
    file.save(target)
    return jsonify({"path": str(target)}), 201
