"""A requester's personal data from the desk (supervisors): what we hold, export, and erasure.

Every page here is for supervisors and admins; agents get 403. Export is audited and limited
(EXPORTS_PER_HOUR per staff member); erasure asks for the requester's reference typed back
(`R<id>`) before it runs, and cannot be undone.
"""

from __future__ import annotations

import redis
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from clinic import requester_data
from clinic.models import Attachment, InboundEvent, Message, OutboxMessage, Requester, SurveyResponse, Ticket
from desk.auth import requires
from desk.current import runtime, staff_in

bp = Blueprint("personal_data", __name__)
EXPORTS_PER_HOUR = 30


def _requester(session: Session, requester_id: int) -> Requester:
    requester = session.get(Requester, requester_id)
    if requester is None:
        abort(404)
    return requester


def reference(requester: Requester) -> str:
    return f"R{requester.id}"


def _summary(session: Session, requester: Requester) -> dict[str, object]:
    ticket_ids = select(Ticket.id).where(Ticket.requester_id == requester.id).scalar_subquery()
    message_ids = select(Message.id).where(Message.ticket_id.in_(ticket_ids)).scalar_subquery()

    def count(statement: object) -> int:
        return int(session.scalar(statement) or 0)  # type: ignore[call-overload]

    return {
        "tickets": list(
            session.scalars(
                select(Ticket).where(Ticket.requester_id == requester.id).order_by(Ticket.posted_at.desc())
            ).unique()
        ),  # fmt: skip
        "messages": count(select(func.count()).where(Message.ticket_id.in_(ticket_ids))),
        "attachments": count(select(func.count()).where(Attachment.message_id.in_(message_ids))),
        "surveys": count(select(func.count()).where(SurveyResponse.requester_id == requester.id)),
        "outbox": count(select(func.count()).where(OutboxMessage.requester_id == requester.id)),
        "events": 0
        if requester_data.is_erased(requester)
        else count(select(func.count()).select_from(InboundEvent).where(requester_data.events_of(requester))),
    }


@bp.get("/requesters/<int:requester_id>")
@requires("supervisor")
def show(requester_id: int) -> str:
    with runtime().db.transaction() as session:
        requester = _requester(session, requester_id)
        return render_template("requester.html", requester=requester, reference=reference(requester),
                               erased=requester_data.is_erased(requester), active_nav="inbox",
                               **_summary(session, requester))  # fmt: skip


@bp.get("/requesters/<int:requester_id>/export")
@requires("supervisor")
def export(requester_id: int) -> Response:
    rt = runtime()
    with rt.db.transaction() as session:
        me = staff_in(session)
        try:
            key = rt.key(f"exports:{me.id}:{int(rt.clock.now().timestamp() // 3600)}")
            count = rt.redis.incr(key)
            rt.redis.expire(key, 3600)
        except redis.RedisError:
            count = 0  # the limit is a brake, not a lock: Redis down must not block a legal request
        if int(count) > EXPORTS_PER_HOUR:  # type: ignore[arg-type]
            abort(429)
        requester = _requester(session, requester_id)
        data = requester_data.export(session, requester, now=rt.clock.now(), staff=me)
    response = Response(data, mimetype="application/zip")
    response.headers.set("Content-Disposition", "attachment", filename=f"requester-R{requester_id}.zip")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/requesters/<int:requester_id>/erase", methods=["GET", "POST"])
@requires("supervisor")
def erase(requester_id: int) -> WerkzeugResponse | str:
    rt = runtime()
    if request.method == "GET":
        with rt.db.transaction() as session:
            requester = _requester(session, requester_id)
            return render_template("requester_erase.html", requester=requester, reference=reference(requester),
                                   erased=requester_data.is_erased(requester), active_nav="inbox",
                                   **_summary(session, requester))  # fmt: skip
    with rt.db.transaction() as session:
        requester = _requester(session, requester_id)
        typed = request.form.get("confirm", "").strip().upper()
        if typed != reference(requester):
            flash(f"พิมพ์ {reference(requester)} เพื่อยืนยัน / Type {reference(requester)} to confirm", "error")
            return redirect(url_for("personal_data.erase", requester_id=requester_id))
        if requester_data.is_erased(requester):
            flash("ลบข้อมูลไปแล้ว / Already erased", "error")
            return redirect(url_for("personal_data.show", requester_id=requester_id))
        removed = requester_data.erase(session, requester, now=rt.clock.now(), staff=staff_in(session))
    flash(f"ลบข้อมูลส่วนบุคคลแล้ว: {removed.tickets} เรื่อง {removed.messages} ข้อความ {removed.attachments} ไฟล์ "
          f"/ Personal data erased", "ok")  # fmt: skip
    return redirect(url_for("personal_data.show", requester_id=requester_id))
