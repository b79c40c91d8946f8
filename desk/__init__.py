"""The staff desk: web inbox, ticket pages, admin, and the JSON API."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from bot.views import bp as bot_bp
    from desk import (
        admin,
        alerts,
        api,
        auth,
        errors,
        inbox,
        knowledge,
        kpi,
        live,
        operations,
        personal_data,
        ticket_pages,
        views,
    )
    from desk.page_context import register as register_page_context

    # A staff member may keep a ticket open for hours; the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    # Webhooks are signed and the web chat has its own checks; API callers use bearer tokens.
    csrf.exempt(bot_bp)
    csrf.exempt(api.bp)
    auth.login_manager.init_app(app)

    blueprints = (views.bp, auth.bp, inbox.bp, ticket_pages.bp, live.bp, admin.bp, api.bp, kpi.bp, alerts.bp,
                  knowledge.bp, personal_data.bp, operations.bp)  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_page_context(app)
    errors.register(app)
