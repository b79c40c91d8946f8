"""The inbox: open tickets by time left (the Redis SLA queue), with filters, Thai search and pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import settings, ticket_search
from clinic.models import CHANNELS, AgencyType, StaffUser, Topic
from clinic.ticket_search import SearchError, TicketFilter
from desk.current import runtime
from desk.deadline import deadline_of

bp = Blueprint("inbox", __name__)
PER_PAGE = 25


def filter_choices(session: Session) -> dict[str, Any]:
    return {
        "topics": list(session.scalars(select(Topic).order_by(Topic.sort_order, Topic.code))),
        "agency_types": list(session.scalars(select(AgencyType).order_by(AgencyType.sort_order))),
        "channels": [c for c in CHANNELS],
        "staff": list(
            session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.username))
        ),
        "statuses": ticket_search.STATUSES,
    }


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


@bp.get("/inbox")
@login_required
def index() -> tuple[str, int] | str:
    rt = runtime()
    args = request.args.to_dict()
    if args.get("assignee") == "me":
        args["assignee"] = current_user.username
    wanted = TicketFilter.from_args(args)
    now = rt.clock.now()
    status = 200
    with rt.db.transaction() as session:
        timings = settings.sla(session, rt.config)
        try:
            if wanted.is_live_queue:
                found = ticket_search.live_queue(session, page=_page_number(), per_page=PER_PAGE)
            else:
                found = ticket_search.search(session, wanted, page=_page_number(), per_page=PER_PAGE)
        except SearchError as exc:
            flash(str(exc), "error")
            found, status = ticket_search.TicketPage([], 1, PER_PAGE, 0), 400
        rows = [(ticket, deadline_of(ticket, now, timings.warn_hours)) for ticket in found.items]
        context = {"rows": rows, "found": found, "wanted": wanted, "active_nav": "inbox", **filter_choices(session)}
        template = "inbox_rows.html" if request.args.get("partial") == "rows" else "inbox.html"
        return render_template(template, **context), status
