"""The recovery sweep: re-queue work that is stored in the database but was never finished.

Webhook events and outgoing messages are written to the database before any job is queued,
so when Redis was down, a job was lost, or a worker died mid-job, the rows are still there:
events still `pending` (or `processing` with a stale claim), and outbox rows `pending` and due
(or `sending` with a stale claim). The jobs claim rows conditionally, so a row queued twice is
still handled once; a short Redis marker keeps one row from being queued on every tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import redis
from sqlalchemy import and_, or_, select

from clinic.inbound import PROCESS_JOB
from clinic.models import InboundEvent, OutboxMessage
from clinic.outbox import DELIVER_JOB
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

# A fresh row has its own job on the way; only rows older than this are taken as lost.
GRACE = timedelta(seconds=30)
# Matches the jobs' own notion of a dead worker's claim.
STALE_CLAIM = timedelta(minutes=5)
# Do not queue the same row again for this long (the job may simply be waiting its turn).
REQUEUE_EVERY_SECONDS = 120
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    events: int
    outbox: int


def sweep(runtime: Runtime) -> SweepResult:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        event_ids = session.scalars(
            select(InboundEvent.id)
            .where(
                or_(
                    and_(InboundEvent.status == "pending", InboundEvent.received_at <= now - GRACE),
                    and_(InboundEvent.status == "processing", InboundEvent.claimed_at < now - STALE_CLAIM),
                )
            )
            .order_by(InboundEvent.id)
            .limit(BATCH)
        ).all()
        outbox_ids = session.scalars(
            select(OutboxMessage.id)
            .where(
                or_(
                    and_(
                        OutboxMessage.status == "pending",
                        # Due (a retry's own scheduled job had its chance) or, without a time, old enough.
                        or_(
                            OutboxMessage.next_attempt_at <= now - GRACE,
                            and_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.created_at <= now - GRACE),
                        ),
                    ),
                    and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - STALE_CLAIM),
                )
            )
            .order_by(OutboxMessage.id)
            .limit(BATCH)
        ).all()
    events = sum(_requeue(runtime, PROCESS_JOB, "inbound", event_id) for event_id in event_ids)
    sent = sum(_requeue(runtime, DELIVER_JOB, "outbox", outbox_id) for outbox_id in outbox_ids)
    if events or sent:
        log.info("recovery: re-queued %d inbound events and %d outbox messages", events, sent)
    return SweepResult(events, sent)


def _requeue(runtime: Runtime, job: str, kind: str, row_id: int) -> bool:
    try:
        if not runtime.redis.set(runtime.key(f"recovery:{kind}:{row_id}"), 1, nx=True, ex=REQUEUE_EVERY_SECONDS):
            return False
    except redis.RedisError:
        return False
    return runtime.enqueue(job, row_id)
