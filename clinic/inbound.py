"""The inbound-event log: every webhook event is stored before anything is done with it.

Storing first means nothing a user sent is lost when Redis or a worker is down; the
unique (channel, event_key) means a redelivered event is processed once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.db import on_commit
from clinic.models import InboundEvent
from clinic.runtime import runtime_of

PROCESS_JOB = "bot.tasks.process_inbound"


def record(
    session: Session,
    *,
    channel: str,
    event_key: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
) -> tuple[InboundEvent, bool]:
    """Store an event; return it and whether it is new. A job is queued after commit."""
    existing = session.scalar(
        select(InboundEvent).where(InboundEvent.channel == channel, InboundEvent.event_key == event_key)
    )
    if existing is not None:
        return existing, False
    event = InboundEvent(
        channel=channel,
        event_key=event_key,
        event_type=event_type,
        payload=payload,
        received_at=now,
        status="pending",
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # Two deliveries of the same event raced; the other one won.
        existing = session.scalar(
            select(InboundEvent).where(InboundEvent.channel == channel, InboundEvent.event_key == event_key)
        )
        assert existing is not None
        return existing, False
    runtime = runtime_of(session)
    event_id = event.id
    on_commit(session, lambda: runtime.enqueue(PROCESS_JOB, event_id))
    return event, True
