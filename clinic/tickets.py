"""The ticket service: open, add a requester message, reply, note, close, withdraw, reopen.

Each function is one step of the lifecycle; the caller wraps it in one transaction
(`Database.transaction()`). Functions never commit. Staff actions are audited; the
actor is a staff user or, for the JSON API, a name such as `api:reports`.

SLA rule (also on `Ticket`): the deadline is fixed when the clock starts, at
`SLA_HOURS` after posting. A reopen starts a new clock from the reopen time, and a
consultation whose earlier cycle missed its deadline stays missed for KPI 1.

A requester may withdraw an open question (`withdraw`): the ticket is finished like a
closed one (out of the SLA queue, no more messages, `closed_at` = when) and gets no survey.
KPI 1 counts it apart when it was withdrawn before its deadline, as missed after it
(`clinic.kpi.is_withdrawn_apart`). A supervisor may reopen it like a closed ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic import audit, outbox, settings, sla, survey, ticket_index, uploads, webchat_changes
from clinic.models import (
    FINISHED_STATUSES,
    Attachment,
    Message,
    Requester,
    StaffUser,
    Ticket,
    TicketCounter,
    Topic,
)
from clinic.runtime import runtime_of
from clinic.thaidate import BANGKOK, be_year


class TicketError(ValueError):
    """A lifecycle step that is not allowed in the ticket's state; the message is Thai first."""


@dataclass(frozen=True)
class NewAttachment:
    kind: str
    filename: str = ""
    content_type: str = "application/octet-stream"
    content: bytes | None = None
    source_ref: str = ""
    # A web-chat upload already stored (`clinic.uploads`): linked to the message, not copied.
    upload_id: int | None = None


def next_number(session: Session, posted_at: datetime) -> str:
    """`CL-<BE year>-<5-digit sequence>`, counted per Buddhist Era year in Bangkok time."""
    year = be_year(posted_at.astimezone(BANGKOK).year)
    bump = (
        update(TicketCounter)
        .where(TicketCounter.year_be == year)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    )
    last = session.scalar(bump)
    if last is None:
        try:
            with session.begin_nested():
                session.execute(insert(TicketCounter).values(year_be=year, last=1))
            last = 1
        except IntegrityError:
            last = session.scalar(bump)
    return f"CL-{year}-{last:05d}"


def _add_message(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    body: str,
    now: datetime,
    author: StaffUser | None = None,
    attachments: Iterable[NewAttachment] = (),
    channel_message_id: str | None = None,
    delivery_status: str | None = None,
) -> Message:
    message = Message(
        ticket=ticket,
        kind=kind,
        author_id=author.id if author else None,
        body=body,
        created_at=now,
        channel_message_id=channel_message_id,
        delivery_status=delivery_status,
    )
    for item in attachments:
        if item.upload_id is not None:
            message.attachments.append(uploads.claim(session, item.upload_id))
            continue
        message.attachments.append(
            Attachment(
                kind=item.kind,
                filename=item.filename,
                content_type=item.content_type,
                size=len(item.content or b""),
                content=item.content,
                source_ref=item.source_ref,
            )
        )
    session.add(message)
    ticket.last_activity_at = now
    session.flush()
    return message


def open_ticket(
    session: Session,
    *,
    requester: Requester,
    topic_code: str,
    body: str,
    now: datetime,
    attachments: Sequence[NewAttachment] = (),
    channel_message_id: str | None = None,
) -> Ticket:
    """Open a consultation from a requester's question; its SLA clock starts now."""
    if requester.agency_type_code is None:
        raise TicketError("ยังไม่ได้ระบุประเภทหน่วยงาน / The requester's agency type is not set")
    if session.get(Topic, topic_code) is None:
        raise TicketError(f"ไม่รู้จักหัวข้อ {topic_code!r} / Unknown topic {topic_code!r}")
    timings = settings.sla(session, runtime_of(session).config)
    ticket = Ticket(
        number=next_number(session, now),
        requester=requester,
        topic_code=topic_code,
        agency_type_code=requester.agency_type_code,
        agency_id=requester.agency_id,
        agency_other=requester.agency_other,
        channel=requester.channel,
        status="open",
        subject=_subject(body, attachments),
        posted_at=now,
        sla_started_at=now,
        due_at=now + timedelta(hours=timings.hours),
    )
    session.add(ticket)
    session.flush()
    _add_message(
        session, ticket, kind="inbound", body=body, now=now,
        attachments=attachments, channel_message_id=channel_message_id,
    )  # fmt: skip
    ticket_index.start(session, ticket, body)
    if requester.channel == "web":
        webchat_changes.touch(session, requester.channel_user_id)  # its chat now has a ticket
    sla.track(session, ticket)
    return ticket


def _subject(body: str, attachments: Sequence[NewAttachment]) -> str:
    first_line = body.strip().splitlines()[0] if body.strip() else ""
    if not first_line and attachments:
        first_line = "(ไฟล์แนบ / attachment)"
    return first_line[:200]


def add_requester_message(
    session: Session,
    ticket: Ticket,
    *,
    body: str,
    now: datetime,
    attachments: Sequence[NewAttachment] = (),
    channel_message_id: str | None = None,
) -> Message:
    """A follow-up from the requester joins the open ticket and puts it back in staff's court."""
    _refuse_finished(ticket)
    if ticket.status == "answered":
        ticket.status = "open"
    message = _add_message(
        session, ticket, kind="inbound", body=body, now=now,
        attachments=attachments, channel_message_id=channel_message_id,
    )  # fmt: skip
    ticket_index.append(session, ticket, body)
    return message


def reply(
    session: Session,
    ticket: Ticket,
    *,
    body: str,
    now: datetime,
    staff: StaffUser | None = None,
    actor: str = "",
    attachments: Sequence[NewAttachment] = (),
) -> Message:
    """A staff reply: stored, then sent to the requester's own channel through the outbox.

    Files (already checked by `clinic.uploads.check`) are kept as the message's attachments and
    follow the text in the outbox payload as references (`clinic.outbox.attachment`); a reply may
    be files alone.
    """
    body = body.strip()
    if not body and not attachments:
        raise TicketError("ข้อความตอบกลับว่างเปล่า / The reply is empty")
    if len(attachments) > uploads.MAX_FILES_PER_MESSAGE:
        n = uploads.MAX_FILES_PER_MESSAGE
        raise TicketError(f"แนบได้ครั้งละไม่เกิน {n} ไฟล์ / At most {n} files per reply")
    if ticket.status == "withdrawn":
        raise TicketError("ผู้ขอคำปรึกษาถอนคำถามแล้ว เปิดใหม่ก่อนตอบ / The question was withdrawn; reopen it to reply")
    if ticket.status == "closed":
        raise TicketError("เรื่องนี้ปิดแล้ว เปิดใหม่ก่อนตอบ / This ticket is closed; reopen it to reply")
    message = _add_message(
        session, ticket, kind="outbound", body=body, now=now, author=staff, delivery_status="pending",
        attachments=attachments,
    )  # fmt: skip
    ticket_index.append(session, ticket, body)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.status = "answered"
    payload = [outbox.text(body)] if body else []
    payload += [outbox.attachment(item) for item in message.attachments]
    outbox.to_requester(
        session, ticket.requester, payload, kind="reply", now=now,
        ticket=ticket, message=message, human_agent=True,
    )  # fmt: skip
    files = [item.filename for item in message.attachments]
    audit.record(
        session, now=now, action="ticket.reply", target_type="ticket", target_id=ticket.number,
        message_id=message.id, staff=staff, actor=actor, **({"files": files} if files else {}),
    )  # fmt: skip
    return message


def add_note(
    session: Session,
    ticket: Ticket,
    *,
    body: str,
    now: datetime,
    staff: StaffUser | None = None,
    actor: str = "",
) -> Message:
    """An internal note: kept in the thread, never sent to the requester."""
    body = body.strip()
    if not body:
        raise TicketError("บันทึกว่างเปล่า / The note is empty")
    message = _add_message(session, ticket, kind="note", body=body, now=now, author=staff)
    ticket_index.append(session, ticket, body)
    audit.record(
        session, now=now, action="ticket.note", target_type="ticket", target_id=ticket.number,
        message_id=message.id, staff=staff, actor=actor,
    )  # fmt: skip
    return message


def close(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    final_answer: str | None = None,
    staff: StaffUser | None = None,
    actor: str = "",
) -> Ticket:
    """Close with an optional final answer (sent like a reply); the SLA clock stops."""
    _refuse_finished(ticket)
    if final_answer and final_answer.strip():
        reply(session, ticket, body=final_answer, now=now, staff=staff, actor=actor)
    ticket.status = "closed"
    ticket.closed_at = now
    _add_message(session, ticket, kind="system", body="ปิดเรื่อง / Closed", now=now, author=staff)
    sla.untrack(session, ticket)
    survey.start(session, ticket, now)
    audit.record(
        session, now=now, action="ticket.close", target_type="ticket", target_id=ticket.number,
        within_sla=bool(ticket.completed_within_sla), staff=staff, actor=actor,
    )  # fmt: skip
    return ticket


def withdraw(session: Session, ticket: Ticket, *, now: datetime, requester: Requester) -> Ticket:
    """The requester withdraws their open question: finished at once, no survey, audited as theirs."""
    if ticket.requester_id != requester.id:
        raise TicketError("ถอนได้เฉพาะคำถามของตนเอง / Only the requester may withdraw their question")
    _refuse_finished(ticket)
    ticket.status = "withdrawn"
    ticket.closed_at = now
    _add_message(session, ticket, kind="system", body="ผู้ขอคำปรึกษาถอนคำถาม / Withdrawn by the requester", now=now)
    sla.untrack(session, ticket)
    audit.record(
        session, now=now, action="ticket.withdraw", target_type="ticket", target_id=ticket.number,
        actor=f"requester:{requester.id}", channel=requester.channel, overdue=now > ticket.due_at,
    )  # fmt: skip
    return ticket


def _refuse_finished(ticket: Ticket) -> None:
    if ticket.status == "withdrawn":
        raise TicketError("ผู้ขอคำปรึกษาถอนคำถามนี้แล้ว / This question was withdrawn")
    if ticket.status == "closed":
        raise TicketError("เรื่องนี้ปิดแล้ว / This ticket is already closed")


def reopen(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    staff: StaffUser | None = None,
    actor: str = "",
) -> Ticket:
    """Reopen a closed or withdrawn ticket: a new SLA clock starts now (see the module's SLA rule).

    A withdrawal after the deadline leaves the earlier cycle missed, as a late close does.
    """
    if not ticket.is_finished:
        raise TicketError("เรื่องนี้ยังไม่ปิด / This ticket is not closed")
    timings = settings.sla(session, runtime_of(session).config)
    assert ticket.closed_at is not None
    ticket.sla_missed_before = ticket.sla_missed_before or ticket.closed_at > ticket.due_at
    ticket.status = "open"
    ticket.closed_at = None
    ticket.sla_started_at = now
    ticket.due_at = now + timedelta(hours=timings.hours)
    ticket.reopen_count += 1
    _add_message(session, ticket, kind="system", body="เปิดเรื่องอีกครั้ง / Reopened", now=now, author=staff)
    sla.track(session, ticket)
    survey.withdraw(session, ticket)
    audit.record(
        session, now=now, action="ticket.reopen", target_type="ticket", target_id=ticket.number,
        due_at=ticket.due_at.isoformat(), staff=staff, actor=actor,
    )  # fmt: skip
    return ticket


def assign(
    session: Session,
    ticket: Ticket,
    *,
    assignee: StaffUser | None,
    now: datetime,
    staff: StaffUser | None = None,
    actor: str = "",
) -> Ticket:
    ticket.assignee_id = assignee.id if assignee else None
    ticket.assignee = assignee
    audit.record(
        session, now=now, action="ticket.assign", target_type="ticket", target_id=ticket.number,
        assignee=assignee.username if assignee else None, staff=staff, actor=actor,
    )  # fmt: skip
    return ticket


def reclassify(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    topic_code: str | None = None,
    agency_type_code: str | None = None,
    staff: StaffUser | None = None,
    actor: str = "",
) -> Ticket:
    """Correct the topic or agency type; the KPI tables count the corrected values."""
    from clinic.models import AgencyType

    changes: dict[str, Any] = {}
    if topic_code and topic_code != ticket.topic_code:
        if session.get(Topic, topic_code) is None:
            raise TicketError(f"ไม่รู้จักหัวข้อ {topic_code!r} / Unknown topic {topic_code!r}")
        changes["topic"] = [ticket.topic_code, topic_code]
        ticket.topic_code = topic_code
    if agency_type_code and agency_type_code != ticket.agency_type_code:
        if session.get(AgencyType, agency_type_code) is None:
            raise TicketError(f"ไม่รู้จักประเภทหน่วยงาน {agency_type_code!r} / Unknown agency type")
        changes["agency_type"] = [ticket.agency_type_code, agency_type_code]
        ticket.agency_type_code = agency_type_code
    if changes:
        session.flush()
        session.refresh(ticket)
        audit.record(
            session, now=now, action="ticket.reclassify", target_type="ticket", target_id=ticket.number,
            **changes, staff=staff, actor=actor,
        )  # fmt: skip
    return ticket


def open_ticket_of(session: Session, requester: Requester) -> Ticket | None:
    """The requester's ticket that is not finished (closed or withdrawn), if any (further messages join it)."""
    return session.scalar(
        select(Ticket)
        .where(Ticket.requester_id == requester.id, Ticket.status.not_in(FINISHED_STATUSES))
        .order_by(Ticket.id.desc())
        .limit(1)
    )


def get_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == number))
