"""What every desk template can use: translation, language, dates, and the live-update baseline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import func, select

from clinic import staff_alerts
from clinic.models import Message, StaffAlert, StaffUser
from clinic.thaidate import format_date_numeric, format_datetime, format_datetime_en_be, format_duration_th
from desk.current import runtime
from desk.i18n import code_label, current_language, label, translate


def _live_baseline() -> dict[str, int]:
    """The newest message and alert ids when the page was drawn (the page polls for anything after
    them), and the signed-in staff member's unread alerts for the bell."""
    with runtime().db.transaction() as session:
        me = session.get(StaffUser, int(current_user.get_id()))
        return {
            "message": session.scalar(select(func.max(Message.id))) or 0,
            "alert": session.scalar(select(func.max(StaffAlert.id))) or 0,
            "unread_alerts": staff_alerts.unread_count(session, me) if me is not None else 0,
        }


def bangkok(moment: datetime | None) -> str:
    """A stored UTC time in Bangkok, Buddhist Era: Thai months in Thai mode, English months in English."""
    if current_language() == "en":
        return format_datetime_en_be(moment, runtime().config.tz)
    return format_datetime(moment, runtime().config.tz)


def _prepare() -> None:
    """Load the signed-in staff member and the live baseline before the view opens its transaction.

    Views render inside their own transaction; a second one opened from a template (or
    from Flask-Login's loader on first use of `current_user`) would wait on the first
    for SQLite's write lock.
    """
    g.live_baseline = {"message": 0, "alert": 0, "unread_alerts": 0}
    # No endpoint: an unknown address, answered with the desk's 404 page, which polls like any page
    # (a zero baseline would replay every message ever received as a notice).
    if request.path.startswith(("/api/", "/webhook/", "/chat")):
        return
    if request.blueprint in ("api", "bot") or (request.endpoint or "").endswith("static"):
        return
    if current_user.is_authenticated and request.method == "GET" and request.blueprint not in ("live",):
        g.live_baseline = _live_baseline()


def register(app: Flask) -> None:
    app.before_request(_prepare)

    @app.context_processor
    def desk_context() -> dict[str, Any]:
        return {
            "t": translate,
            "label": label,
            "code_label": code_label,
            "lang": current_language(),
            "live_baseline": g.get("live_baseline", {"message": 0, "alert": 0}),
            # The server's "now" for the page's countdowns (the frozen clock in tests).
            "server_now": runtime().clock.now().isoformat(),
        }

    app.jinja_env.filters["bangkok"] = bangkok
    app.jinja_env.filters["duration"] = format_duration_th
    app.jinja_env.globals["be_day"] = format_date_numeric
