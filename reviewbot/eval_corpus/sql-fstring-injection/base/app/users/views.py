from flask import Blueprint, abort, jsonify

from app.db import get_conn
from app.users.repository import get_user

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/<int:user_id>")
def show(user_id: int):
    user = get_user(get_conn(), user_id)
    if user is None:
        abort(404)
    return jsonify(user.__dict__)
