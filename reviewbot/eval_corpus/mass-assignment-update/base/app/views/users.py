from flask import Blueprint, abort, g, jsonify

from app.auth import login_required
from app.models import User, db

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/<int:user_id>")
@login_required
def show(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    return jsonify(user.to_dict())
