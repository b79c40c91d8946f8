"""A ticket: its whole thread, and the staff actions on it (all through `clinic.tickets`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from clinic import canned_answers, line_quota, settings, ticket_reads, tickets, uploads
from clinic.models import AgencyType, Attachment, StaffUser, Ticket, Topic
from clinic.tickets import NewAttachment, TicketError
from desk import csrf, knowledge
from desk.auth import requires
from desk.current import runtime, staff_in
from desk.deadline import deadline_of
from desk.i18n import current_language, translate

bp = Blueprint("ticket", __name__)

# Only raster images are shown inline; anything else (SVG included) is a download.
INLINE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_BODY = 5000
# What the file picker offers first; the server reads the kind from the bytes whatever the name says.
REPLY_FILE_ACCEPT = (
    "image/jpeg,image/png,image/gif,image/webp,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,"
    ".mp4,.m4v,.mov,.txt,.csv"
)
# A reply's form: five files of 20 MB and the text, boundaries and token around them.
MAX_REPLY_REQUEST = uploads.MAX_FILES_PER_MESSAGE * uploads.MAX_FILE_BYTES + 64 * 1024


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
        "due": deadline_of(ticket, rt.clock.now(), timings.warn_hours, current_language()),
        "earlier": earlier,
        "topics": list(session.scalars(select(Topic).order_by(Topic.sort_order))),
        "agency_types": list(session.scalars(select(AgencyType).order_by(AgencyType.sort_order))),
        "staff": list(
            session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.username))
        ),
        "inline_images": INLINE_IMAGES,
        "max_reply_files": uploads.MAX_FILES_PER_MESSAGE,
        "max_reply_file_bytes": uploads.MAX_FILE_BYTES,
        "reply_file_accept": REPLY_FILE_ACCEPT,
        "held_by_quota": line_quota.held_by_quota(session, [m.id for m in ticket.messages if m.kind == "outbound"]),
        "active_nav": "inbox",
    }


@bp.get("/tickets/<number>")
@login_required
def show(number: str) -> str:
    rt = runtime()
    with rt.db.transaction() as session:
        ticket = _ticket(session, number)
        ticket_reads.record(session, staff_in(session), ticket, now=rt.clock.now())
        return render_template("ticket.html", **_context(session, ticket), **knowledge.assist(session, ticket))


@bp.get("/tickets/<number>/thread")
@login_required
def thread(number: str) -> str:
    """The thread alone, redrawn by the page when something new arrives (and so seen by whoever has it open)."""
    rt = runtime()
    with rt.db.transaction() as session:
        ticket = _ticket(session, number)
        ticket_reads.record(session, staff_in(session), ticket, now=rt.clock.now())
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


def _reply_files() -> list[NewAttachment]:
    """The files of the reply form, each checked as the web chat checks a requester's (`clinic.uploads`).

    One refused file refuses the reply: TicketError says which and why, and nothing is stored.
    """
    parts = [part for part in request.files.getlist("files") if part.filename]
    if len(parts) > uploads.MAX_FILES_PER_MESSAGE:
        n = uploads.MAX_FILES_PER_MESSAGE
        raise TicketError(f"แนบได้ครั้งละไม่เกิน {n} ไฟล์ / At most {n} files per reply")
    files = []
    try:
        for part in parts:
            # The parser spooled the part to a temporary file: its size is known before reading it.
            size = part.stream.seek(0, os.SEEK_END)
            part.stream.seek(0)
            uploads.check_size(part.filename or "", size, max_bytes=uploads.MAX_FILE_BYTES)
            checked = uploads.check(
                part.filename or "", part.stream.read(uploads.MAX_FILE_BYTES + 1), max_bytes=uploads.MAX_FILE_BYTES
            )
            files.append(NewAttachment(checked.kind, checked.filename, checked.content_type, checked.content))
    except uploads.UploadRefused as exc:
        raise TicketError(str(exc)) from exc
    return files


@bp.post("/tickets/<number>/reply")
@csrf.exempt  # checked below, once the larger limit for the files applies
@login_required
def reply(number: str) -> Response:
    """A reply with up to five files; only this form may send more than the app-wide 1 MB."""
    if (request.content_length or 0) > MAX_REPLY_REQUEST:
        flash(_too_large(), "error")
        return redirect(url_for("ticket.show", number=number))
    request.max_content_length = MAX_REPLY_REQUEST
    try:
        csrf.protect()
    except RequestEntityTooLarge:  # a body without Content-Length that grew past the limit
        flash(_too_large(), "error")
        return redirect(url_for("ticket.show", number=number))

    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        body, files = _text("body"), _reply_files()
        tickets.reply(session, ticket, body=body, now=runtime().clock.now(), staff=me, attachments=files)
        if files:
            return f"ส่งคำตอบพร้อมไฟล์แนบ {len(files)} ไฟล์แล้ว / Reply sent with {len(files)} file(s)"
        return "ส่งคำตอบแล้ว / Reply sent"

    return _act(number, act)


def _too_large() -> str:
    mb, n = uploads.MAX_FILE_BYTES // (1024 * 1024), uploads.MAX_FILES_PER_MESSAGE
    return (
        f"ไฟล์ใหญ่เกินไป แนบได้ไฟล์ละไม่เกิน {mb} MB และครั้งละไม่เกิน {n} ไฟล์ / "
        f"Too large: at most {mb} MB per file and {n} files per reply"
    )


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


@bp.post("/tickets/<number>/messages/<int:message_id>/handled-elsewhere")
@login_required
def handled_elsewhere(number: str, message_id: int) -> Response:
    """A reply held by the spent LINE quota, answered another way (phone, e-mail): stop sending it."""

    def act(session: Session, ticket: Ticket, me: StaffUser) -> str:
        message = next((m for m in ticket.messages if m.id == message_id and m.kind == "outbound"), None)
        if message is None:
            abort(404)
        line_quota.handle_elsewhere(session, message, now=runtime().clock.now(), staff=me)
        return "บันทึกว่าส่งทางอื่นแล้ว / Marked as handled another way"

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
    # RFC 6266 `filename*`: a Thai name written raw would not survive the server's Latin-1 headers.
    response.headers["Content-Disposition"] = uploads.content_disposition(
        disposition, filename, fallback=f"attachment-{attachment_id}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/canned")
@login_required
def canned() -> Response:
    """Ready answers matching the reply box's search, as JSON for the page's script.

    With `ticket=<number>` the bodies come with their placeholders filled for that ticket.
    When there are no answers at all, `empty` says how to add one (a link for admins).
    """
    number = request.args.get("ticket", "")[:40]
    rt = runtime()
    with rt.db.transaction() as session:
        ticket = tickets.get_by_number(session, number) if number else None
        if number and ticket is None:
            abort(404)
        found = canned_answers.search(session, request.args.get("q", ""))
        now = rt.clock.now()
        items = [
            {"id": a.id, "title": a.title, "regulation_ref": a.regulation_ref,
             "body": canned_answers.fill(a.body, ticket, now) if ticket else a.body}
            for a in found
        ]  # fmt: skip
        empty = None
        if not items and not canned_answers.has_any(session):
            if current_user.can("admin"):
                empty = {"text": translate("No canned answers yet. Add the first one on the admin page:"),
                         "link": url_for("admin.canned"), "link_text": translate("Canned answers")}  # fmt: skip
            else:
                empty = {"text": translate("No canned answers yet. Ask an admin to add them.")}
        return jsonify(items=items, empty=empty)
