"""What the fault suite checks at the end of every test: nothing lost, nothing doubled.

- every webhook event a user sent is stored exactly once and was processed;
- every outbox message was sent, and the LINE API accepted it exactly once (by its
  reply token, or by its X-Line-Retry-Key for a push; a 409 for a repeated key is not
  a second delivery), and the API accepted nothing that is not in the outbox.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

import requests
from sqlalchemy import func, select

from bench.line_events import SignedEvent
from clinic.db import Database
from clinic.models import InboundEvent, OutboxMessage
from tests.fakeapi import FakeApiServer

LINE_SENDS = ("/v2/bot/message/reply", "/v2/bot/message/push")
DONE = ("processed", "ignored")


def post(base_url: str, event: SignedEvent, *, session: requests.Session | None = None) -> int:
    sender = session or requests
    answer = sender.post(
        f"{base_url}/webhook/line",
        data=event.body,
        headers={"Content-Type": "application/json", "X-Line-Signature": event.signature},
        timeout=15,
    )
    return answer.status_code


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    if not predicate():
        raise AssertionError(f"not within {timeout:.0f} s: {what}")


def event_statuses(database: Database, keys: Iterable[str]) -> dict[str, list[str]]:
    wanted = set(keys)
    with database.Session() as session:
        rows = session.execute(
            select(InboundEvent.event_key, InboundEvent.status).where(InboundEvent.channel == "line")
        ).all()
    found: dict[str, list[str]] = {}
    for key, status in rows:
        if key in wanted:
            found.setdefault(key, []).append(status)
    return found


def all_processed(database: Database, events: list[SignedEvent]) -> bool:
    found = event_statuses(database, (e.event_id for e in events))
    return len(found) == len(events) and all(statuses[0] in DONE for statuses in found.values())


def outbox_settled(database: Database) -> bool:
    with database.Session() as session:
        unsettled = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")))
        )
    return unsettled == 0


def assert_each_event_once(database: Database, events: list[SignedEvent]) -> None:
    found = event_statuses(database, (e.event_id for e in events))
    missing = [e.event_id for e in events if e.event_id not in found]
    assert not missing, f"{len(missing)} of {len(events)} events were lost, e.g. {missing[:3]}"
    doubled = [key for key, statuses in found.items() if len(statuses) != 1]
    assert not doubled, f"events stored more than once: {doubled[:3]}"
    unfinished = Counter(statuses[0] for statuses in found.values() if statuses[0] not in DONE)
    assert not unfinished, f"events not processed: {dict(unfinished)}"


def assert_each_reply_once(database: Database, api_server: FakeApiServer) -> int:
    """Every outbox row sent and accepted by the API exactly once; returns how many rows."""
    with database.Session() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.reply_token, OutboxMessage.retry_key).where(
                OutboxMessage.channel == "line"
            )
        ).all()
    accepted = [r for r in list(api_server.requests) if r.method == "POST" and r.path in LINE_SENDS and r.status == 200]
    by_token = Counter((r.json or {}).get("replyToken") for r in accepted if r.path.endswith("/reply"))
    by_key = Counter(r.headers.get("x-line-retry-key") for r in accepted if r.path.endswith("/push"))
    not_sent = [(row.id, row.status) for row in rows if row.status != "sent"]
    assert not not_sent, f"outbox rows not sent: {not_sent[:5]}"
    wrong = []
    for row in rows:
        deliveries = (by_token[row.reply_token] if row.reply_token else 0) + by_key[row.retry_key]
        if deliveries != 1:
            wrong.append((row.id, deliveries))
    assert not wrong, f"outbox rows not delivered exactly once (id, deliveries): {wrong[:5]}"
    assert len(accepted) == len(rows), f"the API accepted {len(accepted)} messages for {len(rows)} outbox rows"
    return len(rows)
