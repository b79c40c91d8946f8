"""POST /webhook/line with real signed payloads; the worker's jobs; the requests that reached the fake LINE API."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from clinic import recovery
from clinic.clock import FrozenClock
from clinic.config import MAX_WEBHOOK_BYTES
from clinic.models import InboundEvent, LineGroup, OutboxMessage, Requester, Ticket
from clinic.runtime import Runtime
from tests.bot_support import line_body, line_event, line_signature, line_text, post_line, run_jobs
from tests.fakeapi import FakeApiServer
from wsgi import create_app

SAMPLE = Path(__file__).parent / "data" / "line-webhook-events.json"
USER = "U4af4980629"


def count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def statuses(runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as session:
        return {event.event_key: event.status for event in session.scalars(select(InboundEvent))}


def test_lines_own_sample_body_with_every_event_kind(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    raw = SAMPLE.read_bytes()
    # As published, every event carries the same webhookEventId: stored once, like a redelivery.
    assert post_line(client, raw).status_code == 200
    assert count(runtime, InboundEvent) == 1

    body = json.loads(raw)
    for number, event in enumerate(body["events"]):
        event["webhookEventId"] = f"sample{number:02d}"
    assert post_line(client, json.dumps(body).encode()).status_code == 200
    assert count(runtime, InboundEvent) == 1 + len(body["events"])
    run_jobs(runtime)

    seen = statuses(runtime)
    kinds = {f"sample{n:02d}": (e["type"], e["source"]["type"]) for n, e in enumerate(body["events"])}
    assert "failed" not in seen.values()
    assert "pending" not in seen.values() and "processing" not in seen.values()
    for key, (kind, source) in kinds.items():
        if source in ("group", "room") and kind not in ("join", "leave"):
            assert seen[key] == "ignored", (key, kind, source)  # group chatter never becomes a ticket
        if kind in ("beacon", "accountLink", "unsend", "videoPlayComplete", "undefined", "messageEdited"):
            assert seen[key] == "ignored", (key, kind)
        if kind in ("follow", "unfollow", "join", "leave"):
            assert seen[key] == "processed", (key, kind)
    with runtime.db.transaction() as session:
        group = session.scalars(select(LineGroup)).one()
        assert group.group_id == "Ca56f94637cc4347f90a25382909b24b9"
        assert group.left_at is not None  # the sample's leave comes after its join
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    # Every reply the bot sent went to LINE's reply endpoint with the channel token.
    replies = api_server.matching("POST", r"/v2/bot/message/reply$")
    assert replies and all(r.headers["authorization"] == "Bearer line-test-token" for r in replies)


def test_follow_intake_and_an_image_question_open_a_ticket(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    api_server.profiles[USER] = {"displayName": "สมศรี ใจดี", "language": "th"}
    follow = line_event("follow", USER)
    assert post_line(client, line_body(follow)).status_code == 200
    run_jobs(runtime)

    reply = api_server.matching("POST", r"/v2/bot/message/reply$")[-1].json
    assert reply["replyToken"] == follow["replyToken"]
    assert "ยินดีต้อนรับ" in reply["messages"][0]["text"]
    items = reply["messages"][-1]["quickReply"]["items"]
    assert [item["action"]["label"] for item in items][:2] == ["สำนัก/สำนักงาน", "สำนักงานเขต"]
    assert items[1]["action"] == {"type": "message", "label": "สำนักงานเขต", "text": "สำนักงานเขต"}

    steps = [
        line_event("postback", USER, postback={"data": "2"}),  # a postback is read like typed text
        line_text("เขตพระนคร", USER),
        line_text("ข้าม", USER),
        line_text("ข้าม", USER),
        line_text("1", USER),
    ]
    for event in steps:
        assert post_line(client, line_body(event)).status_code == 200
        run_jobs(runtime)

    api_server.content["5551234"] = (b"\x89PNG\r\n\x1a\nfake-image", "image/png")
    image = line_event(
        "message",
        USER,
        message={"id": "5551234", "type": "image", "contentProvider": {"type": "line"}},
    )
    assert post_line(client, line_body(image)).status_code == 200
    run_jobs(runtime)

    assert api_server.matching("GET", r"^/v2/bot/message/5551234/content$")
    last = api_server.matching("POST", r"/v2/bot/message/reply$")[-1].json
    assert last["replyToken"] == image["replyToken"]
    assert "รับเรื่องแล้ว เลขที่ CL-2569-00001" in last["messages"][0]["text"]
    assert "26 พ.ย. 2569 10:00 น." in last["messages"][0]["text"]
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.channel == "line" and ticket.topic_code == "saraban"
        assert ticket.agency is not None and ticket.agency.name_th == "สำนักงานเขตพระนคร"
        attachment = ticket.messages[0].attachments[0]
        assert (attachment.kind, attachment.content_type) == ("image", "image/png")
        assert attachment.content == b"\x89PNG\r\n\x1a\nfake-image"
        assert ticket.messages[0].channel_message_id == "5551234"
        requester = ticket.requester
        assert requester.display_name == "สมศรี ใจดี"
        assert requester.last_inbound_at == runtime.clock.now()
        outbox = session.scalars(select(OutboxMessage)).all()
        assert {row.status for row in outbox} == {"sent"}
    assert api_server.matching("GET", rf"^/v2/bot/profile/{USER}$")
    assert not api_server.matching("POST", r"/v2/bot/message/push$")  # every answer used its free reply token


def test_a_redelivered_event_is_processed_once(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    event = line_event("follow", USER)
    assert post_line(client, line_body(event)).status_code == 200
    again = dict(event, deliveryContext={"isRedelivery": True})
    assert post_line(client, line_body(again)).status_code == 200
    run_jobs(runtime)
    assert count(runtime, InboundEvent) == 1
    assert count(runtime, OutboxMessage) == 1
    assert len(api_server.matching("POST", r"/v2/bot/message/(reply|push)$")) == 1


def test_group_join_records_the_group_and_group_messages_are_ignored(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    group = {"type": "group", "groupId": "Cstaffgroup01"}
    join = line_event("join", source=group)
    chatter = line_text("ถามหน่อย เรื่องหนังสือเวียน", source={**group, "userId": USER})
    assert post_line(client, line_body(join, chatter)).status_code == 200
    run_jobs(runtime)
    assert set(statuses(runtime).values()) == {"processed", "ignored"}
    with runtime.db.transaction() as session:
        stored = session.scalars(select(LineGroup)).one()
        assert (stored.group_id, stored.left_at) == ("Cstaffgroup01", None)
        assert session.scalar(select(func.count()).select_from(Requester)) == 0
    assert not api_server.requests

    leave = line_event("leave", source=group)
    post_line(client, line_body(leave))
    run_jobs(runtime)
    with runtime.db.transaction() as session:
        assert session.scalars(select(LineGroup)).one().left_at == runtime.clock.now()


def test_unfollow_marks_the_requester(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    post_line(client, line_body(line_event("follow", USER)))
    post_line(client, line_body(line_event("unfollow", USER)))
    run_jobs(runtime)
    with runtime.db.transaction() as session:
        assert session.scalars(select(Requester)).one().following is False


def test_bad_signature_broken_json_and_oversized_bodies_store_nothing(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    body = line_body(line_event("follow", USER))
    assert post_line(client, body, signature="").status_code == 400
    assert post_line(client, body, signature="bm90LXRoZS1zaWduYXR1cmU=").status_code == 400
    tampered = body.replace(USER.encode(), b"Uattacker00")
    assert post_line(client, tampered, signature=line_signature(body)).status_code == 400
    assert post_line(client, b"{not json").status_code == 400
    assert post_line(client, b'{"events": "nope"}').status_code == 400
    assert post_line(client, b"[1, 2]").status_code == 400
    huge = line_body(line_text("ก" * MAX_WEBHOOK_BYTES, USER))
    assert post_line(client, huge).status_code == 413
    assert count(runtime, InboundEvent) == 0
    # LINE's "Verify" button posts an empty event list.
    assert post_line(client, line_body()).status_code == 200


def test_database_down_answers_503_so_line_redelivers(runtime: Runtime) -> None:
    broken = Runtime(replace(runtime.config, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = post_line(create_app(broken).test_client(), line_body(line_event("follow", USER)))
    assert response.status_code == 503


def test_redis_down_keeps_the_event_and_the_recovery_sweep_processes_it(  # type: ignore[no-untyped-def]
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    no_redis = Runtime(replace(runtime.config, redis_url="redis://127.0.0.1:1/0"), clock=clock, database=runtime.db)
    response = post_line(create_app(no_redis).test_client(), line_body(line_event("follow", USER)))
    assert response.status_code == 200
    assert statuses(runtime) and set(statuses(runtime).values()) == {"pending"}
    assert runtime.queue.count == 0
    # The two runtimes share one Database; its sessions must find the working runtime again.
    runtime.db.Session.configure(info={"runtime": runtime})

    assert recovery.sweep(runtime).events == 0  # too fresh: its own job may still be on the way
    clock.advance(seconds=31)
    assert recovery.sweep(runtime).events == 1
    assert recovery.sweep(runtime).events == 0  # queued once, not on every tick
    run_jobs(runtime)
    assert set(statuses(runtime).values()) == {"processed"}
    # The reply token (received 31 s ago) is still fresh, so the answer is a free reply.
    assert len(api_server.matching("POST", r"/v2/bot/message/reply$")) == 1
