"""Cancel and withdraw (issue 13, item 2): `ยกเลิก` never claims what did not happen, and a
requester may withdraw an open question: out of the SLA queue, no survey, audited, apart from KPI 1."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clinic import kpi, kpi_export, report, sla, survey, tickets
from clinic.clock import FrozenClock
from clinic.models import AuditEntry, OutboxMessage, SurveyResponse, Ticket
from clinic.runtime import Runtime
from clinic.tickets import TicketError
from tests import factories
from tests.kpi_quarter import bangkok
from tests.test_conversation import intake, labels, send, step, texts
from tests.test_desk_pages import login


def _ticket(runtime: Runtime, number: str = "CL-2569-00001") -> Ticket:
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def _ask(runtime: Runtime, user: str) -> list[dict]:
    intake(runtime, user)
    send(runtime, user, "1")
    return send(runtime, user, "การลงทะเบียนรับหนังสือเวียนทำอย่างไร")


def test_the_confirmation_offers_no_cancel_and_cancel_on_an_open_ticket_says_it_stays_open(runtime: Runtime) -> None:
    replies = _ask(runtime, "W1")
    assert "รับเรื่องแล้ว เลขที่ CL-2569-00001" in texts(replies)
    assert labels(replies) == ["ถามใหม่ / New", "สถานะ / Status", "ถอนคำถาม / Withdraw"]

    replies = send(runtime, "W1", "ยกเลิก")
    body = texts(replies)
    assert "ยกเลิกแล้ว" not in body and "Cancelled" not in body
    assert "ไม่ได้ยกเลิกอะไร" in body and "เรื่อง CL-2569-00001 ยังเปิดอยู่" in body
    assert labels(replies)[0] == "ถอนคำถาม / Withdraw"
    assert _ticket(runtime).status == "open"

    # Inside the intake, cancel keeps its meaning, and says the open ticket is untouched.
    send(runtime, "W1", "ถามใหม่")
    assert step(runtime, "W1") == "topic"
    body = texts(send(runtime, "W1", "ยกเลิก"))
    assert "ยกเลิกแล้ว / Cancelled." in body and "CL-2569-00001 ยังเปิดอยู่" in body
    assert step(runtime, "W1") == "idle" and _ticket(runtime).status == "open"


def test_cancel_with_nothing_open_says_so(runtime: Runtime) -> None:
    intake(runtime, "W2")
    send(runtime, "W2", "ยกเลิก")  # at the topic step: cancels it
    body = texts(send(runtime, "W2", "ยกเลิก"))  # idle, nothing open
    assert "ไม่มีขั้นตอนที่ต้องยกเลิก" in body
    body = texts(send(runtime, "W2", "ถอนคำถาม"))
    assert "ไม่มีเรื่องที่เปิดอยู่ให้ถอน" in body and step(runtime, "W2") == "idle"


def test_withdraw_asks_names_the_ticket_and_only_yes_withdraws(runtime: Runtime, clock: FrozenClock) -> None:
    _ask(runtime, "W3")
    ticket = _ticket(runtime)
    assert runtime.redis.zscore(sla.due_key(runtime), str(ticket.id)) is not None

    replies = send(runtime, "W3", "ถอนคำถาม")
    assert "ถอนคำถาม CL-2569-00001 ใช่ไหม" in texts(replies) and "การลงทะเบียนรับหนังสือเวียน" in texts(replies)
    assert labels(replies) == ["ยืนยันถอน / Yes", "ไม่ถอน / No"]
    assert "ไม่ได้ถอนคำถาม" in texts(send(runtime, "W3", "ไม่ถอน"))
    assert _ticket(runtime).status == "open"

    send(runtime, "W3", "withdraw")
    assert "ไม่ได้ถอนคำถาม" in texts(send(runtime, "W3", "ยกเลิก"))  # cancel the withdrawal, not the ticket
    assert _ticket(runtime).status == "open"

    send(runtime, "W3", "ถอนคำถาม")
    replies = send(runtime, "W3", "แนบเอกสารเพิ่มเติมค่ะ")  # neither yes nor no: joins the ticket
    assert "ยังไม่ได้ถอนคำถาม" in texts(replies) and "เพิ่มข้อความในเรื่อง CL-2569-00001" in texts(replies)

    clock.advance(hours=2)
    send(runtime, "W3", "ถอนคำถาม")
    replies = send(runtime, "W3", "ยืนยันถอนคำถาม")
    assert "ถอนคำถาม CL-2569-00001 แล้ว" in texts(replies)

    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.closed_at) == ("withdrawn", clock.now())
        assert ticket.messages[-1].kind == "system" and "ถอนคำถาม" in ticket.messages[-1].body
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.withdraw")).one()
        assert (entry.actor, entry.target_id, entry.staff_id) == (
            f"requester:{ticket.requester_id}",
            ticket.number,
            None,
        )
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
        assert (
            session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "survey")) == 0
        )
        assert tickets.open_ticket_of(session, ticket.requester) is None
    assert runtime.redis.zscore(sla.due_key(runtime), str(ticket.id)) is None
    assert runtime.redis.zscore(sla.next_key(runtime), str(ticket.id)) is None

    assert "ถอนคำถามแล้ว / Withdrawn" in texts(send(runtime, "W3", "สถานะ"))
    replies = send(runtime, "W3", "ขอถามเรื่องใหม่ค่ะ")  # a new message starts a new question
    assert "เริ่มคำถามใหม่" in texts(replies) and step(runtime, "W3") == "topic"


def test_withdraw_after_staff_closed_it_meanwhile(runtime: Runtime, clock: FrozenClock) -> None:
    _ask(runtime, "W4")
    send(runtime, "W4", "ถอนคำถาม")
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        tickets.close(session, ticket, now=runtime.clock.now(), final_answer="ตอบแล้วค่ะ", actor="test")
    clock.advance(days=8)
    survey.sweep(runtime)  # the survey the close started expired unanswered; it no longer takes the input
    replies = send(runtime, "W4", "ยืนยันถอนคำถาม")
    assert "ปิดไปแล้ว" in texts(replies)
    assert _ticket(runtime).status == "closed"


def test_the_service_refuses_what_a_withdrawn_ticket_cannot_do_and_a_reopen_restarts_it(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        stranger = factories.requester(session, now=now, user_id="U-stranger")
        with pytest.raises(TicketError, match="ของตนเอง"):
            tickets.withdraw(session, ticket, now=now, requester=stranger)
        tickets.withdraw(session, ticket, now=now + timedelta(hours=1), requester=ticket.requester)
        for step_name, act in (
            ("withdraw", lambda: tickets.withdraw(session, ticket, now=now, requester=ticket.requester)),
            ("reply", lambda: tickets.reply(session, ticket, body="ตอบ", now=now, actor="test")),
            ("close", lambda: tickets.close(session, ticket, now=now, actor="test")),
            ("message", lambda: tickets.add_requester_message(session, ticket, body="เพิ่ม", now=now)),
        ):
            with pytest.raises(TicketError, match="ถอนคำถาม"):
                act()
            assert ticket.status == "withdrawn", step_name
        tickets.add_note(session, ticket, body="ผู้ขอถอนเพราะได้คำตอบทางโทรศัพท์", now=now, actor="test")
    assert sla.rebuild(runtime) == 0  # a rebuilt queue leaves it out too

    later = now + timedelta(hours=3)
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        tickets.reopen(session, ticket, now=later, actor="test")
        assert (ticket.status, ticket.closed_at, ticket.due_at) == ("open", None, later + timedelta(hours=24))
        assert ticket.sla_missed_before is False  # withdrawn within its deadline
    assert runtime.redis.zscore(sla.due_key(runtime), str(ticket.id)) == (later + timedelta(hours=24)).timestamp()


def test_kpi_1_is_unchanged_by_a_withdrawn_ticket_which_is_counted_apart(runtime: Runtime) -> None:
    period = kpi.Period.fiscal_quarter(2570, 1)
    after = bangkok(2027, 1, 10, 9, 0)
    with runtime.db.transaction() as session:
        within = factories.ticket(session, now=bangkok(2026, 11, 1, 9, 0))
        tickets.close(session, within, now=bangkok(2026, 11, 1, 12, 0), actor="test")
        missed = factories.ticket(session, now=bangkok(2026, 11, 2, 9, 0), user_id="U-2")
        tickets.close(session, missed, now=bangkok(2026, 11, 4, 9, 0), actor="test")
        before = kpi.compute(session, period, after)
    assert (before.consultations, before.completed_within_sla, before.missed) == (2, 1, 1)
    assert (before.sla_percent, before.withdrawn) == (Decimal("50.0"), 0)

    with runtime.db.transaction() as session:
        gone = factories.ticket(session, now=bangkok(2026, 11, 5, 9, 0), user_id="U-3")
        tickets.withdraw(session, gone, now=bangkok(2026, 11, 5, 15, 0), requester=gone.requester)
        figures = kpi.compute(session, period, after)
        data = figures.to_dict()
        rows = {row["number"]: row for row in kpi_export.ticket_rows(session, period, after)}
    assert (figures.consultations, figures.completed_within_sla, figures.missed, figures.pending) == (3, 1, 1, 0)
    assert (figures.withdrawn, figures.sla_percent) == (1, Decimal("50.0"))  # the ratio did not move
    assert (data["withdrawn"], data["sla_percent"], data["missed"]) == (1, 50.0, 1)
    november = next(row for row in data["by_month"] if row["month"] == "2026-11")
    assert (november["consultations"], november["withdrawn"], november["sla_percent"]) == (3, 1, 50.0)
    district = next(row for row in figures.by_agency_type if row.code == "district")
    assert (district.consultations, district.withdrawn, district.sla_percent) == (3, 1, Decimal("50.0"))

    built = report.build(figures, after)
    assert "1 จาก 2 เรื่อง" in built.sla_th and "ผู้ขอคำปรึกษาถอนคำถาม 1 เรื่อง ไม่นับรวม" in built.sla_th

    assert rows[gone.number]["sla"] == "withdrawn"
    out = io.StringIO()
    kpi_export.write_csv(out, iter(rows.values()))
    table = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff"))))
    by_number = {row["เลขที่เรื่อง / Number"]: row for row in table}
    assert by_number[gone.number]["สถานะ / Status"] == "ถอนคำถามแล้ว / Withdrawn"
    assert by_number[gone.number]["ผลภายใน 1 วัน / Within SLA"] == "ถอนคำถาม (ไม่นับ) / Withdrawn (not counted)"
    assert by_number[within.number]["สถานะ / Status"] == "ปิดแล้ว / Closed"


def test_a_question_withdrawn_after_its_deadline_stays_missed(runtime: Runtime) -> None:
    period = kpi.Period.fiscal_quarter(2570, 1)
    after = bangkok(2027, 1, 10, 9, 0)
    with runtime.db.transaction() as session:
        within = factories.ticket(session, now=bangkok(2026, 11, 1, 9, 0))
        tickets.close(session, within, now=bangkok(2026, 11, 1, 12, 0), actor="test")
        late = factories.ticket(session, now=bangkok(2026, 11, 5, 9, 0), user_id="U-3")
        overdue = kpi.compute(session, period, bangkok(2026, 11, 6, 10, 0))  # a day and an hour on: missed
        tickets.withdraw(session, late, now=bangkok(2026, 11, 7, 9, 0), requester=late.requester)
        figures = kpi.compute(session, period, after)
        rows = {row["number"]: row for row in kpi_export.ticket_rows(session, period, after)}
    assert (overdue.missed, overdue.sla_percent) == (1, Decimal("50.0"))
    # Withdrawing afterwards does not undo the miss (the same rule as a reopen after a missed cycle).
    assert (figures.missed, figures.withdrawn, figures.sla_percent) == (1, 0, Decimal("50.0"))
    assert rows[late.number]["sla"] == "missed" and rows[late.number]["status"] == "withdrawn"


def test_staff_see_it_withdrawn_out_of_the_inbox_and_a_supervisor_may_reopen_it(app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now, username="somsri", role="agent")
        factories.staff_user(session, now=now, username="boss", role="supervisor")
        kept = factories.ticket(session, now=now, body="คำถามที่ยังเปิดอยู่")
        gone = factories.ticket(session, now=now, body="คำถามที่ถอนแล้ว", user_id="U-gone")
        tickets.withdraw(session, gone, now=now, requester=gone.requester)
    client = app.test_client()
    assert login(client).status_code == 302
    inbox = client.get("/inbox").get_data(as_text=True)
    assert kept.number in inbox and gone.number not in inbox
    listed = client.get("/inbox?status=withdrawn").get_data(as_text=True)
    assert gone.number in listed and kept.number not in listed and "ถอนคำถามแล้ว" in listed
    page = client.get(f"/tickets/{gone.number}").get_data(as_text=True)
    assert "ถอนคำถามแล้ว" in page and "ถอนคำถามเมื่อ" in page
    assert 'id="reply-form"' not in page and "/reopen" not in page  # an agent may not reopen

    boss = app.test_client()
    assert login(boss, "boss").status_code == 302
    page = boss.get(f"/tickets/{gone.number}").get_data(as_text=True)
    assert f"/tickets/{gone.number}/reopen" in page


def test_the_api_filters_and_reports_withdrawn(app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from clinic import api_tokens

    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        token = api_tokens.create(session, name="reports", now=now)[1]
        kept = factories.ticket(session, now=now)
        gone = factories.ticket(session, now=now, user_id="U-gone")
        tickets.withdraw(session, gone, now=now, requester=gone.requester)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    active = client.get("/api/v1/tickets", headers=headers).json
    assert [t["number"] for t in active["items"]] == [kept.number]
    withdrawn = client.get("/api/v1/tickets?status=withdrawn", headers=headers).json
    assert [(t["number"], t["status"]) for t in withdrawn["items"]] == [(gone.number, "withdrawn")]
    assert withdrawn["items"][0]["closed_at"] is not None
    spec = client.get("/api/v1/openapi.json", headers=headers).json
    status = next(p for p in spec["paths"]["/tickets"]["get"]["parameters"] if p["name"] == "status")
    assert "withdrawn" in status["schema"]["enum"]
    assert "withdrawn" in spec["components"]["schemas"]["TicketSummary"]["properties"]["status"]["enum"]
