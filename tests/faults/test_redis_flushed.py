"""Redis flushed under a running worker: the SLA queue is rebuilt; no warning missed or sent twice.

Five tickets had their 6-hour warning due an hour ago (sent when the worker starts), five
have it due 25 s later. Redis (this test's own server) is flushed in between: the next
sweep notices the index is gone, rebuilds it from the open tickets and the notices
already sent, and sends the coming warnings once, on time.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from clinic.clock import FrozenClock
from clinic.embedded_redis import EmbeddedRedis
from clinic.models import LineGroup, SlaNotice
from clinic.runtime import Runtime
from clinic.tasks import TICK_SECONDS
from tests import factories
from tests.fakeapi import FakeApiServer
from tests.faults.conftest import Product
from tests.faults.ledger import assert_each_reply_once, outbox_settled, wait_until

STAFF_GROUP = "Cfaultsuitestaffgroup0000000000001"


def _notices(runtime: Runtime) -> list[tuple[int, str, float]]:
    """(ticket, kind, seconds late) of every notice sent."""
    with runtime.db.Session() as session:
        rows = session.execute(select(SlaNotice.ticket_id, SlaNotice.kind, SlaNotice.scheduled_for,
                                      SlaNotice.created_at)).all()  # fmt: skip
    return [(ticket, kind, (created - scheduled).total_seconds()) for ticket, kind, scheduled, created in rows]


@pytest.mark.usefixtures("once_per_run")
def test_redis_flushed_sla_rebuilt(
    product: Product, api_server: FakeApiServer, runtime: Runtime, live_clock: FrozenClock, tmp_path: Path
) -> None:
    now = live_clock.now()
    with runtime.db.transaction() as session:
        session.add(LineGroup(group_id=STAFF_GROUP, joined_at=now))
        overdue_warning = [factories.ticket(session, now=now - timedelta(hours=19)).id for _ in range(5)]
        coming_warning = [factories.ticket(session, now=now - timedelta(hours=18, seconds=-25)).id for _ in range(5)]

    own_redis = EmbeddedRedis(tmp_path / "redis", persist=False)
    redis_url = own_redis.start()
    try:
        product.start_worker(REDIS_URL=redis_url)  # rebuilds the SLA queue from the database on start
        wait_until(lambda: {t for t, _, _ in _notices(runtime)} == set(overdue_warning), timeout=40,
                   what="the overdue 6-hour warnings sent")  # fmt: skip
        flushed = redis.Redis.from_url(redis_url)
        flushed.flushall()
        flushed.close()
        wait_until(lambda: len(_notices(runtime)) == 10, timeout=90, what="the coming warnings sent after the flush")
        time.sleep(TICK_SECONDS + 3)  # one more sweep: nothing may be repeated
        wait_until(lambda: outbox_settled(runtime.db), timeout=30, what="warnings delivered to the staff group")
        assert all(worker.alive for worker in product.workers), product.logs_tail()
    finally:
        product.stop()
        own_redis.stop()

    notices = _notices(runtime)
    assert sorted((t, k) for t, k, _ in notices) == sorted((t, "warn-6") for t in overdue_warning + coming_warning)
    assert max(late for t, _, late in notices if t in coming_warning) <= 60  # on time, despite the flush
    assert assert_each_reply_once(runtime.db, api_server) == 10
    pushes = api_server.matching("POST", r"^/v2/bot/message/push$", status=200)
    assert {p.json["to"] for p in pushes} == {STAFF_GROUP}
