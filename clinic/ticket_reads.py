"""Which tickets have a requester message a staff member has not seen yet (the inbox's unread marker).

Opening a ticket records the id of its newest message for that staff member
(`TicketRead`); a ticket is unread for them while it has an inbound message with a
larger id, or they never opened it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.models import Message, StaffUser, Ticket, TicketRead


def record(session: Session, staff: StaffUser, ticket: Ticket, *, now: datetime) -> None:
    """The staff member has seen the ticket up to its newest message."""
    newest = session.scalar(select(func.max(Message.id)).where(Message.ticket_id == ticket.id)) or 0
    read = session.get(TicketRead, (staff.id, ticket.id))
    if read is None:
        session.add(TicketRead(staff_id=staff.id, ticket_id=ticket.id, last_message_id=newest, read_at=now))
    elif newest > read.last_message_id:
        read.last_message_id, read.read_at = newest, now


def unread(session: Session, staff_id: int, ticket_ids: Collection[int]) -> set[int]:
    """Of these tickets (one inbox page), those with a requester message newer than the staff member saw."""
    if not ticket_ids:
        return set()
    newest_inbound = dict(
        session.execute(
            select(Message.ticket_id, func.max(Message.id))
            .where(Message.ticket_id.in_(ticket_ids), Message.kind == "inbound")
            .group_by(Message.ticket_id)
        ).all()
    )
    seen = dict(
        session.execute(
            select(TicketRead.ticket_id, TicketRead.last_message_id).where(
                TicketRead.staff_id == staff_id, TicketRead.ticket_id.in_(ticket_ids)
            )
        ).all()
    )
    return {ticket_id for ticket_id, newest in newest_inbound.items() if newest > seen.get(ticket_id, 0)}
