"""The desk's alert centre: which alerts a staff member sees, and which of them they have read.

An alert (`StaffAlert`) is for everyone (`staff_id` None) or for one staff member. Read
state is per staff member: every alert up to `StaffUser.alerts_read_through` is read
("mark all read" moves it), and single alerts above it are read when a `StaffAlertRead`
row says so. The unread count therefore looks only at alerts newer than the mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from clinic.models import StaffAlert, StaffAlertRead, StaffUser, Ticket

PER_PAGE = 50
# The LINE text's leading symbols; the desk shows the level by colour instead.
LEADING_MARKS = "⏰🚨⚠️ \ufe0f"


def plain(text: str) -> str:
    """The alert's words without its leading emoji (fonts without emoji draw them as boxes)."""
    return text.lstrip(LEADING_MARKS)


@dataclass(frozen=True)
class AlertRow:
    id: int
    created_at: datetime
    level: str
    text: str
    number: str | None
    read: bool


def _visible_to(staff: StaffUser) -> ColumnElement[bool]:
    return or_(StaffAlert.staff_id.is_(None), StaffAlert.staff_id == staff.id)


def _read_by(staff: StaffUser) -> Any:
    return exists().where(StaffAlertRead.staff_id == staff.id, StaffAlertRead.alert_id == StaffAlert.id)


def unread_count(session: Session, staff: StaffUser) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StaffAlert)
            .where(StaffAlert.id > staff.alerts_read_through, _visible_to(staff), ~_read_by(staff))
        )
        or 0
    )


def page_of(
    session: Session, staff: StaffUser, *, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[AlertRow], int]:
    """The staff member's alerts, newest first, with their read state; and the total."""
    total = session.scalar(select(func.count()).select_from(StaffAlert).where(_visible_to(staff))) or 0
    rows = session.execute(
        select(StaffAlert, Ticket.number, _read_by(staff).label("read"))
        .outerjoin(Ticket, Ticket.id == StaffAlert.ticket_id)
        .where(_visible_to(staff))
        .order_by(StaffAlert.id.desc())
        .offset((max(1, page) - 1) * per_page)
        .limit(per_page)
    ).all()
    return [
        AlertRow(alert.id, alert.created_at, alert.level, plain(alert.text), number,
                 bool(read) or alert.id <= staff.alerts_read_through)
        for alert, number, read in rows
    ], total  # fmt: skip


def mark_read(session: Session, staff: StaffUser, alert_id: int, *, now: datetime) -> bool:
    """Mark one alert read; False when the staff member cannot see such an alert."""
    alert = session.get(StaffAlert, alert_id)
    if alert is None or (alert.staff_id is not None and alert.staff_id != staff.id):
        return False
    if alert.id > staff.alerts_read_through and session.get(StaffAlertRead, (staff.id, alert.id)) is None:
        session.add(StaffAlertRead(staff_id=staff.id, alert_id=alert.id, read_at=now))
    return True


def mark_all_read(session: Session, staff: StaffUser) -> int:
    """Every alert so far is read; the single-alert rows below the new mark are no longer needed."""
    newest = session.scalar(select(func.max(StaffAlert.id))) or 0
    if newest > staff.alerts_read_through:
        staff.alerts_read_through = newest
    session.execute(
        delete(StaffAlertRead).where(
            StaffAlertRead.staff_id == staff.id, StaffAlertRead.alert_id <= staff.alerts_read_through
        )
    )
    return staff.alerts_read_through
