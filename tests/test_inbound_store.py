"""The webhook's fast path: one INSERT ... ON CONFLICT DO NOTHING per body and one Redis round trip for its jobs."""

from __future__ import annotations

from sqlalchemy import select

from clinic import inbound
from clinic.models import InboundEvent
from clinic.runtime import Runtime
from tests.bot_support import line_body, line_event, line_text, post_line

USER = "U4af4980629"


def _stored(runtime: Runtime) -> list[tuple[int, str, str, str]]:
    with runtime.db.transaction() as session:
        rows = session.scalars(select(InboundEvent).order_by(InboundEvent.id))
        return [(row.id, row.event_key, row.event_type, row.status) for row in rows]


def _queued_event_ids(runtime: Runtime) -> list[int]:
    jobs = [runtime.queue.fetch_job(job_id) for job_id in runtime.queue.job_ids]
    assert all(job is not None and job.func_name == inbound.PROCESS_JOB for job in jobs)
    return [job.args[0] for job in jobs if job is not None]


def test_store_inserts_only_new_keys_and_returns_their_ids_in_order(runtime: Runtime) -> None:
    now = runtime.clock.now()
    first = [("k1", "message", {"n": 1}), ("k2", "follow", {"n": 2})]
    with runtime.db.engine.begin() as connection:
        ids = inbound.store(connection, channel="line", events=first, now=now)
    assert len(ids) == 2 and ids[0] < ids[1]

    # k2 again (a redelivery), k3 twice in one body, and the same key on another channel.
    again = [("k3", "message", {"n": 3}), ("k2", "follow", {"n": 2}), ("k3", "message", {"n": 3})]
    with runtime.db.engine.begin() as connection:
        more = inbound.store(connection, channel="line", events=again, now=now)
        other = inbound.store(connection, channel="messenger", events=[("k1", "message", {})], now=now)
        assert inbound.store(connection, channel="line", events=[], now=now) == []
    assert len(more) == 1 and len(other) == 1

    stored = _stored(runtime)
    assert [key for _, key, _, _ in stored] == ["k1", "k2", "k3", "k1"]
    assert {status for *_, status in stored} == {"pending"}
    with runtime.db.transaction() as session:
        row = session.get_one(InboundEvent, more[0])
        assert (row.channel, row.event_key, row.payload, row.attempts) == ("line", "k3", {"n": 3}, 0)
        assert row.received_at == now


def test_one_body_queues_one_job_per_new_event_and_a_redelivery_queues_none(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    follow, question = line_event("follow", USER), line_text("สอบถามเรื่องงบประมาณ", USER)
    assert post_line(client, line_body(follow, question, follow)).status_code == 200
    stored = _stored(runtime)
    assert [(key, kind) for _, key, kind, _ in stored] == [
        (follow["webhookEventId"], "follow"),
        (question["webhookEventId"], "message"),
    ]
    assert _queued_event_ids(runtime) == [row_id for row_id, *_ in stored]

    assert post_line(client, line_body(dict(follow, deliveryContext={"isRedelivery": True}))).status_code == 200
    assert len(_stored(runtime)) == 2
    assert runtime.queue.count == 2


def test_record_still_stores_once_and_queues_after_commit(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        event, new = inbound.record(session, channel="web", event_key="w1", event_type="text", payload={}, now=now)
        assert new and runtime.queue.count == 0  # not before the commit
        event_id = event.id
    assert _queued_event_ids(runtime) == [event_id]
    with runtime.db.transaction() as session:
        again, new = inbound.record(session, channel="web", event_key="w1", event_type="text", payload={}, now=now)
        assert (again.id, new) == (event_id, False)
    assert runtime.queue.count == 1
