"""The SLA queue: a Redis sorted set of open tickets scored by their deadline.

Redis is a derived index; the database is the record. Changes reach Redis only after
the transaction commits, and `rebuild` restores the index from open tickets.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.db import on_commit
from clinic.models import Ticket
from clinic.runtime import Runtime, runtime_of

log = logging.getLogger(__name__)

DUE_KEY = "sla:due"


def due_key(runtime: Runtime) -> str:
    return runtime.key(DUE_KEY)


def track(session: Session, ticket: Ticket) -> None:
    """Put (or move) the ticket in the live queue at its deadline, once committed."""
    runtime = runtime_of(session)
    ticket_id, score = ticket.id, ticket.due_at.timestamp()

    def _add() -> None:
        try:
            runtime.redis.zadd(due_key(runtime), {str(ticket_id): score})
        except redis.RedisError as exc:
            log.warning("SLA index not updated for ticket %s (%s); rebuild restores it", ticket_id, exc)

    on_commit(session, _add)


def untrack(session: Session, ticket: Ticket) -> None:
    runtime = runtime_of(session)
    ticket_id = ticket.id

    def _remove() -> None:
        try:
            runtime.redis.zrem(due_key(runtime), str(ticket_id))
        except redis.RedisError as exc:
            log.warning("SLA index not updated for ticket %s (%s); rebuild restores it", ticket_id, exc)

    on_commit(session, _remove)


def ordered_ids(runtime: Runtime, start: int = 0, stop: int = -1) -> list[tuple[int, float]]:
    """Open ticket ids with their deadline (epoch seconds), soonest first: the live queue."""
    return [
        (int(member), score) for member, score in runtime.redis.zrange(due_key(runtime), start, stop, withscores=True)
    ]


def rebuild(runtime: Runtime) -> int:
    """Replace the live queue with the open tickets of the database; return how many."""
    with runtime.db.transaction() as session:
        rows = session.execute(select(Ticket.id, Ticket.due_at).where(Ticket.status != "closed")).all()
    key = due_key(runtime)
    pipe = runtime.redis.pipeline(transaction=True)
    pipe.delete(key)
    for start in range(0, len(rows), 10_000):
        pipe.zadd(key, {str(ticket_id): due.timestamp() for ticket_id, due in rows[start : start + 10_000]})
    pipe.execute()
    return len(rows)
