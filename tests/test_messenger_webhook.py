"""GET/POST /webhook/messenger with Meta's handshake and signed page webhooks; the Send API requests."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from clinic.models import InboundEvent, Requester, Ticket
from clinic.runtime import Runtime
from tests.bot_support import messenger_body, messenger_message, post_messenger, run_jobs
from tests.fakeapi import FakeApiServer

PSID = "6543210987654321"


def test_verification_handshake(client) -> None:  # type: ignore[no-untyped-def]
    query = {"hub.mode": "subscribe", "hub.verify_token": "messenger-verify", "hub.challenge": "1158201444"}
    response = client.get("/webhook/messenger", query_string=query)
    assert (response.status_code, response.text) == (200, "1158201444")
    bad = client.get("/webhook/messenger", query_string={**query, "hub.verify_token": "guess"})
    assert bad.status_code == 403
    assert client.get("/webhook/messenger", query_string={**query, "hub.mode": "unsubscribe"}).status_code == 403


def test_a_conversation_on_messenger_opens_a_ticket_with_an_attachment(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    get_started = {
        "sender": {"id": PSID}, "recipient": {"id": "PAGE1"}, "timestamp": 1764039600000,
        "postback": {"title": "เริ่มต้นใช้งาน", "payload": "GET_STARTED", "mid": "m_postback_1"},
    }  # fmt: skip
    assert post_messenger(client, messenger_body(get_started)).status_code == 200
    run_jobs(runtime)
    first = api_server.matching("POST", r"^/v21\.0/me/messages$")[-1].json
    assert first["recipient"] == {"id": PSID} and first["messaging_type"] == "RESPONSE"
    assert "ยินดีต้อนรับ" in first["message"]["text"]
    assert first["message"]["quick_replies"][1] == {
        "content_type": "text",
        "title": "สำนักงานเขต",
        "payload": "สำนักงานเขต",
    }

    steps = [
        messenger_message(PSID, text="สำนักงานเขต", quick_reply={"payload": "สำนักงานเขต"}),
        messenger_message(PSID, text="ดุสิต"),
        messenger_message(PSID, text="ข้าม"),
        messenger_message(PSID, text="ข้าม"),
        messenger_message(PSID, text="พิธีการ", quick_reply={"payload": "พิธีการ"}),
    ]
    for item in steps:
        assert post_messenger(client, messenger_body(item)).status_code == 200
        run_jobs(runtime)

    api_server.content["fbimage1"] = (b"\xff\xd8\xff-photo", "image/jpeg")
    photo_url = f"{api_server.url}/v2/bot/message/fbimage1/content"
    photo = messenger_message(PSID, attachments=[{"type": "image", "payload": {"url": photo_url}}])
    assert post_messenger(client, messenger_body(photo)).status_code == 200
    run_jobs(runtime)

    last = api_server.matching("POST", r"^/v21\.0/me/messages$")[-1].json
    assert "รับเรื่องแล้ว เลขที่ CL-2569-00001" in last["message"]["text"]
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.channel, ticket.topic_code) == ("messenger", "ceremony")
        assert ticket.agency is not None and ticket.agency.name_th == "สำนักงานเขตดุสิต"
        attachment = ticket.messages[0].attachments[0]
        assert (attachment.content, attachment.content_type) == (b"\xff\xd8\xff-photo", "image/jpeg")
        assert attachment.filename.endswith(".jpg")
        assert ticket.requester.last_inbound_at == runtime.clock.now()


def test_redelivery_echoes_and_read_receipts(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    hello = messenger_message(PSID, mid="m_same", text="สวัสดี")
    assert post_messenger(client, messenger_body(hello)).status_code == 200
    assert post_messenger(client, messenger_body(hello)).status_code == 200
    echo = messenger_message("PAGE1", text="ข้อความของเพจ", is_echo=True)
    read = {"sender": {"id": PSID}, "recipient": {"id": "PAGE1"}, "timestamp": 1, "read": {"watermark": 1}}
    assert post_messenger(client, messenger_body(echo, read)).status_code == 200
    run_jobs(runtime)
    with runtime.db.transaction() as session:
        events = {e.event_key: e.status for e in session.scalars(select(InboundEvent))}
        assert events["m_same"] == "processed"
        assert sorted(events.values()) == ["ignored", "ignored", "processed"]
        assert session.scalar(select(func.count()).select_from(Requester)) == 1
    assert len(api_server.matching("POST", r"/me/messages$")) == 1


def test_bad_signature_or_body_stores_nothing(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    body = messenger_body(messenger_message(PSID, text="สวัสดี"))
    assert post_messenger(client, body, signature="").status_code == 400
    assert post_messenger(client, body, signature="sha256=" + "0" * 64).status_code == 400
    assert post_messenger(client, b"{broken").status_code == 400
    not_page = json.dumps({"object": "instagram", "entry": []}).encode()
    assert post_messenger(client, not_page).status_code == 400
    assert (
        post_messenger(client, json.dumps({"object": "page", "entry": [{"messaging": "x"}]}).encode()).status_code
        == 400
    )
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0
