"""The survey through the bot's conversation and the worker, as a requester meets it."""

from __future__ import annotations

import rq
from sqlalchemy import select

from clinic import tickets
from clinic.models import SurveyResponse, Ticket
from clinic.runtime import Runtime
from tests.fakeapi import FakeApiServer
from tests.test_conversation import intake, send, step, texts


def _ask_and_close(runtime: Runtime, user: str) -> None:
    intake(runtime, user)
    send(runtime, user, "1")  # topic: saraban
    send(runtime, user, "การลงทะเบียนรับหนังสือต้องทำอย่างไร")
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        tickets.close(session, ticket, now=runtime.clock.now(), final_answer="ลงทะเบียนตามระเบียบข้อ 12", actor="t")


def _survey(runtime: Runtime) -> SurveyResponse:
    with runtime.db.transaction() as session:
        return session.scalars(select(SurveyResponse)).one()


def test_the_closing_survey_reaches_line_as_quick_replies(runtime: Runtime, api_server: FakeApiServer) -> None:
    _ask_and_close(runtime, "Usurvey1")
    rq.SimpleWorker([runtime.queue], connection=runtime.redis).work(burst=True)
    pushed = [r.json["messages"] for r in api_server.matching("POST", r"/v2/bot/message/push$")]
    survey_push = next(messages for messages in pushed if "แบบสอบถามความพึงพอใจ ข้อ 1/4" in messages[-1]["text"])
    items = survey_push[-1]["quickReply"]["items"]
    assert [item["action"]["label"] for item in items] == ["5 มากที่สุด", "4 มาก", "3 ปานกลาง", "2 น้อย", "1 น้อยที่สุด"]
    assert [item["action"]["text"] for item in items] == ["5", "4", "3", "2", "1"]


def test_answering_the_survey_in_the_chat(runtime: Runtime) -> None:
    _ask_and_close(runtime, "Usurvey2")
    assert "ข้อ 2/4" in texts(send(runtime, "Usurvey2", "5"))
    assert "ข้อ 3/4" in texts(send(runtime, "Usurvey2", "๔"))
    reask = send(runtime, "Usurvey2", "ขอบคุณครับ")
    assert "กรุณาตอบเป็นตัวเลข 1-5" in texts(reask)
    assert reask[-1]["quick_replies"][-1] == {"label": "ถามใหม่ / New", "text": "ถามใหม่"}
    assert "ข้อ 4/4" in texts(send(runtime, "Usurvey2", "3 ปานกลาง"))
    assert "ข้าม" in texts(send(runtime, "Usurvey2", "5"))
    assert "ขอบคุณสำหรับการตอบแบบสอบถาม" in texts(send(runtime, "Usurvey2", "ตอบเร็วมาก"))
    response = _survey(runtime)
    assert (response.convenience, response.timeliness, response.usefulness, response.overall) == (5, 4, 3, 5)
    assert (response.status, response.suggestion) == ("completed", "ตอบเร็วมาก")
    # With the survey done, the next message is a new question again.
    send(runtime, "Usurvey2", "ขอถามเรื่องพิธีวางพวงมาลา")
    assert step(runtime, "Usurvey2") == "topic"


def test_a_new_question_typed_during_the_survey_ends_it_and_starts_the_question(runtime: Runtime) -> None:
    _ask_and_close(runtime, "Usurvey3")
    send(runtime, "Usurvey3", "5")
    replies = send(runtime, "Usurvey3", "ขอสอบถามการเสนอแฟ้มต่อรองปลัดกรุงเทพมหานครครับ")
    assert "เริ่มคำถามใหม่" in texts(replies)
    assert step(runtime, "Usurvey3") == "topic"
    response = _survey(runtime)
    assert (response.status, response.convenience) == ("cancelled", 5)
    # The topic chosen next opens the ticket with the question typed during the survey.
    send(runtime, "Usurvey3", "2")
    with runtime.db.transaction() as session:
        newest = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert newest.status == "open" and "เสนอแฟ้ม" in newest.subject
