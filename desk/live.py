"""Live updates by polling: the page asks every few seconds what arrived after what it has seen.

Polling (not server-sent events) keeps no request open, so a gunicorn thread is never
parked on an idle tab, and it works the same behind any proxy.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from clinic import staff_alerts
from clinic.models import Message, StaffAlert, Ticket
from desk.current import runtime, staff_in
from desk.page_context import bangkok

bp = Blueprint("live", __name__)
POLL_SECONDS = 5
MAX_ITEMS = 20
EXCERPT = 160  # characters of a new message shown in its notice


def _after(name: str) -> int:
    raw = request.args.get(name, "0")
    return int(raw) if raw.isdigit() else 0


@bp.get("/live")
@login_required
def poll() -> Response:
    after_message, after_alert = _after("after_message"), _after("after_alert")
    me = int(current_user.get_id())
    with runtime().db.transaction() as session:
        awaiting = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "open")) or 0
        last_message = session.scalar(select(func.max(Message.id))) or 0
        rows = session.execute(
            select(Message.id, Message.ticket_id, Message.body, Ticket.number, Ticket.subject)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Message.id > after_message, Message.kind == "inbound")
            .order_by(Message.id)
            .limit(MAX_ITEMS)
        ).all()
        first_ids = dict(
            session.execute(
                select(Message.ticket_id, func.min(Message.id))
                .where(Message.ticket_id.in_({row.ticket_id for row in rows}))
                .group_by(Message.ticket_id)
            ).all()
        ) if rows else {}  # fmt: skip
        events = [
            {
                "kind": "ticket" if first_ids.get(row.ticket_id) == row.id else "message",
                "number": row.number,
                # A follow-up shows itself, not the ticket's first question.
                "subject": row.subject if first_ids.get(row.ticket_id) == row.id else _excerpt(row.body),
                "url": url_for("ticket.show", number=row.number),
            }
            for row in rows
        ]
        alerts = session.execute(
            select(StaffAlert, Ticket.number)
            .outerjoin(Ticket, Ticket.id == StaffAlert.ticket_id)
            .where(StaffAlert.id > after_alert, or_(StaffAlert.staff_id.is_(None), StaffAlert.staff_id == me))
            .order_by(StaffAlert.id)
            .limit(MAX_ITEMS)
        ).all()
        last_alert = session.scalar(select(func.max(StaffAlert.id))) or 0
        unread_alerts = staff_alerts.unread_count(session, staff_in(session))
        return jsonify(
            # The server's clock: the page counts deadlines down from it (a test's frozen clock included).
            now=runtime().clock.now().isoformat(),
            unread_alerts=unread_alerts,
            awaiting=awaiting,
            last_message=max(last_message, after_message),
            last_alert=max(last_alert, after_alert),
            events=events,
            alerts=[
                {
                    "id": alert.id,
                    "level": alert.level,
                    "text": staff_alerts.plain(alert.text),
                    "at": bangkok(alert.created_at),
                    "number": number,
                    "url": url_for("ticket.show", number=number) if number else None,
                }
                for alert, number in alerts
            ],
            poll_seconds=POLL_SECONDS,
        )


def _excerpt(body: str) -> str:
    text = " ".join(body.split()) or "(ไฟล์แนบ / attachment)"
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
