"""The LINE API answering 500, then 429, then recovering: every reply still arrives exactly once."""

from __future__ import annotations

import uuid

import pytest

from bench.line_events import many_signed
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

SENDS = r"^/v2/bot/message/(reply|push)$"


@pytest.mark.usefixtures("once_per_run")
def test_replies_survive_500_then_429(product: Product, api_server: FakeApiServer, runtime: Runtime) -> None:
    secret = runtime.config.line_channel_secret
    events = many_signed(secret, 8, users=8, tag=uuid.uuid4().hex)
    # Every first try fails with 500, every second with 429 (Retry-After: 1), then the API is well again.
    api_server.fail("POST", SENDS, 500, {"message": "Internal server error"}, times=len(events))
    api_server.fail("POST", SENDS, 429, {"message": "Too many requests"}, times=len(events),
                    headers={"Retry-After": "1"})  # fmt: skip
    product.start_web()
    product.start_worker()

    assert [post(product.url, event) for event in events] == [200] * len(events)
    wait_until(lambda: all_processed(runtime.db, events), timeout=30, what="all events processed")
    wait_until(lambda: outbox_settled(runtime.db), timeout=90, what="every reply sent after the API recovered")

    assert len(api_server.matching("POST", SENDS, status=500)) == len(events)
    assert len(api_server.matching("POST", SENDS, status=429)) == len(events)
    assert_each_event_once(runtime.db, events)
    assert assert_each_reply_once(runtime.db, api_server) == len(events)
