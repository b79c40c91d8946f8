"""Redis stopped and restarted in the middle of a burst of webhooks: nothing lost, nothing doubled.

The product runs on a Redis server of this test's own (never the machine's shared one).
While it is down the webhook still stores each event and answers 200; the worker's
recovery sweep queues what was stored without a job once Redis is back.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from bench.line_events import many_signed
from clinic.embedded_redis import EmbeddedRedis
from clinic.runtime import Runtime
from tests.fakeapi import FakeApiServer
from tests.faults.conftest import Product
from tests.faults.ledger import (
    all_processed,
    assert_each_event_once,
    assert_each_reply_once,
    outbox_settled,
    post,
    wait_until,
)


@pytest.mark.usefixtures("once_per_run")
def test_redis_restarted_mid_burst(
    product: Product, api_server: FakeApiServer, runtime: Runtime, tmp_path: Path
) -> None:
    own_redis = EmbeddedRedis(tmp_path / "redis", persist=False)
    redis_url = own_redis.start()
    try:
        product.start_web(REDIS_URL=redis_url)
        product.start_worker(REDIS_URL=redis_url)
        events = many_signed(runtime.config.line_channel_secret, 60, users=20, tag=uuid.uuid4().hex)
        statuses = []
        with requests.Session() as session:
            for n, event in enumerate(events):
                if n == 20:
                    own_redis.stop()
                if n == 40:
                    own_redis.start()
                statuses.append(post(product.url, event, session=session))
        assert statuses == [200] * len(events)

        # Events stored while Redis was down wait out the sweep's 30 s grace, then are queued.
        wait_until(lambda: all_processed(runtime.db, events), timeout=150, what="every event processed")
        wait_until(lambda: outbox_settled(runtime.db), timeout=60, what="every reply sent")
        assert all(worker.alive for worker in product.workers), product.logs_tail()
    finally:
        product.stop()
        own_redis.stop()
    assert_each_event_once(runtime.db, events)
    assert assert_each_reply_once(runtime.db, api_server) == len(events)
