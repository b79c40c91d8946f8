"""Chat channels (LINE, Facebook Messenger, web chat) and the conversation with requesters."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from bot.views import bp

    app.register_blueprint(bp)
