"""The desk's pages through Flask's test client: login, roles, inbox, ticket actions, CSRF, admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinic import tickets
from clinic.models import AuditEntry, Message, OutboxMessage, Ticket
from clinic.runtime import Runtime
from tests import factories

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(client, path: str = "/login") -> str:  # type: ignore[no-untyped-def]
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str = "somsri", password: str = factories.PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _token(client)})


@pytest.fixture
def agent(runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        return factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")


@pytest.fixture
def desk_client(app, agent):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def test_pages_need_login_and_root_leads_to_the_inbox(client, agent) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/").headers["Location"].endswith("/login")  # a first visit: the form, no error
    response = client.get("/inbox")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/tickets/CL-2569-00001").status_code == 302
    assert client.get("/live").status_code == 302


def test_login_rejects_a_wrong_password_and_audits_both(client, agent, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    response = login(client, password="wrong-password")
    assert response.status_code == 401
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302
    assert login(client).status_code == 302
    assert client.get("/inbox").status_code == 200
    with runtime.db.transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert "staff.login_failed" in actions and "staff.login" in actions


def test_login_is_rate_limited_per_address_and_username(client, agent) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        assert login(client, password="wrong-password").status_code == 401
    locked = login(client)  # even the right password waits out the lock
    assert locked.status_code == 429
    assert "15 นาที" in locked.get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(app, runtime: Runtime, agent) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/login", data={"username": "somsri", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert login(client).status_code == 302
    with runtime.db.transaction() as session:
        number = factories.ticket(session, now=runtime.clock.now()).number
    assert client.post(f"/tickets/{number}/reply", data={"body": "ไม่มีโทเค็น"}).status_code == 400
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.kind == "outbound")) == 0


def test_inbox_lists_open_tickets_soonest_deadline_first_with_colours(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        late = factories.ticket(session, now=now, body="เรื่องที่ส่งทีหลัง")
        early = factories.ticket(session, now=now - timedelta(hours=20), body="เรื่องใกล้ครบกำหนด")
        overdue = factories.ticket(session, now=now - timedelta(hours=30), body="เรื่องเกินกำหนดแล้ว")
        closed = factories.ticket(session, now=now, body="เรื่องที่ปิดแล้ว")
        tickets.close(session, closed, now=now)
    page = desk_client.get("/inbox").get_data(as_text=True)
    order = [page.index(t.number) for t in (overdue, early, late)]
    assert order == sorted(order)
    assert closed.number not in page
    assert "due-overdue" in page and "due-warning" in page and "due-ok" in page
    assert "เกิน 6 ชม." in page  # 30 h old with a 24 h SLA
    assert "4 ชม." in page  # 20 h old: 4 h left, inside the 6 h warning


def test_inbox_search_finds_a_thai_word_inside_a_sentence(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        wanted = factories.ticket(session, now=now, body="ขอสอบถามเรื่องการลงทะเบียนหนังสือรับภายนอกค่ะ")
        other = factories.ticket(session, now=now, body="งานพิธีถวายพระพรชัยมงคลต้องแต่งกายอย่างไร")
        answered = factories.ticket(session, now=now, body="คำถามทั่วไป")
        tickets.reply(session, answered, body="ให้ใช้แบบฟอร์มตามระเบียบสำนักนายกรัฐมนตรี", now=now)
    page = desk_client.get("/inbox", query_string={"q": "ทะเบียน"}).get_data(as_text=True)
    assert wanted.number in page and other.number not in page
    page = desk_client.get("/inbox", query_string={"q": "สำนักนายก"}).get_data(as_text=True)  # in the answer
    assert answered.number in page and wanted.number not in page
    page = desk_client.get("/inbox", query_string={"q": "100%_"}).get_data(as_text=True)
    assert "ไม่มีเรื่องที่ตรงกับเงื่อนไข" in page


def test_inbox_filters_and_pages(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        for minute in range(27):
            factories.ticket(session, now=now + timedelta(minutes=minute), topic="ceremony", channel="messenger")
        line = factories.ticket(session, now=now, topic="saraban", channel="line")
    first = desk_client.get("/inbox").get_data(as_text=True)
    assert "หน้า 1 / 2 · 28" in first and "page=2" in first
    second = desk_client.get("/inbox", query_string={"page": 2}).get_data(as_text=True)
    assert second.count('data-ticket="') == 3
    only_line = desk_client.get("/inbox", query_string={"channel": "line"}).get_data(as_text=True)
    assert only_line.count('data-ticket="') == 1 and line.number in only_line
    only_topic = desk_client.get("/inbox", query_string={"topic": "ceremony", "page": 2}).get_data(as_text=True)
    assert only_topic.count('data-ticket="') == 2
    bad = desk_client.get("/inbox", query_string={"channel": "fax"})
    assert bad.status_code == 400 and "channel must be one of" in bad.get_data(as_text=True)


def test_reply_note_close_from_the_ticket_page(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, body="ขอแบบฟอร์มหนังสือภายนอก <b>ด่วน</b>")
    number = ticket.number
    page = desk_client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "&lt;b&gt;ด่วน&lt;/b&gt;" in page and "<b>ด่วน</b>" not in page
    assert "สำนักงานเขตพระนคร" in page
    token = CSRF.search(page).group(1)
    assert desk_client.post(f"/tickets/{number}/reply", data={"body": "ตามระเบียบข้อ 12", "csrf_token": token})
    desk_client.post(f"/tickets/{number}/note", data={"body": "โทรแจ้งเพิ่มแล้ว", "csrf_token": token})
    empty = desk_client.post(
        f"/tickets/{number}/reply", data={"body": "  ", "csrf_token": token}, follow_redirects=True
    )
    assert "ข้อความตอบกลับว่างเปล่า" in empty.get_data(as_text=True)
    desk_client.post(f"/tickets/{number}/close", data={"answer": "สรุปคำตอบ", "csrf_token": token})
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        assert ticket.status == "closed"
        kinds = [(m.kind, m.body, m.author.username if m.author else None) for m in ticket.messages]
        outbox = list(session.scalars(select(OutboxMessage.payload).where(OutboxMessage.ticket_id == ticket.id)))
    assert kinds[1:] == [
        ("outbound", "ตามระเบียบข้อ 12", "somsri"),
        ("note", "โทรแจ้งเพิ่มแล้ว", "somsri"),
        ("outbound", "สรุปคำตอบ", "somsri"),
        ("system", "ปิดเรื่อง / Closed", "somsri"),
    ]
    # The note never goes to the outbox: only the two replies do.
    assert [p[0]["text"] for p in outbox if p and "text" in p[0]][:2] == ["ตามระเบียบข้อ 12", "สรุปคำตอบ"]
    assert not any("โทรแจ้งเพิ่มแล้ว" in str(p) for p in outbox)
    again = desk_client.post(f"/tickets/{number}/reply", data={"body": "อีกครั้ง", "csrf_token": token},
                             follow_redirects=True)  # fmt: skip
    assert "เรื่องนี้ปิดแล้ว" in again.get_data(as_text=True)


def test_reopen_and_assigning_others_need_a_supervisor(desk_client, app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now, username="boss", role="supervisor")
        ticket = factories.ticket(session, now=now)
        tickets.close(session, ticket, now=now)
    number = ticket.number
    token = _token(desk_client, f"/tickets/{number}")
    assert desk_client.post(f"/tickets/{number}/reopen", data={"csrf_token": token}).status_code == 403
    refused = desk_client.post(f"/tickets/{number}/assign", data={"assignee": "boss", "csrf_token": token},
                               follow_redirects=True)  # fmt: skip
    assert "Only a supervisor" in refused.get_data(as_text=True)
    desk_client.post(f"/tickets/{number}/assign", data={"assignee": "somsri", "csrf_token": token})
    boss = app.test_client()
    login(boss, "boss")
    token = _token(boss, f"/tickets/{number}")
    boss.post(f"/tickets/{number}/reopen", data={"csrf_token": token})
    boss.post(f"/tickets/{number}/assign", data={"assignee": "boss", "csrf_token": token})
    boss.post(f"/tickets/{number}/classify", data={"topic": "ceremony", "agency_type": "bureau", "csrf_token": token})
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        assert ticket.status == "open" and ticket.due_at == now + timedelta(hours=24)
        assert ticket.assignee.username == "boss"
        assert (ticket.topic_code, ticket.agency_type_code) == ("ceremony", "bureau")
        audit = list(session.scalars(select(AuditEntry.actor).where(AuditEntry.target_id == number)))
    assert audit.count("somsri") == 1 and audit.count("boss") == 3


def test_live_poll_reports_new_tickets_messages_and_alerts(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from clinic.models import StaffAlert

    now = runtime.clock.now()
    baseline = desk_client.get("/live").json
    assert baseline["awaiting"] == 0 and baseline["events"] == []
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, body="คำถามใหม่")
        tickets.add_requester_message(session, ticket, body="ข้อมูลเพิ่มเติม", now=now)
        session.add(StaffAlert(created_at=now, ticket_id=ticket.id, level="warning", text="เหลือ 2 ชม."))
    state = desk_client.get("/live", query_string={"after_message": baseline["last_message"],
                                                  "after_alert": baseline["last_alert"]}).json  # fmt: skip
    assert state["awaiting"] == 1
    assert [(e["kind"], e["number"]) for e in state["events"]] == [
        ("ticket", ticket.number),
        ("message", ticket.number),
    ]
    assert state["alerts"][0]["text"] == "เหลือ 2 ชม." and state["alerts"][0]["url"] == f"/tickets/{ticket.number}"
    again = desk_client.get("/live", query_string={"after_message": state["last_message"],
                                                  "after_alert": state["last_alert"]}).json  # fmt: skip
    assert again["events"] == [] and again["alerts"] == []


def test_attachments_images_inline_files_as_downloads(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    with runtime.db.transaction() as session:
        who = factories.requester(session, now=now)
        ticket = tickets.open_ticket(
            session, requester=who, topic_code="saraban", body="แนบไฟล์", now=now,
            attachments=[
                tickets.NewAttachment("image", "photo.png", "image/png", png),
                tickets.NewAttachment("file", "แบบฟอร์ม.pdf", "application/pdf", b"%PDF-1.4"),
                tickets.NewAttachment("image", "x.svg", "image/svg+xml", b"<svg onload=alert(1)>"),
            ],
        )  # fmt: skip
        ids = [a.id for a in ticket.messages[0].attachments]
    page = desk_client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert f'<img class="attachment" src="/attachments/{ids[0]}"' in page
    assert f'href="/attachments/{ids[1]}" download' in page
    image = desk_client.get(f"/attachments/{ids[0]}")
    assert image.data == png and image.mimetype == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    pdf = desk_client.get(f"/attachments/{ids[1]}")
    assert pdf.mimetype == "application/octet-stream" and "attachment" in pdf.headers["Content-Disposition"]
    svg = desk_client.get(f"/attachments/{ids[2]}")
    assert svg.mimetype == "application/octet-stream" and svg.headers["X-Content-Type-Options"] == "nosniff"
    assert desk_client.get("/attachments/999999").status_code == 404


def test_language_switch_to_english_and_back(desk_client) -> None:  # type: ignore[no-untyped-def]
    assert "กล่องเรื่อง" in desk_client.get("/inbox").get_data(as_text=True)
    token = _token(desk_client, "/inbox")
    desk_client.post("/language", data={"lang": "en", "next": "/inbox", "csrf_token": token})
    page = desk_client.get("/inbox").get_data(as_text=True)
    assert ">Inbox" in page and 'lang="en"' in page
    desk_client.post("/language", data={"lang": "th", "next": "https://evil.example/", "csrf_token": token})
    assert 'lang="th"' in desk_client.get("/inbox").get_data(as_text=True)
    assert desk_client.post("/language", data={"lang": "fr", "csrf_token": token}).status_code == 400


def test_line_link_page_issues_a_one_time_code(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from clinic.models import StaffUser

    token = _token(desk_client, "/account/line")
    page = desk_client.post("/account/line", data={"csrf_token": token}).get_data(as_text=True)
    code = re.search(r'id="link-code">(\d{6})<', page).group(1)
    with runtime.db.transaction() as session:
        assert session.scalar(select(StaffUser.link_code).where(StaffUser.username == "somsri")) == code


def test_deactivated_staff_lose_their_session(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from clinic.models import StaffUser

    assert desk_client.get("/inbox").status_code == 200
    with runtime.db.transaction() as session:
        session.scalar(select(StaffUser).where(StaffUser.username == "somsri")).active = False
    assert desk_client.get("/inbox").status_code == 302


def test_ticket_not_found(desk_client) -> None:  # type: ignore[no-untyped-def]
    assert desk_client.get("/tickets/CL-2569-99999").status_code == 404


def test_count_of_tickets_in_the_database_is_unchanged_by_views(desk_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    desk_client.get("/inbox")
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
