"""bot.tasks.process_inbound: one claim per event, stale claims retaken, failures recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import processing
from bot.tasks import process_inbound
from clinic import inbound, recovery
from clinic.clock import FrozenClock
from clinic.models import InboundEvent, OutboxMessage, StaffAlert
from clinic.runtime import Runtime
from tests.bot_support import line_event, line_text


def store(runtime: Runtime, channel: str, payload: dict, key: str) -> int:
    with runtime.db.transaction() as session:
        event, _ = inbound.record(
            session, channel=channel, event_key=key, event_type=str(payload.get("type", "")), payload=payload,
            now=runtime.clock.now(),
        )  # fmt: skip
        return event.id


def event(runtime: Runtime, event_id: int) -> InboundEvent:
    with runtime.db.transaction() as session:
        found = session.get(InboundEvent, event_id)
        assert found is not None
        return found


def test_an_event_is_claimed_once(runtime: Runtime) -> None:
    event_id = store(runtime, "line", line_event("follow", "Uonce"), "e1")
    now = runtime.clock.now()
    assert processing.claim(runtime, event_id, now) is True
    assert processing.claim(runtime, event_id, now) is False  # a second worker gets nothing
    assert process_inbound(event_id) is None
    assert event(runtime, event_id).status == "processing"


def test_a_stale_claim_is_retaken_and_the_sweep_requeues_it(runtime: Runtime, clock: FrozenClock) -> None:
    event_id = store(runtime, "line", line_event("follow", "Ustale"), "e2")
    assert processing.claim(runtime, event_id, clock.now())  # a worker took it, then died
    clock.advance(minutes=4)
    assert recovery.sweep(runtime).events == 0
    assert process_inbound(event_id) is None
    clock.advance(minutes=2)
    assert recovery.sweep(runtime).events == 1
    assert process_inbound(event_id) == "processed"
    done = event(runtime, event_id)
    assert (done.status, done.attempts, done.processed_at) == ("processed", 2, clock.now())
    with runtime.db.transaction() as session:
        assert session.scalar(select(OutboxMessage.kind)) == "auto"


def test_a_failure_is_recorded_on_the_event_and_later_events_go_on(runtime: Runtime) -> None:
    broken = store(runtime, "line", line_text("สวัสดี", "Ubroken") | {"message": "not-an-object"}, "e3")
    assert process_inbound(broken) == "failed"
    failed = event(runtime, broken)
    assert failed.status == "failed" and "AttributeError" in (failed.error or "")
    with runtime.db.transaction() as session:  # staff see it in the desk, not only in a log
        alert = session.scalar(select(StaffAlert))
        assert alert is not None and alert.level == "error" and alert.staff_id is None
        assert alert.text.startswith("ข้อความจาก line ประมวลผลไม่สำเร็จ") and f"#{broken}" in alert.text
    fine = store(runtime, "line", line_text("สวัสดี", "Ufine"), "e4")
    assert process_inbound(fine) == "processed"


def test_unknown_event_types_are_stored_and_ignored(runtime: Runtime) -> None:
    event_id = store(runtime, "line", line_event("membership", "Umember"), "e5")
    assert process_inbound(event_id) == "ignored"
    assert "membership" in (event(runtime, event_id).error or "")
    assert runtime.clock.now() - event(runtime, event_id).received_at < timedelta(seconds=1)
