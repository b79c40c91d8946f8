"""The inbound-event log: every webhook event is stored before anything is done with it.

Storing first means nothing a user sent is lost when Redis or a worker is down; the
unique (channel, event_key) means a redelivered event is processed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clinic.db import on_commit
from clinic.models import InboundEvent
from clinic.runtime import runtime_of

PROCESS_JOB = "bot.tasks.process_inbound"

_TABLE = InboundEvent.__table__

# (event_key, event_type, payload) of one event, as a webhook body gives it.
EventRow = tuple[str, str, dict[str, Any]]


def _insert_new(insert: Any) -> Insert:
    # ON CONFLICT DO NOTHING skips a redelivery (or a racing twin) in the same statement, so a
    # webhook costs one INSERT, not a SELECT plus a savepoint, and never an IntegrityError.
    return (
        insert(_TABLE)
        .on_conflict_do_nothing(index_elements=[_TABLE.c.channel, _TABLE.c.event_key])
        .returning(_TABLE.c.id, _TABLE.c.channel, _TABLE.c.event_key)
    )


# Built once, without values (rows are bound parameters): SQLAlchemy compiles each only once.
_INSERT_NEW = {"postgresql": _insert_new(postgresql.insert), "sqlite": _insert_new(sqlite.insert)}


def store(
    connection: Connection,
    *,
    channel: str,
    events: Sequence[EventRow],
    now: datetime,
    channel_user_id: str | None = None,
) -> list[int]:
    """Insert events in one statement; return the ids of the new ones in the order given.

    Already stored keys are left alone. The caller commits, then queues PROCESS_JOB for each id.
    `channel_user_id` is the sender of all of them when the adapter knows it (the web chat polls by it).
    """
    return store_batch(connection, [(channel, events)], now=now, channel_user_ids=[channel_user_id])[0]


def store_batch(
    connection: Connection,
    bodies: Sequence[tuple[str, Sequence[EventRow]]],
    *,
    now: datetime,
    channel_user_ids: Sequence[str | None] | None = None,
) -> list[list[int]]:
    """Insert the events of several webhook bodies (channel, events) in one statement.

    Returns, per body, the ids of its new events in insertion order. A key stored before, or
    earlier in this same batch (a redelivery racing its twin), is new for nobody after the first.
    The caller commits (group commit: `clinic.group_commit`). `channel_user_ids`, when given, is the
    sender of each body's events where the adapter knows it (the web chat polls by it).
    """
    senders = list(channel_user_ids) if channel_user_ids is not None else [None] * len(bodies)
    rows = [
        {
            "channel": channel,
            "event_key": key,
            "event_type": event_type,
            "payload": payload,
            "received_at": now,
            "status": "pending",
            "attempts": 0,
            "channel_user_id": sender,
        }
        for (channel, events), sender in zip(bodies, senders, strict=True)
        for key, event_type, payload in events
    ]
    if not rows:
        return [[] for _ in bodies]
    statement = _INSERT_NEW[connection.dialect.name]
    # Several rows go as one multi-row INSERT (SQLAlchemy's insertmanyvalues). RETURNING of a
    # multi-row INSERT promises no order, so each id is matched back by its (channel, key).
    result = connection.execute(statement, rows[0] if len(rows) == 1 else rows)
    inserted = {(channel, key): event_id for event_id, channel, key in result.all()}
    new_ids: list[list[int]] = []
    for channel, events in bodies:
        ids = []
        for key, _, _ in events:
            event_id = inserted.pop((channel, key), None)  # pop: a twin later in the batch is not new
            if event_id is not None:
                ids.append(event_id)
        new_ids.append(sorted(ids))
    return new_ids


def record(
    session: Session,
    *,
    channel: str,
    event_key: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
    channel_user_id: str | None = None,
) -> tuple[InboundEvent, bool]:
    """Store an event; return it and whether it is new. A job is queued after commit."""
    new_ids = store(
        session.connection(),
        channel=channel,
        events=[(event_key, event_type, payload)],
        now=now,
        channel_user_id=channel_user_id,
    )
    if not new_ids:
        existing = session.scalar(
            select(InboundEvent).where(InboundEvent.channel == channel, InboundEvent.event_key == event_key)
        )
        assert existing is not None
        return existing, False
    event_id = new_ids[0]
    event = session.get_one(InboundEvent, event_id)
    runtime = runtime_of(session)
    on_commit(session, lambda: runtime.enqueue(PROCESS_JOB, event_id))
    return event, True
