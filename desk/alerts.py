"""The alert centre: every alert a staff member was shown, with its time and their own read state."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from clinic import staff_alerts
from desk.current import runtime, staff_in

bp = Blueprint("alerts", __name__)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 10_000) if raw.isdigit() and int(raw) > 0 else 1


@bp.get("/alerts")
@login_required
def index() -> str:
    page = _page_number()
    with runtime().db.transaction() as session:
        me = staff_in(session)
        rows, total = staff_alerts.page_of(session, me, page=page)
        unread = staff_alerts.unread_count(session, me)
    pages = max(1, -(-total // staff_alerts.PER_PAGE))
    return render_template(
        "alerts.html", rows=rows, total=total, page=page, pages=pages, unread=unread, active_nav="alerts"
    )


def _done(unread: int) -> Response:
    if request.accept_mimetypes.best == "application/json":
        return jsonify(unread=unread)
    return redirect(url_for("alerts.index", page=request.form.get("page", "1")))


@bp.post("/alerts/<int:alert_id>/read")
@login_required
def read_one(alert_id: int) -> Response | tuple[Response, int]:
    rt = runtime()
    with rt.db.transaction() as session:
        me = staff_in(session)
        found = staff_alerts.mark_read(session, me, alert_id, now=rt.clock.now())
        session.flush()
        unread = staff_alerts.unread_count(session, me)
    if not found:
        return jsonify(error={"status": 404, "message": "ไม่พบการแจ้งเตือน / Alert not found"}), 404
    return _done(unread)


@bp.post("/alerts/read-all")
@login_required
def read_all() -> Response:
    with runtime().db.transaction() as session:
        me = staff_in(session)
        staff_alerts.mark_all_read(session, me)
        session.flush()
        unread = staff_alerts.unread_count(session, me)
    return _done(unread)
