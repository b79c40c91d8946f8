"""The SLA queue in Redis: the live queue of deadlines, and the sweep that sends warnings.

Two sorted sets, both keyed by ticket id:

- `sla:due`, scored by each open ticket's deadline: the desk lists the queue from it.
- `sla:next`, scored by the time of each open ticket's next warning. A sweep claims
  only the members whose score has passed (ZRANGEBYSCORE), so its cost grows with the
  number of warnings due, not with the number of open tickets.

Claiming moves a member's score to a lease 60 s ahead in one Lua call, so two workers
never take the same ticket; a worker that dies mid-batch loses nothing, as the lease
runs out and the ticket comes due again. The database stays the record: each warning
inserts an `SlaNotice` row, whose unique (ticket, deadline, kind) stops a second copy
even if Redis forgets a lease, and `rebuild` restores both sets from the open tickets
and the notices already sent. Changes reach Redis only after the transaction commits.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from clinic import settings, sla_warnings
from clinic.db import on_commit
from clinic.models import FINISHED_STATUSES, SlaNotice, Ticket
from clinic.runtime import Runtime, runtime_of
from clinic.sla_schedule import first_after, latest_until

log = logging.getLogger(__name__)

DUE_KEY = "sla:due"
NEXT_KEY = "sla:next"
# Set by `rebuild`: a Redis that lacks it was flushed or replaced, and the next sweep rebuilds first.
READY_KEY = "sla:ready"
REBUILD_LOCK_KEY = "sla:rebuilding"
# A list the SLA timer of each worker blocks on (BLPOP): `track` pushes to it when a ticket's
# next warning becomes the earliest, so the timer wakes for it at once (clinic/sla_timer.py).
WAKE_KEY = "sla:wake"
LEASE_SECONDS = 60
BATCH_SIZE = 200
# Tickets opened or closed this long before a rebuild started are re-checked after it,
# in case their own index update landed before the rebuilt sets replaced the old ones.
REBUILD_CATCH_UP = timedelta(minutes=5)

# KEYS[1] = due set, KEYS[2] = next set, KEYS[3] = wake list; ARGV = id, deadline, next warning.
# Pushes a wake-up only when this ticket's warning is now the earliest: one list entry is enough.
_TRACK = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local first = redis.call('ZRANGE', KEYS[2], 0, 0)
if first[1] == ARGV[1] then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, 0)
  redis.call('EXPIRE', KEYS[3], 60)
end
return 1
"""

# KEYS[1] = next set; ARGV = now, lease score, batch size. Returns the claimed ids.
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
"""

# KEYS[1] = next set, KEYS[2] = due set; ARGV = lease score, then pairs (id, next score or '' to drop).
# Only members still holding this lease are touched: a reopen or a rebuild in the meantime wins.
_FINISH = """
local lease = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local id, score = ARGV[i], ARGV[i + 1]
  if tonumber(redis.call('ZSCORE', KEYS[1], id)) == lease then
    if score == '' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
    else
      redis.call('ZADD', KEYS[1], score, id)
    end
  end
end
return 1
"""


def due_key(runtime: Runtime) -> str:
    return runtime.key(DUE_KEY)


def next_key(runtime: Runtime) -> str:
    return runtime.key(NEXT_KEY)


def wake_key(runtime: Runtime) -> str:
    return runtime.key(WAKE_KEY)


def wake(runtime: Runtime) -> None:
    """Tell a waiting SLA timer to look at the queue again now (one entry, expiring)."""
    pipe = runtime.redis.pipeline(transaction=True)
    pipe.lpush(wake_key(runtime), "rebuilt")
    pipe.ltrim(wake_key(runtime), 0, 0)
    pipe.expire(wake_key(runtime), 60)
    pipe.execute()


def next_warning_at(runtime: Runtime) -> float | None:
    """The earliest next-warning time in the queue (epoch seconds), or None when it is empty."""
    first: list[tuple[bytes, float]] = runtime.redis.zrange(  # type: ignore[assignment]  # redis-py's stubs
        next_key(runtime), 0, 0, withscores=True
    )
    return float(first[0][1]) if first else None


def _warn_redis_down(ticket_id: int, exc: Exception) -> None:
    log.warning("SLA index not updated for ticket %s (%s); rebuild restores it", ticket_id, exc)


def track(session: Session, ticket: Ticket) -> None:
    """Put (or move) the ticket in the live queue at its deadline, with its first warning, once committed."""
    runtime = runtime_of(session)
    first = first_after(ticket.sla_started_at, ticket.due_at, settings.sla(session, runtime.config))
    ticket_id, due, warn_at = ticket.id, ticket.due_at.timestamp(), first.at.timestamp()

    def _add() -> None:
        try:
            runtime.redis.register_script(_TRACK)(
                keys=[due_key(runtime), next_key(runtime), wake_key(runtime)], args=[str(ticket_id), due, warn_at]
            )
        except redis.RedisError as exc:
            _warn_redis_down(ticket_id, exc)

    on_commit(session, _add)


def untrack(session: Session, ticket: Ticket) -> None:
    """Take the ticket out of the queue once committed: its pending warnings are cancelled."""
    runtime = runtime_of(session)
    ticket_id = ticket.id

    def _remove() -> None:
        try:
            pipe = runtime.redis.pipeline(transaction=True)
            pipe.zrem(due_key(runtime), str(ticket_id))
            pipe.zrem(next_key(runtime), str(ticket_id))
            pipe.execute()
        except redis.RedisError as exc:
            _warn_redis_down(ticket_id, exc)

    on_commit(session, _remove)


def ordered_ids(runtime: Runtime, start: int = 0, stop: int = -1) -> list[tuple[int, float]]:
    """Open ticket ids with their deadline (epoch seconds), soonest first: the live queue."""
    pairs: list[tuple[bytes, float]] = runtime.redis.zrange(  # type: ignore[assignment]  # redis-py's stubs
        due_key(runtime), start, stop, withscores=True
    )
    return [(int(member), float(score)) for member, score in pairs]


# --- rebuild ---------------------------------------------------------------------------


def _last_sent(session: Session, open_only: bool, ticket_ids: list[int] | None = None) -> dict[int, datetime]:
    """For each ticket, when its latest notice for its current deadline was scheduled."""
    query = (
        select(SlaNotice.ticket_id, func.max(SlaNotice.scheduled_for))
        .join(Ticket, and_(Ticket.id == SlaNotice.ticket_id, Ticket.due_at == SlaNotice.due_at))
        .group_by(SlaNotice.ticket_id)
    )
    if open_only:
        query = query.where(Ticket.status.not_in(FINISHED_STATUSES))
    if ticket_ids is not None:
        query = query.where(SlaNotice.ticket_id.in_(ticket_ids))
    return {ticket_id: at for ticket_id, at in session.execute(query)}


def rebuild(runtime: Runtime) -> int:
    """Replace both sets with the open tickets of the database; return how many.

    Each ticket's next warning is the first one after the last notice already sent for
    its current deadline, so a flushed Redis neither loses a deadline nor repeats a warning.
    """
    started = runtime.clock.now()
    with runtime.db.transaction() as session:
        timings = settings.sla(session, runtime.config)
        rows = session.execute(
            select(Ticket.id, Ticket.sla_started_at, Ticket.due_at).where(Ticket.status.not_in(FINISHED_STATUSES))
        ).all()
        sent = _last_sent(session, open_only=True)
    suffix = uuid.uuid4().hex
    due, upcoming = due_key(runtime), next_key(runtime)
    building_due, building_next = f"{due}:building:{suffix}", f"{upcoming}:building:{suffix}"
    pipe = runtime.redis.pipeline(transaction=False)
    for start in range(0, len(rows), 10_000):
        chunk = rows[start : start + 10_000]
        pipe.zadd(building_due, {str(ticket_id): due_at.timestamp() for ticket_id, _, due_at in chunk})
        pipe.zadd(
            building_next,
            {
                str(ticket_id): first_after(started_at, due_at, timings, sent.get(ticket_id)).at.timestamp()
                for ticket_id, started_at, due_at in chunk
            },
        )
    pipe.expire(building_due, 600)
    pipe.expire(building_next, 600)
    pipe.execute()
    pipe = runtime.redis.pipeline(transaction=True)
    if rows:
        pipe.rename(building_due, due)
        pipe.persist(due)
        pipe.rename(building_next, upcoming)
        pipe.persist(upcoming)
    else:
        pipe.delete(due, upcoming)
    pipe.set(runtime.key(READY_KEY), started.isoformat())
    pipe.execute()
    _catch_up(runtime, since=started - REBUILD_CATCH_UP)
    wake(runtime)  # a timer waiting on the old index looks at the new one now
    return len(rows)


def _catch_up(runtime: Runtime, since: datetime) -> None:
    with runtime.db.transaction() as session:
        timings = settings.sla(session, runtime.config)
        opened = session.execute(
            select(Ticket.id, Ticket.sla_started_at, Ticket.due_at).where(
                Ticket.status.not_in(FINISHED_STATUSES), Ticket.sla_started_at >= since
            )
        ).all()
        closed = session.scalars(
            select(Ticket.id).where(Ticket.status.in_(FINISHED_STATUSES), Ticket.closed_at >= since)
        ).all()
    pipe = runtime.redis.pipeline(transaction=False)
    for ticket_id, started_at, due_at in opened:
        pipe.zadd(due_key(runtime), {str(ticket_id): due_at.timestamp()})
        # NX: a member already there carries a lease or a later warning; keep it.
        pipe.zadd(next_key(runtime), {str(ticket_id): first_after(started_at, due_at, timings).at.timestamp()}, nx=True)
    for ticket_id in closed:
        pipe.zrem(due_key(runtime), str(ticket_id))
        pipe.zrem(next_key(runtime), str(ticket_id))
    pipe.execute()


def _ensure_index(runtime: Runtime) -> bool:
    """Rebuild first if Redis lost the index; False while another worker is rebuilding it."""
    if runtime.redis.exists(runtime.key(READY_KEY)):
        return True
    lock = runtime.key(REBUILD_LOCK_KEY)
    if not runtime.redis.set(lock, 1, nx=True, ex=300):
        return False
    try:
        count = rebuild(runtime)
        log.warning("SLA index was missing from Redis; rebuilt from %d open tickets", count)
    finally:
        runtime.redis.delete(lock)
    return True


# --- sweep -----------------------------------------------------------------------------


@dataclass
class SweepResult:
    claimed: int = 0  # tickets whose next-warning time had come
    sent: int = 0  # warnings recorded and queued by this sweep


def sweep(runtime: Runtime, *, batch_size: int = BATCH_SIZE) -> SweepResult:
    """Send every warning that has come due.

    Each worker's SLA timer (clinic/sla_timer.py) runs this at the due second; the 15 s tick
    runs it too, as a backstop. Claims are atomic, so concurrent sweeps never take one ticket twice.
    """
    result = SweepResult()
    if not _ensure_index(runtime):
        return result
    claim = runtime.redis.register_script(_CLAIM)
    finish = runtime.redis.register_script(_FINISH)
    while True:
        now = runtime.clock.now()
        lease = f"{now.timestamp() + LEASE_SECONDS:.3f}"
        claimed = claim(keys=[next_key(runtime)], args=[now.timestamp(), lease, batch_size])
        if not claimed:
            break
        ticket_ids = sorted(int(member) for member in claimed)
        result.claimed += len(ticket_ids)
        next_at, sent = _warn(runtime, ticket_ids, now)
        result.sent += sent
        args: list[str | float] = [lease]
        for ticket_id in ticket_ids:
            at = next_at.get(ticket_id)
            args += [str(ticket_id), "" if at is None else at.timestamp()]
        finish(keys=[next_key(runtime), due_key(runtime)], args=args)
        if len(claimed) < batch_size:
            break
    return result


def _warn(runtime: Runtime, ticket_ids: list[int], now: datetime) -> tuple[dict[int, datetime | None], int]:
    """Send what is due for these tickets in one transaction; return each one's next warning time.

    Tickets go in id order so two workers that do meet on the same rows lock them in
    the same order (no deadlock on PostgreSQL).
    """
    config = runtime.config
    next_at: dict[int, datetime | None] = {}
    sent = 0
    with runtime.db.transaction() as session:
        timings = settings.sla(session, config)
        tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).unique()}
        last_sent = _last_sent(session, open_only=False, ticket_ids=ticket_ids)
        audience: sla_warnings.Audience | None = None
        for ticket_id in ticket_ids:
            ticket = tickets.get(ticket_id)
            if ticket is None or ticket.is_finished:
                next_at[ticket_id] = None  # closed or withdrawn since it was queued: its warnings are cancelled
                continue
            cursor = last_sent.get(ticket_id)
            latest = latest_until(ticket.sla_started_at, ticket.due_at, timings, now)
            if latest is not None and (cursor is None or latest.at > cursor):
                if audience is None:
                    audience = sla_warnings.audience(session, config)
                if sla_warnings.send(session, ticket, latest, now=now, config=config, audience=audience):
                    sent += 1
                cursor = latest.at
            next_at[ticket_id] = first_after(ticket.sla_started_at, ticket.due_at, timings, cursor).at
    return next_at, sent
