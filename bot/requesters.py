"""Finding the requester behind a channel's user id, creating them on first contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.models import Requester


def find(session: Session, channel: str, user_id: str, *, lock: bool = False) -> Requester | None:
    query = select(Requester).where(Requester.channel == channel, Requester.channel_user_id == user_id)
    if lock:
        # One conversation step at a time per requester, even with several workers.
        query = query.with_for_update(of=Requester)
    return session.scalar(query)


def find_or_create(session: Session, channel: str, user_id: str, *, now: datetime) -> tuple[Requester, bool]:
    """The requester (row-locked for this transaction) and whether they are new."""
    existing = find(session, channel, user_id, lock=True)
    if existing is not None:
        return existing, False
    person = Requester(channel=channel, channel_user_id=user_id, created_at=now, following=True)
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:
        # Two events of a brand-new user were processed at once; the other created the row.
        existing = find(session, channel, user_id, lock=True)
        assert existing is not None
        return existing, False
    return person, True
