"""The worker SIGKILLed in the middle of sending; restarted; no reply lost or doubled.

Staff replies go by push with X-Line-Retry-Key = the outbox row's retry_key. The fake API
answers after 1 s, so the kill lands while a push is in flight: the API accepts it, the
worker never hears back. The restarted worker drains the rest; the killed worker's claim
is retaken once it is stale (the clock is moved past STALE_CLAIM instead of waiting five
minutes), and the retried push gets LINE's 409 for a known retry key: delivered once.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from bot import delivery, tasks
from clinic import recovery, tickets
from clinic.clock import FrozenClock
from clinic.models import OutboxMessage
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer
from tests.faults.conftest import Product
from tests.faults.ledger import assert_each_reply_once, outbox_settled, wait_until

PUSH = r"^/v2/bot/message/push$"


def _ids_with_status(runtime: Runtime, status: str) -> list[int]:
    with runtime.db.Session() as session:
        return list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == status)))


def test_worker_killed_mid_push(
    product: Product, api_server: FakeApiServer, runtime: Runtime, live_clock: FrozenClock
) -> None:
    api_server.delay = 1.0
    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=live_clock.now())
        for n in range(6):
            ticket = factories.ticket(session, now=live_clock.now())
            tickets.reply(session, ticket, body=f"คำตอบที่ {n} / answer {n}", now=live_clock.now(), staff=agent)

    worker = product.start_worker()
    wait_until(lambda: bool(_ids_with_status(runtime, "sending")), timeout=30, what="a push in flight")
    time.sleep(0.3)  # well inside the API's 1 s answer
    worker.kill()
    in_flight = _ids_with_status(runtime, "sending")
    assert len(in_flight) == 1
    # The API still accepts the orphaned request once its delay is over.
    assert api_server.wait_for(lambda s: len(s.matching("POST", PUSH, status=200)) >= 1, timeout=5)

    api_server.delay = 0.0
    product.start_worker()
    wait_until(lambda: len(_ids_with_status(runtime, "sent")) == 5, timeout=60, what="the restarted worker drains")
    assert _ids_with_status(runtime, "sending") == in_flight  # the orphan waits for its claim to go stale

    live_clock.advance(delivery.STALE_CLAIM + delivery.timedelta(seconds=30))
    assert recovery.sweep(runtime).outbox == 1
    assert tasks.deliver_outbox(in_flight[0]) == "sent"  # the job, run here on the moved clock

    wait_until(lambda: outbox_settled(runtime.db), timeout=10, what="everything settled")
    assert len(api_server.matching("POST", PUSH, status=409)) == 1  # the retry was recognised, not re-sent
    assert assert_each_reply_once(runtime.db, api_server) == 6
