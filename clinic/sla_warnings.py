"""One SLA warning about one ticket: who receives it, what it says, and sending it exactly once.

A warning goes to the staff LINE group, to the assignee's linked LINE account, and,
from the deadline on (an escalation), to every active supervisor with a linked LINE
account. It always also becomes a `StaffAlert` the desk shows live, so a warning is
never silent even when nobody is reachable on LINE. Messages leave through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic import metrics, outbox
from clinic.config import Config
from clinic.db import on_commit
from clinic.models import LineGroup, SlaNotice, StaffAlert, StaffUser, Ticket
from clinic.runtime import runtime_of
from clinic.sla_schedule import DUE, Notice
from clinic.thaidate import format_datetime, format_duration_th

KIND = "sla_warning"


@dataclass(frozen=True)
class Audience:
    """The recipients that do not depend on the ticket, looked up once per sweep batch."""

    group_id: str | None
    supervisor_line_ids: tuple[str, ...]


def audience(session: Session, config: Config) -> Audience:
    group_id = config.staff_line_group_id or session.scalar(
        select(LineGroup.group_id)
        .where(LineGroup.left_at.is_(None))
        .order_by(LineGroup.joined_at.desc(), LineGroup.id.desc())
        .limit(1)
    )
    supervisors = session.scalars(
        select(StaffUser.line_user_id)
        .where(StaffUser.role == "supervisor", StaffUser.active.is_(True), StaffUser.line_user_id.is_not(None))
        .order_by(StaffUser.id)
    ).all()
    return Audience(group_id=group_id or None, supervisor_line_ids=tuple(line_id for line_id in supervisors if line_id))


def recipients(ticket: Ticket, notice: Notice, audience: Audience) -> list[str]:
    """LINE ids to push this warning to, each once."""
    candidates: list[str | None] = [audience.group_id]
    assignee = ticket.assignee
    if assignee is not None and assignee.active:
        candidates.append(assignee.line_user_id)
    if notice.escalation:
        candidates.extend(audience.supervisor_line_ids)
    return list(dict.fromkeys(line_id for line_id in candidates if line_id))


def _duration_en(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def ticket_link(config: Config, ticket: Ticket) -> str:
    return f"{config.base_url}/tickets/{ticket.number}"


def headline(ticket: Ticket, notice: Notice, now: datetime) -> str:
    left = ticket.due_at - now
    if not notice.escalation:
        return (
            f"⏰ ใกล้ครบกำหนด: เรื่อง {ticket.number} เหลือเวลา {format_duration_th(left)}"
            f" / SLA warning: {ticket.number}, {_duration_en(left)} left"
        )
    if notice.kind == DUE:
        return f"🚨 ครบกำหนดแล้ว ยังไม่ปิดเรื่อง: {ticket.number} / SLA deadline reached, not closed: {ticket.number}"
    return (
        f"🚨 เกินกำหนด {format_duration_th(now - ticket.due_at)}: เรื่อง {ticket.number}"
        f" / SLA overdue by {_duration_en(left)}: {ticket.number}"
    )


def compose(ticket: Ticket, notice: Notice, *, now: datetime, config: Config) -> str:
    """The LINE text: Thai first, with number, agency, topic, time left, deadline and the desk link."""
    tz = ZoneInfo(config.timezone)
    assignee = ticket.assignee.display_name if ticket.assignee else "ยังไม่มี / none"
    lines = [
        headline(ticket, notice, now),
        f"หน่วยงาน / Agency: {ticket.agency_name or ticket.agency_type.label_th}",
        f"หัวข้อ / Topic: {ticket.topic.label_th}",
        f"เรื่อง / Question: {ticket.subject}" if ticket.subject else "",
        f"ครบกำหนด / Due: {format_datetime(ticket.due_at, tz)}",
        f"ผู้รับผิดชอบ / Assignee: {assignee}",
    ]
    if notice.escalation:
        lines.append("แจ้งผู้บังคับบัญชาแล้ว / Supervisors notified")
    lines.append(f"เปิดเรื่อง / Open: {ticket_link(config, ticket)}")
    return "\n".join(line for line in lines if line)


def send(
    session: Session, ticket: Ticket, notice: Notice, *, now: datetime, config: Config, audience: Audience
) -> bool:
    """Record the notice and queue its messages in the caller's transaction; False if already sent.

    The unique (ticket, deadline, kind) of `SlaNotice` is the final guard: when two
    workers race, the second insert fails and that worker queues nothing.
    """
    try:
        with session.begin_nested():
            session.add(
                SlaNotice(ticket_id=ticket.id, due_at=ticket.due_at, kind=notice.kind, scheduled_for=notice.at,
                          created_at=now)
            )  # fmt: skip
    except IntegrityError:
        return False
    runtime, late = runtime_of(session), (now - notice.at).total_seconds()
    on_commit(session, lambda: metrics.observe_warning_lateness(runtime, late))
    body = compose(ticket, notice, now=now, config=config)
    for line_id in recipients(ticket, notice, audience):
        outbox.queue(session, channel="line", recipient=line_id, kind=KIND, messages=[outbox.text(body)], now=now,
                     ticket=ticket)  # fmt: skip
    session.add(
        StaffAlert(
            created_at=now,
            ticket_id=ticket.id,
            level="overdue" if notice.escalation else "warning",
            text=headline(ticket, notice, now),
            staff_id=None,
        )
    )
    return True
