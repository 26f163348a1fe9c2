import os

from flask import Blueprint, current_app, jsonify

from app.auth import login_required

bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.get("/")
@login_required
def list_exports():
    return jsonify(sorted(os.listdir(current_app.config["EXPORT_DIR"])))
