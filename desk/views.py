"""The desk's home blueprint: it owns the templates and static files, and `/` leads to the inbox."""

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

bp = Blueprint("desk", __name__, template_folder="templates", static_folder="static", static_url_path="/desk/static")


@bp.get("/")
def index() -> Response:
    # Straight to the login form on a first visit: no "please log in" error for simply arriving.
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("inbox.index"))
