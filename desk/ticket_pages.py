"""A ticket: its whole thread, and the staff actions on it (all through `clinic.tickets`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic import canned_answers, settings, tickets
from clinic.models import AgencyType, Attachment, StaffUser, Ticket, Topic
from clinic.tickets import TicketError
from desk import knowledge
from desk.auth import requires
from desk.current import runtime, staff_in
from desk.deadline import deadline_of

bp = Blueprint("ticket", __name__)

# Only raster images are shown inline; anything else (SVG included) is a download.
INLINE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_BODY = 5000


def _ticket(session: Session, number: str) -> Ticket:
    ticket = tickets.get_by_number(session, number)
    if ticket is None:
        abort(404)
    return ticket


def _context(session: Session, ticket: Ticket) -> dict[str, Any]:
    rt = runtime()
    timings = settings.sla(session, rt.config)
    earlier = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.requester_id == ticket.requester_id, Ticket.id != ticket.id)
            .order_by(Ticket.posted_at.desc())
            .limit(10)
        ).unique()
    )
    return {
        "ticket": ticket,
        "due": deadline_of(ticket, rt.clock.now(), timings.warn_hours),
        "earlier": earlier,
        "topics": list(session.scalars(select(Topic).order_by(Topic.sort_order))),
        "agency_types": list(session.scalars(select(AgencyType).order_by(AgencyType.sort_order))),
        "staff": list(
            session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.username))
        ),
        "inline_images": INLINE_IMAGES,
        "active_nav": "inbox",
    }


@bp.get("/tickets/<number>")
@login_required
def show(number: str) -> str:
    with runtime().db.transaction() as session:
        ticket = _ticket(session, number)
        return render_template("ticket.html", **_context(session, ticket), **knowledge.assist(session, ticket))


@bp.get("/tickets/<number>/thread")
@login_required
def thread(number: str) -> str:
    """The thread alone, redrawn by the page when something new arrives."""
    with runtime().db.transaction() as session:
        ticket = _ticket(session, number)
        return render_template("ticket_thread.html", **_context(session, ticket))


def _act(number: str, action: Callable[[Session, Ticket, StaffUser], str]) -> Response:
    """Run one staff action in one transaction; a refused action changes nothing and says why."""
    try:
        with runtime().db.transaction() as session:
            ticket = _ticket(session, number)
            done = action(session, ticket, staff_in(session))
        flash(done, "ok")
    except TicketError as exc:
        flash(str(exc), "error")
    return redirect(url_for("ticket.show", number=number))


def _text(field: str) -> str:
    value = request.form.get(field, "")
    if len(value) > MAX_BODY:
        raise TicketError(f"ข้อความยาวเกิน {MAX_BODY} ตัวอักษร / The text is over {MAX_BODY} characters")
    return value


@bp.post("/tickets/<number>/reply")
@login_required
def reply(number: str) -> Response:
    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        tickets.reply(session, ticket, body=_text("body"), now=runtime().clock.now(), staff=me)
        return "ส่งคำตอบแล้ว / Reply sent"

    return _act(number, act)


@bp.post("/tickets/<number>/note")
@login_required
def note(number: str) -> Response:
    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        tickets.add_note(session, ticket, body=_text("body"), now=runtime().clock.now(), staff=me)
        return "บันทึกแล้ว / Note added"

    return _act(number, act)


@bp.post("/tickets/<number>/close")
@login_required
def close(number: str) -> Response:
    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        tickets.close(session, ticket, final_answer=_text("answer"), now=runtime().clock.now(), staff=me)
        return "ปิดเรื่องแล้ว / Ticket closed"

    return _act(number, act)


@bp.post("/tickets/<number>/reopen")
@requires("supervisor")
def reopen(number: str) -> Response:
    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        tickets.reopen(session, ticket, now=runtime().clock.now(), staff=me)
        return "เปิดเรื่องอีกครั้งแล้ว / Ticket reopened"

    return _act(number, act)


@bp.post("/tickets/<number>/assign")
@login_required
def assign(number: str) -> Response:
    """Anyone may claim a ticket for themselves; assigning to someone else takes a supervisor."""
    wanted = request.form.get("assignee", "").strip().lower()

    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        if wanted == "":
            assignee = None
        else:
            assignee = session.scalar(select(StaffUser).where(StaffUser.username == wanted, StaffUser.active.is_(True)))
            if assignee is None:
                raise TicketError(f"ไม่รู้จักเจ้าหน้าที่ {wanted!r} / Unknown staff member {wanted!r}")
        if (assignee is None or assignee.id != me.id) and not current_user.can("supervisor"):
            raise TicketError("เฉพาะหัวหน้างานมอบหมายให้ผู้อื่นได้ / Only a supervisor can assign to someone else")
        tickets.assign(session, ticket, assignee=assignee, now=runtime().clock.now(), staff=me)
        return "บันทึกผู้รับผิดชอบแล้ว / Assignee saved"

    return _act(number, act)


@bp.post("/tickets/<number>/classify")
@login_required
def classify(number: str) -> Response:
    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        tickets.reclassify(
            session, ticket, now=runtime().clock.now(), staff=me,
            topic_code=request.form.get("topic") or None, agency_type_code=request.form.get("agency_type") or None,
        )  # fmt: skip
        return "บันทึกการจัดประเภทแล้ว / Classification saved"

    return _act(number, act)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    with runtime().db.transaction() as session:
        item = session.get(Attachment, attachment_id)
        if item is None or item.content is None:
            abort(404)
        content, content_type, filename = item.content, item.content_type, item.filename
    inline = content_type in INLINE_IMAGES
    response = Response(content, mimetype=content_type if inline else "application/octet-stream")
    disposition = "inline" if inline else "attachment"
    response.headers.set("Content-Disposition", disposition, filename=filename or f"attachment-{attachment_id}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/canned")
@login_required
def canned() -> Response:
    """Ready answers matching the reply box's search, as JSON for the page's script."""
    with runtime().db.transaction() as session:
        found = canned_answers.search(session, request.args.get("q", ""))
        return jsonify(
            items=[{"id": a.id, "title": a.title, "body": a.body, "regulation_ref": a.regulation_ref} for a in found]
        )
