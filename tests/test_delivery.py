"""bot.tasks.deliver_outbox against the fake LINE and Graph APIs: channel rules, retries, recorded outcomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.tasks import deliver_outbox
from clinic import outbox, recovery, tickets
from clinic.clock import FrozenClock
from clinic.models import Message, OutboxMessage
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer

INVALID_TO = "The property, 'to', in the request body is invalid"


def staff_reply(runtime: Runtime, *, channel: str = "line", body: str = "ตอบ: ลงทะเบียนรับภายในวันที่ได้รับ") -> int:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, channel=channel, user_id=f"{channel}-user-1")
        tickets.reply(session, ticket, body=body, now=now, actor="test")
        return session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "reply")).one()


def row(runtime: Runtime, outbox_id: int) -> tuple[OutboxMessage, Message | None]:
    with runtime.db.transaction() as session:
        item = session.get(OutboxMessage, outbox_id)
        assert item is not None
        message = session.get(Message, item.message_id) if item.message_id else None
        return item, message


def test_line_staff_reply_is_pushed_with_the_rows_retry_key(runtime: Runtime, api_server: FakeApiServer) -> None:
    outbox_id = staff_reply(runtime)
    assert deliver_outbox(outbox_id) == "sent"
    assert deliver_outbox(outbox_id) is None  # already sent: a second job does nothing
    (push,) = api_server.matching("POST", r"^/v2/bot/message/push$")
    item, message = row(runtime, outbox_id)
    assert push.headers["x-line-retry-key"] == item.retry_key
    assert push.headers["authorization"] == "Bearer line-test-token"
    assert push.json == {
        "to": "line-user-1",
        "messages": [{"type": "text", "text": "ตอบ: ลงทะเบียนรับภายในวันที่ได้รับ"}],
        "notificationDisabled": False,
    }
    assert (item.status, item.attempts, item.sent_at) == ("sent", 1, runtime.clock.now())
    assert message is not None and (message.delivery_status, message.delivery_error) == ("sent", None)


def test_a_fresh_reply_token_is_used_and_a_stale_one_falls_back_to_push(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=clock.now(), user_id="Ufresh")
        fresh = outbox.to_requester(
            session, person, [outbox.text("สวัสดี")], kind="auto", now=clock.now(), reply_token="tok-1"
        ).id
        stale = outbox.to_requester(
            session, person, [outbox.text("สวัสดีอีกครั้ง")], kind="auto", now=clock.now(), reply_token="tok-2"
        ).id
    assert deliver_outbox(fresh) == "sent"
    clock.advance(seconds=55)  # past the ~1 minute a reply token lives, with our margin
    assert deliver_outbox(stale) == "sent"
    (reply,) = api_server.matching("POST", r"^/v2/bot/message/reply$")
    assert reply.json["replyToken"] == "tok-1"
    (push,) = api_server.matching("POST", r"^/v2/bot/message/push$")
    assert push.json["to"] == "Ufresh" and push.json["messages"][0]["text"] == "สวัสดีอีกครั้ง"


def test_a_refused_reply_token_falls_back_to_push(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    api_server.fail("POST", r"^/v2/bot/message/reply$", 400, {"message": "Invalid reply token"})
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=clock.now(), user_id="Uused")
        item_id = outbox.to_requester(
            session, person, [outbox.text("ตอบ")], kind="auto", now=clock.now(), reply_token="used"
        ).id
    assert deliver_outbox(item_id) == "sent"
    assert len(api_server.matching("POST", r"^/v2/bot/message/push$", status=200)) == 1


def test_429_and_5xx_are_retried_with_backoff_and_the_same_retry_key(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    outbox_id = staff_reply(runtime)
    api_server.fail("POST", r"^/v2/bot/message/push$", 429, {"message": "Too many requests"})
    assert deliver_outbox(outbox_id) == "pending"
    item, message = row(runtime, outbox_id)
    assert item.next_attempt_at == clock.now() + timedelta(seconds=5)
    assert "Too many requests" in (item.last_error or "")
    assert message is not None and message.delivery_status == "pending"
    assert "retrying" in (message.delivery_error or "")
    assert runtime.queue.scheduled_job_registry.count == 1  # RQ's scheduler will run it again

    assert deliver_outbox(outbox_id) is None  # not due yet
    clock.advance(seconds=5)
    api_server.fail("POST", r"^/v2/bot/message/push$", 500, {"message": "Internal error"})
    assert deliver_outbox(outbox_id) == "pending"
    assert row(runtime, outbox_id)[0].next_attempt_at == clock.now() + timedelta(seconds=10)

    clock.advance(seconds=10)
    assert recovery.sweep(runtime).outbox == 0  # due now: its scheduled job gets the first chance
    clock.advance(seconds=30)
    # The recovery sweep finds the due row when the scheduled job was lost.
    assert recovery.sweep(runtime).outbox == 1
    assert deliver_outbox(outbox_id) == "sent"
    keys = {r.headers["x-line-retry-key"] for r in api_server.matching("POST", r"^/v2/bot/message/push$")}
    assert keys == {row(runtime, outbox_id)[0].retry_key}
    item, message = row(runtime, outbox_id)
    assert (item.status, item.attempts, item.last_error) == ("sent", 3, None)
    assert message is not None and message.delivery_status == "sent"


def test_a_push_lost_after_line_accepted_it_is_not_delivered_twice(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    outbox_id = staff_reply(runtime)
    item, _ = row(runtime, outbox_id)
    # LINE accepted this retry key before (the worker died before recording it).
    api_server._accepted_retry_keys[item.retry_key] = "req-1"
    assert deliver_outbox(outbox_id) == "sent"
    (push,) = api_server.matching("POST", r"^/v2/bot/message/push$")
    assert push.status == 409


def test_a_permanent_error_is_recorded_for_staff(runtime: Runtime, api_server: FakeApiServer) -> None:
    outbox_id = staff_reply(runtime)
    api_server.fail("POST", r"^/v2/bot/message/push$", 400, {"message": INVALID_TO})
    assert deliver_outbox(outbox_id) == "failed"
    item, message = row(runtime, outbox_id)
    assert item.status == "failed" and "HTTP 400" in (item.last_error or "")
    assert message is not None and message.delivery_status == "failed"
    assert "'to', in the request body is invalid" in (message.delivery_error or "")


def test_messenger_windows_response_human_agent_and_undeliverable(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    within = staff_reply(runtime, channel="messenger")
    assert deliver_outbox(within) == "sent"
    sent = api_server.matching("POST", r"^/v21\.0/me/messages$")[-1]
    assert sent.query["access_token"] == ["messenger-test-token"]
    assert sent.json == {
        "recipient": {"id": "messenger-user-1"},
        "messaging_type": "RESPONSE",
        "message": {"text": "ตอบ: ลงทะเบียนรับภายในวันที่ได้รับ"},
    }
    assert row(runtime, within)[1].channel_message_id.startswith("m_")  # type: ignore[union-attr]

    clock.advance(hours=30)  # past 24 h since the user's last message
    now = clock.now()
    with runtime.db.transaction() as session:
        ticket = session.get(Message, row(runtime, within)[0].message_id).ticket  # type: ignore[union-attr]
        later = tickets.reply(session, ticket, body="ตอบเพิ่มเติม", now=now, actor="test")
        automatic = outbox.to_requester(session, ticket.requester, [outbox.text("แจ้งเตือน")], kind="auto", now=now)
        later_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.message_id == later.id)).one()
        automatic_id = automatic.id
    assert deliver_outbox(later_id) == "sent"
    tagged = api_server.matching("POST", r"^/v21\.0/me/messages$")[-1].json
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert deliver_outbox(automatic_id) == "not_sent"
    assert "24" in (row(runtime, automatic_id)[0].last_error or "")

    clock.advance(days=7)
    with runtime.db.transaction() as session:
        ticket = session.get(Message, row(runtime, within)[0].message_id).ticket  # type: ignore[union-attr]
        late = tickets.reply(session, ticket, body="ตอบช้ามาก", now=clock.now(), actor="test")
        late_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.message_id == late.id)).one()
    assert deliver_outbox(late_id) == "undeliverable"
    item, message = row(runtime, late_id)
    assert message is not None and message.delivery_status == "undeliverable"
    assert "7 วัน" in (message.delivery_error or "")
    assert len(api_server.matching("POST", r"^/v21\.0/me/messages$")) == 2


def test_messenger_quick_replies_and_graph_errors(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=clock.now(), channel="messenger", user_id="PSID1")
        buttons = [{"label": "สารบรรณ", "text": "1"}, {"label": "พิธีการ", "text": "3"}]
        ok = outbox.to_requester(
            session, person, [outbox.text("ก"), outbox.text("ข", buttons)], kind="auto", now=clock.now()
        ).id
        bad = outbox.to_requester(session, person, [outbox.text("ค")], kind="auto", now=clock.now()).id
    assert deliver_outbox(ok) == "sent"
    message = api_server.matching("POST", r"/me/messages$")[-1].json["message"]
    assert message == {
        "text": "ก\n\nข",
        "quick_replies": [
            {"content_type": "text", "title": "สารบรรณ", "payload": "1"},
            {"content_type": "text", "title": "พิธีการ", "payload": "3"},
        ],
    }
    error = {"error": {"message": "(#100) No matching user found", "type": "OAuthException", "code": 100}}
    api_server.fail("POST", r"/me/messages$", 400, error)
    assert deliver_outbox(bad) == "failed"
    assert "No matching user found (code 100)" in (row(runtime, bad)[0].last_error or "")


def test_web_chat_rows_are_marked_sent_and_sla_warnings_go_to_a_group(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=clock.now(), channel="web", user_id="a" * 32)
        web = outbox.to_requester(session, person, [outbox.text("สวัสดี")], kind="auto", now=clock.now()).id
        warning = outbox.queue(
            session, channel="line", recipient="Cstaffgroup01", messages=[outbox.text("⚠️ ใกล้ครบกำหนด")],
            kind="sla_warning", now=clock.now(),
        ).id  # fmt: skip
    assert deliver_outbox(web) == "sent"
    assert deliver_outbox(warning) == "sent"
    (push,) = api_server.requests
    assert push.path == "/v2/bot/message/push" and push.json["to"] == "Cstaffgroup01"
