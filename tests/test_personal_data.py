"""Requesters' rights: the privacy notice, export and erasure from the desk, and the KPI kept intact."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from clinic import kpi, requester_data
from clinic.models import (
    Attachment,
    AuditEntry,
    ChatSession,
    InboundEvent,
    Message,
    OutboxMessage,
    Requester,
    StaffUser,
    SurveyResponse,
    Ticket,
)
from clinic.requester_data import ERASED_TEXT
from clinic.runtime import Runtime
from tests import factories
from tests.bot_support import line_body, line_event, line_text, post_line, run_jobs
from tests.fakeapi import FakeApiServer
from tests.kpi_quarter import bangkok, replay
from tests.test_desk_pages import _token, login

USER = "U0123456789abcdef0123456789abcdef"
Q1_2570 = kpi.Period.fiscal_quarter(2570, 1)


@pytest.fixture
def supervisor_client(app, runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="boss", role="supervisor")
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    client = app.test_client()
    assert login(client, "boss").status_code == 302
    return client


def _line_ticket_with_image(client, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    """A LINE requester goes through the intake and asks with an image (as in test_line_webhook)."""
    api_server.profiles[USER] = {"displayName": "สมศรี ใจดี", "language": "th"}
    steps = [line_event("follow", USER), line_text("2", USER), line_text("เขตพระนคร", USER),
             line_text("นางสมศรี ใจดี", USER), line_text("ข้าม", USER), line_text("1", USER)]  # fmt: skip
    api_server.content["5551234"] = (b"\x89PNG\r\n\x1a\nsecret-scan", "image/png")
    steps.append(line_event("message", USER, message={"id": "5551234", "type": "image",
                                                      "contentProvider": {"type": "line"}}))  # fmt: skip
    steps.append(line_text("หนังสือราชการของนางสมศรีต้องลงทะเบียนอย่างไร", USER))
    for event in steps:
        assert post_line(client, line_body(event)).status_code == 200
        run_jobs(runtime)


def test_first_contact_links_the_privacy_notice_and_the_page_shows_thai_first(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    assert post_line(client, line_body(line_event("follow", USER))).status_code == 200
    run_jobs(runtime)
    texts = [m["text"] for m in api_server.matching("POST", r"/v2/bot/message/reply$")[-1].json["messages"]]
    assert "ยินดีต้อนรับ" in texts[0]
    notice = next(text for text in texts if "/privacy" in text)
    assert f"{runtime.config.base_url}/privacy" in notice and notice.index("ความเป็นส่วนตัว") < notice.index("Privacy")

    page = client.get("/privacy").get_data(as_text=True)
    assert "พระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562" in page
    assert page.index('id="notice-th"') < page.index('id="notice-en"')


def test_admin_edits_the_notice_and_others_may_not(app, client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="admin1", role="admin")
        factories.staff_user(session, now=runtime.clock.now(), username="boss", role="supervisor")
    boss = app.test_client()
    login(boss, "boss")
    assert boss.get("/admin/privacy").status_code == 403
    assert boss.post("/admin/privacy", data={"text_th": "x", "csrf_token": _token(boss, "/inbox")}).status_code == 403
    admin = app.test_client()
    login(admin, "admin1")
    token = _token(admin, "/admin/privacy")
    refused = admin.post("/admin/privacy", data={"text_th": "  ", "text_en": "x", "csrf_token": token})
    assert "ต้องมีประกาศภาษาไทย" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    assert "พ.ศ. 2562" in client.get("/privacy").get_data(as_text=True)  # unchanged
    admin.post("/admin/privacy", data={"text_th": "ประกาศฉบับใหม่ <b>", "text_en": "New notice", "csrf_token": token})
    page = client.get("/privacy").get_data(as_text=True)
    assert "ประกาศฉบับใหม่ &lt;b&gt;" in page and "New notice" in page  # escaped, not markup
    with runtime.db.transaction() as session:
        assert (
            session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "settings.privacy_notice")) == "admin1"
        )


def test_export_holds_everything_about_one_requester_only(  # type: ignore[no-untyped-def]
    client, supervisor_client, app, runtime: Runtime, api_server: FakeApiServer
) -> None:
    _line_ticket_with_image(client, runtime, api_server)
    with runtime.db.transaction() as session:
        other = factories.ticket(session, now=runtime.clock.now(), body="คำถามของคนอื่น", display_name="คนอื่น")
        other_id = other.requester_id
        requester_id = session.scalar(select(Requester.id).where(Requester.channel_user_id == USER))
    response = supervisor_client.get(f"/requesters/{requester_id}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("data.json"))
    assert data["requester"]["channel_user_id"] == USER and data["requester"]["display_name"] == "สมศรี ใจดี"
    bodies = [m["body"] for t in data["tickets"] for m in t["messages"]]
    assert "หนังสือราชการของนางสมศรีต้องลงทะเบียนอย่างไร" in bodies and "คำถามของคนอื่น" not in json.dumps(data)
    image = next(a for t in data["tickets"] for m in t["messages"] for a in m["attachments"])
    assert archive.read(image["path"]) == b"\x89PNG\r\n\x1a\nsecret-scan"
    assert all(not name.startswith("/") and ".." not in name for name in archive.namelist())
    assert data["webhook_events"] and data["messages_sent_to_you"]

    # An agent may not export anyone; an unknown id is a 404, not someone else's data.
    agent = app.test_client()
    login(agent, "somsri")
    assert agent.get(f"/requesters/{other_id}/export").status_code == 403
    assert agent.get(f"/requesters/{requester_id}").status_code == 403
    assert supervisor_client.get("/requesters/999999/export").status_code == 404
    assert client.get(f"/requesters/{requester_id}/export").status_code == 302  # not signed in: to the login
    with runtime.db.transaction() as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "requester.export")).all()
        assert [(e.actor, e.target_id) for e in exports] == [("boss", str(requester_id))]


def test_exports_are_limited_per_staff_member_and_hour(  # type: ignore[no-untyped-def]
    supervisor_client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desk import personal_data

    monkeypatch.setattr(personal_data, "EXPORTS_PER_HOUR", 2)
    with runtime.db.transaction() as session:
        ids = [factories.requester(session, now=runtime.clock.now()).id for _ in range(3)]
    assert [supervisor_client.get(f"/requesters/{i}/export").status_code for i in ids] == [200, 200, 429]
    with runtime.db.transaction() as session:  # the refused one was not exported, so not audited
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "requester.export")).all()) == 2


def test_erasure_removes_the_person_and_a_new_message_starts_fresh(  # type: ignore[no-untyped-def]
    client, supervisor_client, app, runtime: Runtime, api_server: FakeApiServer
) -> None:
    _line_ticket_with_image(client, runtime, api_server)
    with runtime.db.transaction() as session:
        requester = session.scalars(select(Requester).where(Requester.channel_user_id == USER)).one()
        requester_id = requester.id
        ticket = session.scalars(select(Ticket)).unique().one()
        number, posted, due = ticket.number, ticket.posted_at, ticket.due_at
    page = supervisor_client.get(f"/tickets/{number}").get_data(as_text=True)
    assert f"/requesters/{requester_id}" in page

    # An agent cannot erase; a supervisor must type the reference back; a wrong one changes nothing.
    agent = app.test_client()
    login(agent, "somsri")
    token = _token(agent, "/inbox")
    assert agent.post(f"/requesters/{requester_id}/erase", data={"confirm": f"R{requester_id}",
                                                                 "csrf_token": token}).status_code == 403  # fmt: skip
    token = _token(supervisor_client, f"/requesters/{requester_id}/erase")
    supervisor_client.post(f"/requesters/{requester_id}/erase", data={"confirm": "R1x", "csrf_token": token})
    with runtime.db.transaction() as session:
        assert session.get(Requester, requester_id).channel_user_id == USER
    assert supervisor_client.post(f"/requesters/{requester_id}/erase", data={"confirm": f"R{requester_id}"}
                                  ).status_code == 400  # no CSRF token  # fmt: skip

    done = supervisor_client.post(f"/requesters/{requester_id}/erase",
                                  data={"confirm": f"r{requester_id}", "csrf_token": token})  # fmt: skip
    assert done.status_code == 302
    with runtime.db.transaction() as session:
        requester = session.get(Requester, requester_id)
        assert requester.channel_user_id.startswith("erased:") and requester.display_name == ""
        assert requester.person_name == "" and session.get(ChatSession, requester_id) is None
        ticket = session.scalars(select(Ticket)).unique().one()
        assert (ticket.number, ticket.posted_at, ticket.due_at, ticket.subject) == (number, posted, due, "")
        assert ticket.topic_code == "saraban" and ticket.agency_type_code == "district"
        assert {m.body for m in ticket.messages if m.kind != "system"} == {ERASED_TEXT}
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert session.scalar(select(func.count()).where(InboundEvent.payload.is_not(None))) == 0
        for row in session.scalars(select(OutboxMessage)):
            assert row.payload == [] and USER not in row.recipient
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "requester.erase")).one()
        assert entry.actor == "boss" and USER not in json.dumps(entry.detail, ensure_ascii=False)
        assert entry.detail["removed"]["attachments"] == 1

    # The same LINE user writes again: a new requester, a new intake.
    assert post_line(client, line_body(line_text("สวัสดี", USER))).status_code == 200
    run_jobs(runtime)
    with runtime.db.transaction() as session:
        fresh = session.scalars(select(Requester).where(Requester.channel_user_id == USER)).one()
        assert fresh.id != requester_id and fresh.agency_id is None
    assert "ยินดีต้อนรับสู่" in api_server.matching("POST", r"/v2/bot/message/reply$")[-1].json["messages"][0]["text"]


def test_erasure_leaves_the_kpi_of_a_closed_quarter_identical(runtime: Runtime) -> None:
    """Every figure stays. The one thing that goes is a suggestion's verbatim text, which is the person's own words."""
    people = replay(runtime)
    after_quarter = bangkok(2027, 1, 10, 9, 0)

    def figures() -> dict:
        with runtime.db.transaction() as session:
            return json.loads(json.dumps(kpi.compute(session, Q1_2570, after_quarter).to_dict(), default=str))

    def erase(name: str) -> None:
        with runtime.db.transaction() as session:
            boss = session.scalar(select(StaffUser).where(StaffUser.username == "boss")) or factories.staff_user(
                session, now=after_quarter, username="boss", role="supervisor")  # fmt: skip
            requester_data.erase(session, session.get(Requester, people[name].id), now=after_quarter, staff=boss)

    before = figures()
    erase("R5")  # three consultations by the web chat, no suggestion: the whole KPI JSON is identical
    assert figures() == before

    erase("R1")  # five consultations, and both of the quarter's suggestions
    after = figures()
    assert before["suggestions"] and after["suggestions"] == []
    assert {k: v for k, v in after.items() if k != "suggestions"} == {
        k: v for k, v in before.items() if k != "suggestions"
    }
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).where(SurveyResponse.suggestion != "")) == 0  # R1 wrote all three
        texts = session.scalars(
            select(Message.body).join(Ticket).where(Ticket.requester_id == people["R1"].id, Message.kind != "system")
        ).all()
        assert texts and set(texts) == {ERASED_TEXT}


def test_erasure_also_clears_the_search_index_and_the_knowledge_base_questions(runtime: Runtime) -> None:
    """The ranked search's documents and the questions the knowledge base answered hold the requester's text."""
    from clinic import answer_offers, requester_data, ticket_search
    from clinic.models import AnswerOffer
    from clinic.ticket_search import TicketFilter

    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=now, username="boss", role="supervisor")
        ticket = factories.ticket(session, now=now, body="ขอทราบเรื่องหนังสือลับของนายสมหมายใจดี")
        answer_offers.create(session, requester=ticket.requester, topic_code="saraban", question="นายสมหมายใจดีถาม",
                             hits=[], now=now)  # fmt: skip
        number = ticket.number
        found = ticket_search.search(session, TicketFilter(status="all", q="สมหมายใจดี"))
        assert [t.number for t in found.items] == [number]
        requester_data.erase(session, ticket.requester, now=now, staff=boss)
    with runtime.db.transaction() as session:
        assert ticket_search.search(session, TicketFilter(status="all", q="สมหมายใจดี")).total == 0
        assert ticket_search.search(session, TicketFilter(status="all", q=number)).total == 1
        assert session.scalars(select(AnswerOffer.question)).all() == [requester_data.ERASED_TEXT]
