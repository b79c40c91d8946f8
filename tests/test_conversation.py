"""The conversation engine, driven directly (no HTTP): intake, questions, commands, side flows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot import conversation, requesters
from bot.conversation import Incoming
from clinic import staff_link, tickets
from clinic.clock import FrozenClock
from clinic.models import Agency, ChatSession, Requester, StaffUser, SurveyResponse, Ticket
from clinic.runtime import Runtime
from clinic.tickets import NewAttachment
from tests import factories


def send(runtime: Runtime, user: str, text: str = "", *, kind: str = "text", channel: str = "line",
         attachments: tuple[NewAttachment, ...] = ()) -> list[dict[str, Any]]:  # fmt: skip
    with runtime.db.transaction() as session:
        requester, _ = requesters.find_or_create(session, channel, user, now=runtime.clock.now())
        incoming = Incoming(kind, text=text, attachments=attachments)
        replies = conversation.respond(session, requester, incoming, runtime.clock.now())
    for reply in replies:
        buttons = reply.get("quick_replies", [])
        assert len(buttons) <= 13
        assert all(len(button["label"]) <= 20 for button in buttons)
        assert reply["text"].strip()
    return replies


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply["text"] for reply in replies)


def labels(replies: list[dict[str, Any]]) -> list[str]:
    return [button["label"] for button in replies[-1].get("quick_replies", [])]


def step(runtime: Runtime, user: str, channel: str = "line") -> str:
    with runtime.db.transaction() as session:
        requester = requesters.find(session, channel, user)
        assert requester is not None
        chat = session.get(ChatSession, requester.id)
        assert chat is not None
        return chat.step


def intake(runtime: Runtime, user: str) -> None:
    """Through the intake as a district office (Phra Nakhon), name and position skipped."""
    send(runtime, user, kind="follow")
    send(runtime, user, "2")
    send(runtime, user, "พระนคร")
    send(runtime, user, "ข้าม")
    send(runtime, user, "ข้าม")
    assert step(runtime, user) == "topic"


def test_first_contact_walks_through_intake_and_opens_a_ticket(runtime: Runtime) -> None:
    replies = send(runtime, "U1", kind="follow")
    assert "ยินดีต้อนรับ" in texts(replies)
    assert labels(replies) == ["สำนัก/สำนักงาน", "สำนักงานเขต", "ส่วนราชการใน สปก.", "สนง.เลขาฯ สภา/ผว.", "อื่น ๆ"]

    replies = send(runtime, "U1", "สำนักงานเขต")  # the button's text
    assert "(หน้า 1/5)" in texts(replies)
    assert labels(replies)[0] == "เขตพระนคร" and labels(replies)[-1] == "ถัดไป ▶"
    assert len(labels(replies)) == 11

    replies = send(runtime, "U1", "ถัดไป")
    assert "(หน้า 2/5)" in texts(replies)
    assert labels(replies)[-2:] == ["◀ ก่อนหน้า", "ถัดไป ▶"]

    replies = send(runtime, "U1", "เขต บางกะปี")  # typed, with the word เขต, and a typo: asked, not saved
    assert "หมายถึง สำนักงานเขตบางกะปิ ใช่ไหม" in texts(replies)
    assert labels(replies) == ["เขตบางกะปิ", "ไม่ใช่ ใช้ที่พิมพ์"]
    replies = send(runtime, "U1", "ใช่")
    assert "บันทึกหน่วยงาน: สำนักงานเขตบางกะปิ" in texts(replies)
    assert labels(replies) == ["ข้าม / Skip"]

    send(runtime, "U1", "สมชาย ใจดี")
    replies = send(runtime, "U1", "นักจัดการงานทั่วไป")
    assert "ชื่อ: สมชาย ใจดี" in texts(replies)
    assert labels(replies)[:4] == ["สารบรรณ", "ร่าง/เสนอหนังสือ", "พิธีการ", "อื่น ๆ"]

    replies = send(runtime, "U1", "๑")  # Thai digit for 1
    assert "หัวข้อ: ด้านสารบรรณ" in texts(replies)
    assert step(runtime, "U1") == "question"

    replies = send(runtime, "U1", "ขอสอบถามการลงทะเบียนรับหนังสือภายนอก\nต้องลงเลขรับวันไหน")
    body = texts(replies)
    assert "รับเรื่องแล้ว เลขที่ CL-2569-00001" in body
    assert "26 พ.ย. 2569 10:00 น." in body  # T0 is 25 Nov 2026 10:00 Bangkok; deadline 24 h later
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.number == "CL-2569-00001"
        assert ticket.topic_code == "saraban"
        assert ticket.agency_type_code == "district"
        assert ticket.agency is not None and ticket.agency.name_th == "สำนักงานเขตบางกะปิ"
        assert ticket.subject == "ขอสอบถามการลงทะเบียนรับหนังสือภายนอก"
        assert ticket.due_at == runtime.clock.now() + timedelta(hours=24)
        requester = ticket.requester
        assert (requester.person_name, requester.position) == ("สมชาย ใจดี", "นักจัดการงานทั่วไป")
        assert requester.last_inbound_at == runtime.clock.now()


def test_follow_ups_join_the_open_ticket_and_a_closed_one_is_not_reopened(runtime: Runtime, clock: FrozenClock) -> None:
    intake(runtime, "U2")
    send(runtime, "U2", "3")
    send(runtime, "U2", "งานพิธีวันปิยมหาราชต้องแต่งกายอย่างไร")
    clock.advance(minutes=5)
    replies = send(runtime, "U2", "เพิ่มเติม: ใช้ชุดขาวหรือไม่")
    assert "เพิ่มข้อความในเรื่อง CL-2569-00001" in texts(replies)
    attachment = NewAttachment(kind="image", filename="a.jpg", content_type="image/jpeg", content=b"\xff\xd8jpeg")
    send(runtime, "U2", kind="attachment", attachments=(attachment,))
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert [m.body for m in ticket.messages] == [
            "งานพิธีวันปิยมหาราชต้องแต่งกายอย่างไร",
            "เพิ่มเติม: ใช้ชุดขาวหรือไม่",
            "",
        ]
        assert ticket.messages[2].attachments[0].content == b"\xff\xd8jpeg"
        tickets.close(session, ticket, now=clock.now(), final_answer="แต่งชุดปกติขาว", actor="test")

    clock.advance(days=8)  # past the satisfaction survey's 7-day life
    replies = send(runtime, "U2", "ขอถามเรื่องใหม่ การเสนอหนังสือถึงรองปลัด")
    assert "เริ่มคำถามใหม่" in texts(replies)
    assert step(runtime, "U2") == "topic"
    replies = send(runtime, "U2", "ร่าง/เสนอหนังสือ")
    assert "CL-2569-00002" in texts(replies)
    with runtime.db.transaction() as session:
        old, new = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert old.status == "closed" and old.reopen_count == 0
        assert new.topic_code == "letters" and new.messages[0].body == "ขอถามเรื่องใหม่ การเสนอหนังสือถึงรองปลัด"


def test_commands_menu_status_cancel_and_change_agency(runtime: Runtime) -> None:
    intake(runtime, "U3")
    assert "สถานะ / Status" in labels(send(runtime, "U3", "menu"))
    assert "ยังไม่มีเรื่อง" in texts(send(runtime, "U3", "สถานะ"))
    send(runtime, "U3", "1")
    send(runtime, "U3", "ถามเรื่องหนังสือเวียน")
    status = texts(send(runtime, "U3", "status"))
    assert "CL-2569-00001 · สารบรรณ" in status and "รอเจ้าหน้าที่ตอบ" in status and "26 พ.ย. 2569" in status

    send(runtime, "U3", "new question")
    assert step(runtime, "U3") == "topic"
    assert "ยกเลิกแล้ว" in texts(send(runtime, "U3", "ยกเลิก"))
    assert step(runtime, "U3") == "idle"

    replies = send(runtime, "U3", "Change agency")
    assert "แก้ไขหน่วยงาน" in texts(replies)
    send(runtime, "U3", "5")  # other: free text
    send(runtime, "U3", "สำนักงานเขตพื้นที่พิเศษ")
    send(runtime, "U3", "ข้าม")
    replies = send(runtime, "U3", "ข้าม")
    assert "บันทึกข้อมูลแล้ว" in texts(replies)
    with runtime.db.transaction() as session:
        requester = requesters.find(session, "line", "U3")
        assert requester is not None
        assert (requester.agency_type_code, requester.agency_id) == ("other", None)
        assert requester.agency_other == "สำนักงานเขตพื้นที่พิเศษ"
        # The ticket keeps the agency it was opened with (a snapshot for the KPI tables).
        assert session.scalars(select(Ticket)).one().agency_type_code == "district"


def test_unknown_input_gets_a_helpful_prompt_never_silence(runtime: Runtime) -> None:
    send(runtime, "U4", kind="follow")
    replies = send(runtime, "U4", "อะไรนะ")
    assert "ไม่พบประเภทหน่วยงานนี้" in texts(replies)
    assert len(labels(replies)) == 5
    assert "สติกเกอร์" in texts(send(runtime, "U4", kind="sticker"))
    assert "ตำแหน่งที่ตั้ง" in texts(send(runtime, "U4", kind="location"))
    assert step(runtime, "U4") == "agency_type"  # a sticker does not move the conversation on
    replies = send(runtime, "U4", "99")
    assert "ไม่พบประเภทหน่วยงานนี้" in texts(replies)


def test_an_agency_not_in_the_list_is_confirmed_then_kept_as_typed(runtime: Runtime) -> None:
    send(runtime, "U5", kind="follow")
    send(runtime, "U5", "1")  # bureaus
    replies = send(runtime, "U5", "สำนักงานโครงการพิเศษ")
    assert "ไม่พบ" in texts(replies)
    assert labels(replies) == ["ใช้ชื่อนี้ / Use it", "เลือกจากรายการ"]
    replies = send(runtime, "U5", "ใช้ชื่อนี้")
    assert "บันทึกหน่วยงาน: สำนักงานโครงการพิเศษ" in texts(replies)
    with runtime.db.transaction() as session:
        requester = requesters.find(session, "line", "U5")
        assert requester is not None
        assert (requester.agency_type_code, requester.agency_other) == ("bureau", "สำนักงานโครงการพิเศษ")


def test_ambiguous_names_offer_choices_and_a_number_picks_from_the_whole_list(runtime: Runtime) -> None:
    send(runtime, "U6", kind="follow")
    send(runtime, "U6", "2")
    replies = send(runtime, "U6", "บาง")
    assert "หมายถึงหน่วยงานใดต่อไปนี้ ใช่ไหม" in texts(replies)
    assert len(labels(replies)) == 4 and all(label.startswith("เขตบาง") for label in labels(replies)[:3])
    assert labels(replies)[-1] == "ไม่ใช่ ใช้ที่พิมพ์"
    replies = send(runtime, "U6", "45")  # numbered across pages
    with runtime.db.transaction() as session:
        agency = session.scalar(select(Agency).where(Agency.code == "district-1045"))
        assert agency is not None
        assert f"บันทึกหน่วยงาน: {agency.name_th}" in texts(replies)


def test_a_question_can_start_with_an_attachment(runtime: Runtime) -> None:
    intake(runtime, "U7")
    send(runtime, "U7", "4")
    pdf = NewAttachment(kind="file", filename="draft.pdf", content_type="application/pdf", content=b"%PDF-1.4")
    replies = send(runtime, "U7", kind="attachment", attachments=(pdf,))
    assert "CL-2569-00001" in texts(replies)
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.subject == "(ไฟล์แนบ / attachment)"
        assert ticket.messages[0].attachments[0].filename == "draft.pdf"


def test_staff_link_code_links_the_line_account_and_is_not_a_question(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.db.transaction() as session:
        staff = factories.staff_user(session, now=clock.now())
        code = staff_link.issue_code(session, staff, now=clock.now())
    replies = send(runtime, "Ustaff", f"เชื่อมบัญชี {code}")
    assert "เชื่อมบัญชี LINE กับบัญชีเจ้าหน้าที่" in texts(replies)
    replies = send(runtime, "Ustaff", "เชื่อมบัญชี 000000")
    assert "ไม่ถูกต้องหรือหมดอายุ" in texts(replies)
    with runtime.db.transaction() as session:
        assert session.scalars(select(StaffUser)).one().line_user_id == "Ustaff"
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_pending_survey_takes_the_answer_and_new_question_cancels_it(runtime: Runtime, clock: FrozenClock) -> None:
    intake(runtime, "U8")
    send(runtime, "U8", "1")
    send(runtime, "U8", "ถามเรื่องการเก็บรักษาหนังสือ")
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        tickets.close(session, ticket, now=clock.now(), final_answer="เก็บ 10 ปี", actor="test")
    send(runtime, "U8", "5")
    with runtime.db.transaction() as session:
        survey = session.scalars(select(SurveyResponse)).one()
        assert survey.convenience == 5
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    send(runtime, "U8", "ถามใหม่")
    with runtime.db.transaction() as session:
        assert session.scalars(select(SurveyResponse)).one().status == "cancelled"
    assert step(runtime, "U8") == "topic"


def test_a_returning_requester_is_welcomed_back(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.db.transaction() as session:
        factories.requester(session, now=clock.now(), user_id="U9")
    replies = send(runtime, "U9", kind="follow")
    assert "ยินดีต้อนรับกลับ" in texts(replies) and "สำนักงานเขตพระนคร" in texts(replies)
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Requester)) == 1
