"""The inbox: open tickets by time left (the Redis SLA queue), with views, sorts, filters, Thai search,
pages, an unread marker per staff member, and bulk assign / close for supervisors."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic import settings, ticket_reads, ticket_search, tickets
from clinic.models import CHANNELS, AgencyType, StaffUser, Topic
from clinic.ticket_search import SearchError, TicketFilter
from clinic.tickets import TicketError
from desk.auth import _safe_next, requires
from desk.current import runtime, staff_in
from desk.deadline import deadline_of
from desk.i18n import current_language

bp = Blueprint("inbox", __name__)
PER_PAGE = 25
# One bulk request changes at most this many tickets, each in its own transaction.
BULK_LIMIT = 100
BULK_ACTIONS = ("assign", "close")


def filter_choices(session: Session) -> dict[str, Any]:
    return {
        "topics": list(session.scalars(select(Topic).order_by(Topic.sort_order, Topic.code))),
        "agency_types": list(session.scalars(select(AgencyType).order_by(AgencyType.sort_order))),
        "channels": [c for c in CHANNELS],
        "staff": list(
            session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.username))
        ),
        "statuses": ticket_search.STATUSES,
        "sorts": ticket_search.SORTS,
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
    lang = current_language()
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
        unread = ticket_reads.unread(session, int(current_user.get_id()), [t.id for t in found.items])
        rows = [(ticket, deadline_of(ticket, now, timings.warn_hours, lang)) for ticket in found.items]
        context = {
            "rows": rows,
            "found": found,
            "wanted": wanted,
            "unread": unread,
            "mine": wanted.assignee == current_user.username,
            "bulk": current_user.can("supervisor"),
            "bulk_limit": BULK_LIMIT,
            "active_nav": "inbox",
            **filter_choices(session),
        }
        template = "inbox_rows.html" if request.args.get("partial") == "rows" else "inbox.html"
        return render_template(template, **context), status


@bp.post("/inbox/bulk")
@requires("supervisor")
def bulk() -> Response:
    """Assign or close the checked tickets: each on its own, so one refusal changes none of the others."""
    rt = runtime()
    back = redirect(_safe_next(request.form.get("next")))
    action = request.form.get("action", "")
    numbers = list(dict.fromkeys(n.strip() for n in request.form.getlist("number") if n.strip()))
    if action not in BULK_ACTIONS:
        flash("ไม่รู้จักคำสั่งนี้ / Unknown bulk action", "error")
        return back
    if not numbers:
        flash("ยังไม่ได้เลือกเรื่อง / No tickets selected", "error")
        return back
    if len(numbers) > BULK_LIMIT:
        flash(
            f"เลือกได้ไม่เกิน {BULK_LIMIT} เรื่องต่อครั้ง (เลือก {len(numbers)}) ไม่มีการเปลี่ยนแปลง / "
            f"At most {BULK_LIMIT} tickets at a time ({len(numbers)} selected); nothing changed",
            "error",
        )
        return back
    username = request.form.get("assignee", "").strip().lower()
    if action == "assign" and not username:
        flash("เลือกผู้รับผิดชอบก่อน / Choose an assignee first", "error")
        return back
    if username == "none":  # "unassigned" is chosen explicitly, never by leaving the list alone
        username = ""
    if action == "assign" and username:
        with rt.db.transaction() as session:
            known = session.scalar(
                select(StaffUser.id).where(StaffUser.username == username, StaffUser.active.is_(True))
            )
        if known is None:
            flash(f"ไม่รู้จักเจ้าหน้าที่ {username!r} / Unknown staff member {username!r}", "error")
            return back
    done: list[str] = []
    failed: list[str] = []
    for number in numbers:
        try:
            with rt.db.transaction() as session:
                ticket = tickets.get_by_number(session, number)
                if ticket is None:
                    raise TicketError("ไม่พบเรื่อง / Not found")
                me, now = staff_in(session), rt.clock.now()
                if action == "close":
                    tickets.close(session, ticket, now=now, staff=me)
                else:
                    named = select(StaffUser).where(StaffUser.username == username)
                    assignee = session.scalar(named) if username else None
                    tickets.assign(session, ticket, assignee=assignee, now=now, staff=me)
            done.append(number)
        except TicketError as exc:
            failed.append(f"{number}: {exc}")
    if done:
        verb = ("ปิดเรื่องแล้ว", "Closed") if action == "close" else ("มอบหมายแล้ว", "Assigned")
        flash(f"{verb[0]} {len(done)} เรื่อง / {verb[1]} {len(done)} ticket(s): {', '.join(done)}", "ok")
    for line in failed:
        flash(line, "error")
    return back
