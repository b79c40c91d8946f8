"""Small builders for test data, going through the real services where there is one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import staff, tickets
from clinic.models import Agency, Requester, StaffUser, Ticket

PASSWORD = "correct-horse-battery"


def requester(
    session: Session,
    *,
    now: datetime,
    channel: str = "line",
    user_id: str | None = None,
    agency_code: str | None = "district-1001",
    agency_type: str = "district",
    agency_other: str = "",
    display_name: str = "คุณสมชาย",
) -> Requester:
    agency = session.scalar(select(Agency).where(Agency.code == agency_code)) if agency_code else None
    person = Requester(
        channel=channel,
        channel_user_id=user_id or f"U{uuid.uuid4().hex}",
        display_name=display_name,
        agency_type_code=agency.agency_type_code if agency else agency_type,
        agency_id=agency.id if agency else None,
        agency_other=agency_other,
        created_at=now,
        last_inbound_at=now,
    )
    session.add(person)
    session.flush()
    return person


def ticket(
    session: Session,
    *,
    now: datetime,
    topic: str = "saraban",
    body: str = "ขอสอบถามการลงทะเบียนรับหนังสือ",
    who: Requester | None = None,
    **requester_kwargs: object,
) -> Ticket:
    who = who or requester(session, now=now, **requester_kwargs)  # type: ignore[arg-type]
    return tickets.open_ticket(session, requester=who, topic_code=topic, body=body, now=now)


def staff_user(session: Session, *, now: datetime, username: str = "somsri", role: str = "agent") -> StaffUser:
    return staff.create_user(session, username=username, password=PASSWORD, role=role, now=now, display_name=username)
