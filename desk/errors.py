"""Error pages: 403, 404 and 500 in the desk's layout and language, JSON under the API.

The JSON API keeps its `{"error": {...}}` body (see `desk.api.error_response`); the
webhooks and the web chat keep the status codes their callers expect. A 500 never shows
a traceback: the error is logged and the page says only that something went wrong.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from desk.i18n import current_language

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
# The channels' own routes: callers (LINE, Meta, the chat page's script) read the status code.
CHANNEL_PREFIXES = ("/webhook/", "/chat")

PAGES = {
    403: ("You may not open this page", "Your role does not allow this page. Ask an admin if you need it."),
    404: ("Page not found", "The address may be mistyped, or the page no longer exists."),
    500: (
        "Something went wrong",
        "The error has been logged. Try again in a moment; if it keeps happening, tell an admin.",
    ),
}
FALLBACK_HTML = (
    "<!doctype html><meta charset='utf-8'><title>500</title>"
    "<h1>ระบบขัดข้อง / Something went wrong</h1><p>ลองใหม่อีกครั้ง / Try again in a moment.</p>"
)


def _json(status: int, message: str) -> Response:
    from desk.api import error_response

    return error_response(status, message)


def page_for(error: HTTPException) -> Response | HTTPException:
    status = error.code or 500
    if request.path.startswith(API_PREFIX):
        messages = {
            403: "ไม่มีสิทธิ์ / Forbidden",
            404: "ไม่พบ / Not found",
            405: "ไม่รองรับเมธอดนี้ / Method not allowed",
            413: "ข้อมูลใหญ่เกินไป / Request body too large",
            500: "ระบบขัดข้อง / Internal error",
        }
        return _json(status, messages.get(status, error.name))
    if request.path.startswith(CHANNEL_PREFIXES) or request.blueprint == "bot":
        return error
    if status not in PAGES:
        return error  # 400, 405, 413, ...: werkzeug's short page with the right code
    title, detail = PAGES[status]
    try:
        html = render_template("error.html", status=status, title=title, detail=detail, lang=current_language())
    except Exception:  # the layout needs the database (the signed-in staff member); it may be what failed
        log.exception("the error page itself failed")
        html = FALLBACK_HTML
    return Response(html, status=status, mimetype="text/html")


def _unhandled(error: InternalServerError) -> Response | HTTPException:
    original = getattr(error, "original_exception", None)
    if original is not None:
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return page_for(error)


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, page_for)
    app.register_error_handler(InternalServerError, _unhandled)
