"""The desk's home blueprint: it owns the templates and static files, and `/` leads to the inbox."""

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

bp = Blueprint("desk", __name__, template_folder="templates", static_folder="static", static_url_path="/desk/static")


@bp.get("/")
def index() -> Response:
    return redirect(url_for("inbox.index"))
