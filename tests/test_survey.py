from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinic import survey, tasks, tickets
from clinic.models import OutboxMessage, Requester, SurveyItem, SurveyResponse, Ticket
from clinic.runtime import Runtime
from tests import factories


def _closed_ticket(runtime: Runtime, **requester_kwargs: object) -> tuple[int, int]:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, **requester_kwargs)
        tickets.close(session, ticket, now=now + timedelta(hours=2), final_answer="ตอบตามระเบียบข้อ 12")
        return ticket.id, ticket.requester_id


def _answer(runtime: Runtime, requester_id: int, text: str, after: timedelta = timedelta(hours=3)):
    with runtime.db.transaction() as session:
        requester = session.get(Requester, requester_id)
        return survey.handle(session, requester, text, runtime.clock.now() + after)


def _response(runtime: Runtime, ticket_id: int) -> SurveyResponse:
    with runtime.db.transaction() as session:
        return session.scalar(select(SurveyResponse).where(SurveyResponse.ticket_id == ticket_id))


def test_closing_queues_the_first_item_with_the_five_point_buttons(runtime: Runtime) -> None:
    ticket_id, _ = _closed_ticket(runtime)
    with runtime.db.transaction() as session:
        item = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        assert item is not None and item.ticket_id == ticket_id
        intro, first = item.payload
        assert "CL-2569-00001" in intro["text"] and "quick_replies" not in intro
        assert "ข้อ 1/4" in first["text"]
        assert "ความสะดวกในการขอรับคำปรึกษาการปฏิบัติงานทางออนไลน์" in first["text"]
        assert first["quick_replies"] == [
            {"label": "5 มากที่สุด", "text": "5"},
            {"label": "4 มาก", "text": "4"},
            {"label": "3 ปานกลาง", "text": "3"},
            {"label": "2 น้อย", "text": "2"},
            {"label": "1 น้อยที่สุด", "text": "1"},
        ]
        assert all(len(button["label"]) <= 20 for button in first["quick_replies"])
        assert "http" not in first["text"]  # answered in the chat, no link to a web form
    response = _response(runtime, ticket_id)
    assert (response.status, response.current_item) == ("pending", "convenience")
    assert response.expires_at == response.sent_at + timedelta(days=7)


def test_full_survey_through_buttons_typed_numbers_and_a_suggestion(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    second = _answer(runtime, requester_id, "5")
    assert "ข้อ 2/4" in second[0]["text"] and "ภายในระยะเวลาที่กำหนด" in second[0]["text"]
    third = _answer(runtime, requester_id, " ๔ ")  # a Thai digit typed by hand
    assert "ข้อ 3/4" in third[0]["text"]
    fourth = _answer(runtime, requester_id, "3 ปานกลาง")  # the button label typed out
    assert "ข้อ 4/4" in fourth[0]["text"]
    prompt = _answer(runtime, requester_id, "มาก")
    assert prompt[0]["quick_replies"] == [{"label": "ข้าม / Skip", "text": "ข้าม"}]
    thanks = _answer(runtime, requester_id, "คำแนะนำชัดเจน เข้าใจง่าย")
    assert "ขอบคุณ" in thanks[0]["text"]
    response = _response(runtime, ticket_id)
    assert (response.convenience, response.timeliness, response.usefulness, response.overall) == (5, 4, 3, 4)
    assert response.suggestion == "คำแนะนำชัดเจน เข้าใจง่าย"
    assert response.status == "completed" and response.completed_at is not None
    assert _answer(runtime, requester_id, "5") is None  # no active survey any more


def test_anything_else_gets_a_gentle_reask_and_changes_nothing(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    for text in ("6", "0", "ขอบคุณครับ", "5 น้อย", ""):
        reply = _answer(runtime, requester_id, text)
        assert "กรุณาตอบเป็นตัวเลข 1-5" in reply[0]["text"]
        assert "ข้อ 1/4" in reply[1]["text"] and len(reply[1]["quick_replies"]) == 6
        assert reply[1]["quick_replies"][-1] == {"label": "ถามใหม่ / New", "text": "ถามใหม่"}
    response = _response(runtime, ticket_id)
    assert response.convenience is None and response.current_item == "convenience"


def test_a_question_typed_during_the_survey_ends_it(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    _answer(runtime, requester_id, "4")
    assert _answer(runtime, requester_id, "การเสนอหนังสือต่อรองปลัดต้องทำอย่างไร") is None
    response = _response(runtime, ticket_id)
    assert (response.status, response.convenience, response.current_item) == ("cancelled", 4, None)


def test_looks_like_question() -> None:
    assert survey.looks_like_question("ขอสอบถามเรื่องพิธี")
    assert survey.looks_like_question("ใช้แบบฟอร์มไหน?")
    assert survey.looks_like_question("ก" * 40)
    assert not survey.looks_like_question("ขอบคุณครับ")
    assert not survey.looks_like_question("ok")


def test_skip_completes_without_a_suggestion(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    for score in ("5", "5", "5", "5"):
        _answer(runtime, requester_id, score)
    _answer(runtime, requester_id, "ข้าม")
    response = _response(runtime, ticket_id)
    assert response.status == "completed" and response.suggestion == ""


def test_admin_wording_is_used_and_keys_stay(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        session.get(SurveyItem, "convenience").text_th = "ถามออนไลน์สะดวกไหม"
    ticket_id, _ = _closed_ticket(runtime)
    with runtime.db.transaction() as session:
        item = session.scalar(
            select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == "survey")
        )
        assert "ถามออนไลน์สะดวกไหม" in item.payload[1]["text"]


def test_messenger_outside_the_window_is_recorded_as_not_sent(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        requester = factories.requester(session, now=now, channel="messenger")
        requester.last_inbound_at = now - timedelta(hours=30)
        ticket = factories.ticket(session, now=now, who=requester)
        tickets.close(session, ticket, now=now + timedelta(hours=1))
        ticket_id, requester_id = ticket.id, requester.id
    assert _response(runtime, ticket_id).status == "not_sent"
    with runtime.db.transaction() as session:
        assert (
            session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "survey")) == 0
        )
    assert _answer(runtime, requester_id, "5") is None


def test_one_response_per_ticket_even_when_reopened_and_closed_again(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    _answer(runtime, requester_id, "5")
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        tickets.reopen(session, ticket, now=now + timedelta(hours=4))
        # While reopened the requester's messages go to the ticket, not to the survey.
        assert survey.handle(session, ticket.requester, "ขอถามเพิ่ม", now + timedelta(hours=4)) is None
        tickets.close(session, ticket, now=now + timedelta(hours=5))
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
        sent = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "survey"))
        assert sent == 1  # an answered survey is not sent twice
    assert _response(runtime, ticket_id).convenience == 5


def test_a_survey_cut_short_before_any_answer_is_sent_again_on_the_next_close(runtime: Runtime) -> None:
    ticket_id, _ = _closed_ticket(runtime)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        tickets.reopen(session, ticket, now=now + timedelta(hours=4))
        tickets.close(session, ticket, now=now + timedelta(hours=5))
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
        assert (
            session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "survey")) == 2
        )
    assert _response(runtime, ticket_id).status == "pending"


def test_cancel_active_ends_the_survey(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    with runtime.db.transaction() as session:
        requester = session.get(Requester, requester_id)
        assert survey.cancel_active(session, requester, runtime.clock.now()) is True
        assert survey.cancel_active(session, requester, runtime.clock.now()) is False
    assert _response(runtime, ticket_id).status == "cancelled"
    assert _answer(runtime, requester_id, "5") is None


def test_a_second_closed_ticket_replaces_an_unanswered_survey(runtime: Runtime) -> None:
    first_id, requester_id = _closed_ticket(runtime)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        requester = session.get(Requester, requester_id)
        second = factories.ticket(session, now=now + timedelta(hours=3), who=requester)
        tickets.close(session, second, now=now + timedelta(hours=4))
        second_id = second.id
    assert _response(runtime, first_id).status == "cancelled"
    assert _response(runtime, second_id).status == "pending"
    _answer(runtime, requester_id, "2", after=timedelta(hours=5))
    assert _response(runtime, second_id).convenience == 2


def test_sweep_reminds_once_after_24_hours_and_expires_after_7_days(runtime: Runtime) -> None:
    ticket_id, requester_id = _closed_ticket(runtime)
    closed_at = runtime.clock.now() + timedelta(hours=2)

    def survey_messages() -> int:
        with runtime.db.transaction() as session:
            return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "survey"))

    runtime.clock.set(closed_at + timedelta(hours=23, minutes=59))
    assert survey.sweep(runtime) == {"reminded": 0, "expired": 0}
    runtime.clock.set(closed_at + timedelta(hours=24))
    assert survey.sweep(runtime) == {"reminded": 1, "expired": 0}
    with runtime.db.transaction() as session:
        reminder = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert "CL-2569-00001" in reminder.payload[0]["text"] and "ข้อ 1/4" in reminder.payload[1]["text"]
    runtime.clock.set(closed_at + timedelta(days=3))
    tasks.tick()  # the survey sweep is one of the worker's sweeps
    assert survey_messages() == 2
    runtime.clock.set(closed_at + timedelta(days=7))
    assert _answer(runtime, requester_id, "5", after=timedelta(0)) is None  # expired even before the sweep ran
    assert survey.sweep(runtime) == {"reminded": 0, "expired": 1}
    assert _response(runtime, ticket_id).status == "expired"
    assert survey.sweep(runtime) == {"reminded": 0, "expired": 0}


def test_reminder_is_skipped_where_messenger_forbids_it(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        requester = factories.requester(session, now=now, channel="messenger")
        ticket = factories.ticket(session, now=now, who=requester)
        tickets.close(session, ticket, now=now + timedelta(hours=1))
        ticket_id = ticket.id
    runtime.clock.set(now + timedelta(hours=26))  # 26 h after the requester's last message
    assert survey.sweep(runtime) == {"reminded": 0, "expired": 0}
    response = _response(runtime, ticket_id)
    assert response.reminded_at is not None and response.status == "pending"


@pytest.mark.parametrize(
    ("text", "score"),
    [("5", 5), ("๑", 1), ("2 น้อย", 2), ("น้อยที่สุด", 1), ("มากที่สุด", 5), ("4.", 4), ("45", None), ("3 มาก", None)],
)
def test_parse_score(text: str, score: int | None) -> None:
    assert survey.parse_score(text) == score
