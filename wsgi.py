"""The app factory: one Flask app that mounts the bot and desk blueprints.

gunicorn serves `wsgi:create_app()`.
"""

from __future__ import annotations

import sys
from typing import Any

import redis
from flask import Flask, Response, abort, g, jsonify, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from clinic import fonts, log_format
from clinic.config import MAX_WEBHOOK_BYTES, Config, ConfigError
from clinic.runtime import Runtime


class _RequestJson(DefaultJSONProvider):
    """Flask's JSON, refusing a body nested too deeply like any malformed one (400, not a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def create_app(runtime: Runtime | None = None) -> Flask:
    if runtime is None:
        try:
            runtime = Runtime(Config.from_env())
        except ConfigError as exc:
            # One clear line, not a traceback, for a misconfigured deployment.
            print(f"configuration error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    config = runtime.config

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_WEBHOOK_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        JSON_AS_ASCII=False,
    )
    app.json = _RequestJson(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["clinic"] = runtime

    if config.log_format == "json":
        log_format.configure("json")

    @app.before_request
    def _request_id() -> None:
        g.request_id = log_format.incoming_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = log_format.request_id.set(g.request_id)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def _forget_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            log_format.request_id.reset(token)

    import bot
    import desk

    bot.init_app(app)
    desk.init_app(app)

    @app.get("/fonts/<name>")
    def font(name: str):  # type: ignore[no-untyped-def]
        # One copy of the typeface for the desk and the bot, which never import each other.
        if name not in fonts.SERVED:
            abort(404)
        return send_from_directory(fonts.FONT_DIR, name, max_age=7 * 24 * 3600)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        state = {"database": "ok", "redis": "ok"}
        try:
            with runtime.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            state["database"] = f"down: {exc.__class__.__name__}"
        try:
            runtime.redis.ping()
        except (redis.RedisError, OSError) as exc:
            state["redis"] = f"down: {exc.__class__.__name__}"
        healthy = all(value == "ok" for value in state.values())
        return jsonify(status="ok" if healthy else "down", **state), 200 if healthy else 503

    return app
