"""The staff desk: web inbox, ticket pages, admin, and the JSON API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from desk.views import bp

    app.register_blueprint(bp)
