"""The web chat: its JSON endpoints (strict input) and the /chat page in a real Chromium."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.tasks import deliver_outbox
from clinic import tickets
from clinic.models import InboundEvent, OutboxMessage, Ticket
from clinic.runtime import Runtime


def test_the_api_runs_the_conversation_and_keeps_the_history(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/chat").status_code == 200
    assert client.get_cookie("clinic_chat") is not None
    assert client.post("/chat/api/start", json={}).json == {"ok": True}
    history = client.get("/chat/api/messages?after=0.0").json
    assert "ยินดีต้อนรับ" in history["messages"][0]["text"]
    assert history["messages"][-1]["quick_replies"][1] == {"label": "สำนักงานเขต", "text": "สำนักงานเขต"}

    for text in ("2", "พระนคร", "ข้าม", "ข้าม", "1", "ขอแบบฟอร์มหนังสือภายนอก"):
        assert client.post("/chat/api/messages", json={"text": text}).status_code == 200
    latest = client.get(f"/chat/api/messages?after={history['cursor']}").json
    senders = [message["from"] for message in latest["messages"]]
    assert senders[0] == "user" and latest["messages"][0]["text"] == "2"
    assert "รับเรื่องแล้ว เลขที่ CL-2569-00001" in latest["messages"][-1]["text"]
    assert client.get(f"/chat/api/messages?after={latest['cursor']}").json["messages"] == []

    # A staff reply reaches the page through the outbox; the worker only marks it sent.
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.channel == "web"
        tickets.reply(session, ticket, body="แนบแบบฟอร์มให้แล้วค่ะ", now=runtime.clock.now(), actor="test")
        reply_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "reply")).one()
    assert deliver_outbox(reply_id) == "sent"
    staff = client.get(f"/chat/api/messages?after={latest['cursor']}").json["messages"]
    assert [(m["from"], m["text"]) for m in staff] == [("staff", "แนบแบบฟอร์มให้แล้วค่ะ")]


def test_a_resent_message_with_the_same_client_id_counts_once(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    client.get("/chat")
    client.post("/chat/api/start", json={})
    message = {"text": "2", "client_id": "0123456789abcdef0123456789abcdef"}
    assert client.post("/chat/api/messages", json=message).status_code == 200
    assert client.post("/chat/api/messages", json=message).status_code == 200
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 2  # start + one message


def test_bad_input_gets_a_clear_error_and_changes_nothing(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    client.get("/chat")
    cases = [
        (client.post("/chat/api/messages", data="text=hi"), 415),
        (client.post("/chat/api/messages", data="{oops", content_type="application/json"), 400),
        (client.post("/chat/api/messages", json=["hi"]), 400),
        (client.post("/chat/api/messages", json={"text": "hi", "admin": True}), 400),
        (client.post("/chat/api/messages", json={"text": "   "}), 400),
        (client.post("/chat/api/messages", json={"text": 5}), 400),
        (client.post("/chat/api/messages", json={"text": "ก" * 2001}), 400),
        (client.post("/chat/api/messages", json={"text": "hi", "client_id": "../../x"}), 400),
        (client.get("/chat/api/messages?after=1;DROP"), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, response.json
        assert " / " in response.json["error"]  # Thai first, English second
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0


def test_a_forged_cookie_is_not_trusted(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    client.set_cookie("clinic_chat", "0123456789abcdef0123456789abcdef")
    assert client.get("/chat/api/messages").json == {"messages": [], "cursor": "0.0", "has_ticket": False}


def test_the_chat_page_takes_a_question_in_a_real_browser(  # type: ignore[no-untyped-def]
    live_server: str, page, screenshots: Path, runtime: Runtime
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server}/chat")
    log = page.locator("#log")
    log.get_by_text("ยินดีต้อนรับสู่คลินิก", exact=False).wait_for()
    page.screenshot(path=str(screenshots / "chat-welcome.png"))

    page.get_by_role("button", name="สำนักงานเขต").click()
    page.get_by_role("button", name="ถัดไป ▶").click()
    page.get_by_role("button", name="เขตห้วยขวาง").click()
    log.get_by_text("บันทึกหน่วยงาน: สำนักงานเขตห้วยขวาง").wait_for()
    page.locator("#text").fill("สมหญิง รักงาน")
    page.locator("#text").press("Enter")
    log.get_by_text("ตำแหน่งของคุณ", exact=False).wait_for()
    page.get_by_role("button", name="ข้าม / Skip").click()
    page.get_by_role("button", name="สารบรรณ").click()
    log.get_by_text("หัวข้อ: ด้านสารบรรณ", exact=False).wait_for()
    page.locator("#text").fill("หนังสือภายนอกที่ได้รับทางอีเมล ต้องลงทะเบียนรับอย่างไร")
    page.get_by_role("button", name="ส่ง / Send").click()
    log.get_by_text("รับเรื่องแล้ว เลขที่ CL-2569-00001", exact=False).wait_for()
    assert "26 พ.ย. 2569 10:00 น." in log.inner_text()
    page.screenshot(path=str(screenshots / "chat-ticket-opened.png"))

    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.requester.person_name == "สมหญิง รักงาน"
        assert ticket.subject == "หนังสือภายนอกที่ได้รับทางอีเมล ต้องลงทะเบียนรับอย่างไร"

    page.reload()  # the conversation is kept (cookie) and shown again
    page.locator("#log").get_by_text("รับเรื่องแล้ว เลขที่ CL-2569-00001", exact=False).wait_for()
