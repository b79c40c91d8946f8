"""The database unavailable: the webhook answers 503 (LINE redelivers) and leaves nothing half-written.

The web app is pointed at a database that refuses (PostgreSQL on a closed port, or a
SQLite file in a directory that does not exist). No job may be queued for an event
that was not stored. When the database is back, the platform's redelivery of the
same events is processed once.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select

from bench.line_events import many_signed
from clinic.models import InboundEvent
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


def _unreachable(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("postgresql"):
        return "postgresql+psycopg://postgres@127.0.0.1:1/clinic?connect_timeout=2"
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'clinic.db'}"


def _stored(runtime: Runtime) -> int:
    with runtime.db.Session() as session:
        return session.scalar(select(func.count()).select_from(InboundEvent)) or 0


def test_database_down_503_then_redelivered_once(
    product: Product, api_server: FakeApiServer, runtime: Runtime, tmp_path: Path
) -> None:
    events = many_signed(runtime.config.line_channel_secret, 5, users=5, tag=uuid.uuid4().hex)
    # /webhook/messenger's GET needs no database, so it tells when gunicorn serves.
    product.start_web(DATABASE_URL=_unreachable(runtime.config.database_url, tmp_path), ready_path="/webhook/messenger")

    assert [post(product.url, event) for event in events] == [503] * len(events)
    assert runtime.queue.count == 0  # no job for an event that was not stored
    assert _stored(runtime) == 0
    assert not list(runtime.redis.scan_iter(match=f"{runtime.config.key_prefix}*"))

    # The database is back; LINE redelivers the same events (same webhookEventId), twice even.
    product.start_web()
    product.start_worker()
    assert [post(product.url, event) for event in events + events] == [200] * (2 * len(events))
    wait_until(lambda: all_processed(runtime.db, events), timeout=30, what="redelivered events processed")
    wait_until(lambda: outbox_settled(runtime.db), timeout=30, what="replies sent")
    assert _stored(runtime) == len(events)
    assert_each_event_once(runtime.db, events)
    assert assert_each_reply_once(runtime.db, api_server) == len(events)
