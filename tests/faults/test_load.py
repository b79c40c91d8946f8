"""Load on loopback: 1,000 requesters sending 5 messages each at up to 200 requests/s; zero lost.

Every webhook must be answered 200 within the run, every event processed and every
reply delivered exactly once within a bounded time, by two worker processes.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests

from bench.line_events import SignedEvent, signed_text, user_id
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

REQUESTERS, MESSAGES, RATE, SENDERS = 1_000, 5, 200.0, 8
WORDS = ("สวัสดีครับ", "1", "ถัดไป", "เมนู", "สถานะ")


def _send_paced(url: str, events: list[SignedEvent], rate: float) -> list[int]:
    """POST every event, event i no earlier than i / rate seconds after the start."""
    statuses = [0] * len(events)
    start = time.monotonic()

    def sender(first: int) -> None:
        with requests.Session() as session:
            for index in range(first, len(events), SENDERS):
                pause = start + index / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    statuses[index] = post(url, events[index], session=session)
                except requests.RequestException:
                    statuses[index] = -1

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.usefixtures("once_per_run")
@pytest.mark.timeout(600)
def test_1000_requesters_5_messages_none_lost(product: Product, api_server: FakeApiServer, runtime: Runtime) -> None:
    secret, tag = runtime.config.line_channel_secret, uuid.uuid4().hex
    # Round by round, so each requester's messages are spread over the run, as people type.
    events = [signed_text(secret, user_id(n, tag), WORDS[k]) for k in range(MESSAGES) for n in range(REQUESTERS)]
    product.start_web()
    product.start_worker()
    product.start_worker()

    started = time.monotonic()
    statuses = _send_paced(product.url, events, RATE)
    sending = time.monotonic() - started
    assert statuses.count(200) == len(events), {s: statuses.count(s) for s in set(statuses)}
    assert sending < len(events) / RATE * 1.5, f"sending took {sending:.0f} s: the webhook could not keep up"

    wait_until(lambda: all_processed(runtime.db, events), timeout=300, interval=2, what="every event processed")
    wait_until(lambda: outbox_settled(runtime.db), timeout=120, interval=1, what="every reply delivered")
    assert_each_event_once(runtime.db, events)
    assert assert_each_reply_once(runtime.db, api_server) == len(events)
