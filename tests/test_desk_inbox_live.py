"""The desk a staff member lives in (issue 14, items 1-4): countdown data, the alert centre's read state,
the inbox's unread marker, Mine view, sorts, filters in the URL and bulk actions, the ticket page's tabs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from clinic import tickets
from clinic.models import AuditEntry, StaffAlert, StaffUser, Ticket
from clinic.runtime import Runtime
from clinic.ticket_search import TicketFilter
from desk.deadline import format_left
from tests import factories
from tests.test_desk_pages import _token, login


@pytest.fixture
def staff(runtime: Runtime) -> dict[str, int]:
    with runtime.db.transaction() as session:
        now = runtime.clock.now()
        people = {
            "somsri": factories.staff_user(session, now=now, username="somsri", role="agent"),
            "boss": factories.staff_user(session, now=now, username="boss", role="supervisor"),
            "wipa": factories.staff_user(session, now=now, username="wipa", role="agent"),
        }
        return {name: person.id for name, person in people.items()}


def _client(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _numbers(page: str) -> list[str]:
    return re.findall(r'<tr data-ticket="([^"]+)"', page)


# --- Deadlines ---------------------------------------------------------------------------------


def test_time_left_reads_in_the_page_language_and_never_says_over_by_zero_minutes() -> None:
    assert format_left(timedelta(hours=23, minutes=56)) == "23 ชม. 56 นาที"
    assert format_left(timedelta(hours=23, minutes=56), "en") == "23 h 56 min"
    assert format_left(timedelta(minutes=1, seconds=5)) == "1 นาที 5 วินาที"
    assert format_left(timedelta(seconds=-30)) == "เกิน 30 วินาที"
    assert format_left(timedelta(seconds=-30), "en") == "30 s overdue"
    assert format_left(timedelta(0)) == "ครบกำหนดแล้ว"
    assert format_left(timedelta(hours=-6)) == "เกิน 6 ชม."
    assert format_left(timedelta(days=1, hours=2), "en") == "1 d 2 h"
    for seconds in range(-180, 180):
        assert "0 นาที" not in format_left(timedelta(seconds=seconds)).replace("10 นาที", "")


def test_pages_carry_the_deadline_and_warning_lead_for_the_countdown(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now - timedelta(minutes=4))
    client = _client(app, "somsri")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert 'data-due="2026-11-26T02:56:00Z" data-warn="21600"' in inbox
    assert f'data-now="{now.isoformat()}"' in inbox
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert 'id="ticket-due" data-due="2026-11-26T02:56:00Z" data-warn="21600"' in page
    assert '<span class="left">23 ชม. 56 นาที</span>' in page
    client.post("/language", data={"lang": "en", "csrf_token": _token(client, "/inbox")})
    english = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert '<span class="left">23 h 56 min</span>' in english
    assert client.get("/live").json["now"] == now.isoformat()


# --- The alert centre ---------------------------------------------------------------------------


def _alert(runtime: Runtime, text: str, *, ticket: Ticket | None = None, staff_id: int | None = None) -> int:
    with runtime.db.transaction() as session:
        alert = StaffAlert(created_at=runtime.clock.now(), ticket_id=ticket.id if ticket else None, level="warning",
                           text=text, staff_id=staff_id)  # fmt: skip
        session.add(alert)
        session.flush()
        return alert.id


def test_alerts_keep_their_time_and_each_staff_members_read_state(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=runtime.clock.now())
    first = _alert(runtime, "⏰ ใกล้ครบกำหนด: เหลือ 6 ชม.", ticket=ticket)
    second = _alert(runtime, "🚨 ครบกำหนดแล้ว", ticket=ticket)
    private = _alert(runtime, "สำหรับวิภาเท่านั้น", staff_id=staff["wipa"])
    somsri, wipa = _client(app, "somsri"), _client(app, "wipa")

    assert somsri.get("/live").json["unread_alerts"] == 2
    assert wipa.get("/live").json["unread_alerts"] == 3
    page = somsri.get("/alerts").get_data(as_text=True)
    assert "25 พ.ย. 2569 10:00 น." in page and "ครบกำหนดแล้ว" in page and "สำหรับวิภาเท่านั้น" not in page
    assert "· ใกล้ครบกำหนด: เหลือ 6 ชม." in page and "⏰" not in page  # colour shows the level, not an emoji
    assert 'id="alert-count" >2<' in page  # the bell

    token = _token(somsri, "/alerts")
    answer = somsri.post(f"/alerts/{first}/read", data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert answer.json == {"unread": 1}
    assert somsri.get("/live").json["unread_alerts"] == 1
    assert wipa.get("/live").json["unread_alerts"] == 3  # somsri's reading is hers alone
    # Another staff member's private alert is not there to be read; a missing token changes nothing.
    assert somsri.post(f"/alerts/{private}/read", data={"csrf_token": token}).status_code == 404
    assert somsri.post(f"/alerts/{second}/read", data={}).status_code == 400
    assert somsri.get("/live").json["unread_alerts"] == 1

    somsri.post("/alerts/read-all", data={"csrf_token": token})
    assert somsri.get("/live").json["unread_alerts"] == 0
    page = somsri.get("/alerts").get_data(as_text=True)
    assert page.count("is-read") == 2 and "is-unread" not in page
    later = _alert(runtime, "เตือนอีกครั้ง", ticket=ticket)
    assert somsri.get("/live").json["unread_alerts"] == 1
    assert f'data-alert="{later}"' in somsri.get("/alerts").get_data(as_text=True)


def test_the_new_message_notice_shows_the_new_message(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    client = _client(app, "somsri")
    baseline = client.get("/live").json
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=runtime.clock.now(), body="คำถามแรกเรื่องหนังสือเวียน")
        tickets.add_requester_message(session, ticket, body="ขอเพิ่มเติม:  แนบสำเนาด้วยไหมคะ", now=runtime.clock.now())
    state = client.get("/live", query_string={"after_message": baseline["last_message"]}).json
    assert [(e["kind"], e["subject"]) for e in state["events"]] == [
        ("ticket", "คำถามแรกเรื่องหนังสือเวียน"),
        ("message", "ขอเพิ่มเติม: แนบสำเนาด้วยไหมคะ"),
    ]


def test_sla_warnings_land_in_the_alert_centre(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from clinic import sla

    with runtime.db.transaction() as session:
        factories.ticket(session, now=runtime.clock.now())
    runtime.clock.advance(hours=18, minutes=1)
    sla.sweep(runtime)
    page = _client(app, "somsri").get("/alerts").get_data(as_text=True)
    assert "ใกล้ครบกำหนด" in page and "26 พ.ย. 2569 04:01 น." in page and "is-unread" in page


# --- The inbox ------------------------------------------------------------------------------------


def test_unread_marker_is_per_staff_member(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=runtime.clock.now())
    somsri, wipa = _client(app, "somsri"), _client(app, "wipa")
    row = f'<tr data-ticket="{ticket.number}" class="unread">'
    assert row in somsri.get("/inbox").get_data(as_text=True)  # never opened
    somsri.get(f"/tickets/{ticket.number}")
    assert row not in somsri.get("/inbox").get_data(as_text=True)
    assert row in wipa.get("/inbox").get_data(as_text=True)
    with runtime.db.transaction() as session:
        tickets.reply(session, tickets.get_by_number(session, ticket.number), body="ตอบแล้วค่ะ", now=runtime.clock.now())
    assert row not in somsri.get("/inbox").get_data(as_text=True)  # a reply is not a requester message
    with runtime.db.transaction() as session:
        again = tickets.get_by_number(session, ticket.number)
        tickets.add_requester_message(session, again, body="ขอบคุณค่ะ ถามต่อนะคะ", now=runtime.clock.now())
    assert row in somsri.get("/inbox").get_data(as_text=True)
    somsri.get(f"/tickets/{ticket.number}/thread")  # the open page redrew its thread: seen
    assert row not in somsri.get("/inbox").get_data(as_text=True)


def test_mine_view_and_sort_orders_with_filters_kept_in_the_url(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        old = factories.ticket(session, now=now - timedelta(hours=20), body="เก่าสุด")
        middle = factories.ticket(session, now=now - timedelta(hours=10), body="กลาง")
        new = factories.ticket(session, now=now - timedelta(hours=1), body="ใหม่สุด")
        somsri = session.get(StaffUser, staff["somsri"])
        for ticket in (old, new):
            tickets.assign(session, ticket, assignee=somsri, now=now)
    runtime.clock.advance(minutes=5)
    with runtime.db.transaction() as session:  # the oldest gets the latest activity
        tickets.add_requester_message(session, tickets.get_by_number(session, old.number), body="ตามเรื่อง",
                                      now=runtime.clock.now())  # fmt: skip
    client = _client(app, "somsri")
    assert _numbers(client.get("/inbox").get_data(as_text=True)) == [old.number, middle.number, new.number]
    posted = client.get("/inbox", query_string={"sort": "posted"}).get_data(as_text=True)
    assert _numbers(posted) == [new.number, middle.number, old.number]
    activity = client.get("/inbox", query_string={"sort": "activity"}).get_data(as_text=True)
    assert _numbers(activity) == [old.number, new.number, middle.number]
    mine = client.get("/inbox", query_string={"assignee": "me", "sort": "posted"}).get_data(as_text=True)
    assert _numbers(mine) == [new.number, old.number]
    assert 'class="on" id="view-mine">เรื่องของฉัน<' in mine
    assert '<option value="posted" selected>' in mine
    bad = client.get("/inbox", query_string={"sort": "random"})
    assert bad.status_code == 400 and "sort must be one of due, posted, activity" in bad.get_data(as_text=True)
    # The pager keeps every filter and the order.
    with runtime.db.transaction() as session:
        for minute in range(26):
            factories.ticket(session, now=now + timedelta(minutes=minute), topic="ceremony", channel="web")
    paged = client.get("/inbox", query_string={"topic": "ceremony", "sort": "activity"}).get_data(as_text=True)
    assert "/inbox?page=2&amp;topic=ceremony&amp;sort=activity" in paged


def test_sorting_reads_the_ordering_index_not_every_row(runtime: Runtime) -> None:
    """Each order walks its index: 100,000 open tickets cost a page, not a sort of them all."""
    from clinic import ticket_search

    with runtime.db.transaction() as session:
        bind = session.get_bind()
        sqlite = bind.dialect.name == "sqlite"
        # The plain "due" order is the Redis SLA queue (live_queue); these two come from the database.
        for sort, index in (("posted", "ix_tickets_posted"), ("activity", "ix_tickets_activity")):
            statement = ticket_search.ordered(session, TicketFilter(sort=sort)).limit(25)
            compiled = statement.compile(bind, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = " ".join(str(row) for row in session.execute(text(prefix + str(compiled))))
            if sqlite:
                assert index in plan and "TEMP B-TREE" not in plan, plan
            else:  # PostgreSQL picks by its statistics (an empty table is read whole); the plan must be valid
                assert "Limit" in plan, plan


# --- Bulk actions -----------------------------------------------------------------------------------


def _open_tickets(runtime: Runtime, count: int) -> list[str]:
    with runtime.db.transaction() as session:
        return [factories.ticket(session, now=runtime.clock.now()).number for _ in range(count)]


def _statuses(runtime: Runtime, numbers: list[str]) -> list[tuple[str, str | None]]:
    with runtime.db.transaction() as session:
        rows = [tickets.get_by_number(session, n) for n in numbers]
        return [(t.status, t.assignee.username if t.assignee else None) for t in rows]


def test_bulk_assign_and_close_for_supervisors_one_ticket_at_a_time(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    numbers = _open_tickets(runtime, 3)
    with runtime.db.transaction() as session:
        tickets.close(session, tickets.get_by_number(session, numbers[2]), now=runtime.clock.now())
    boss = _client(app, "boss")
    page = boss.get("/inbox").get_data(as_text=True)
    assert 'id="bulk-form"' in page and 'form="bulk-form"' in page
    token = _token(boss, "/inbox")
    done = boss.post("/inbox/bulk", data={"csrf_token": token, "action": "assign", "assignee": "wipa",
                                          "number": numbers[:2], "next": "/inbox?sort=posted"})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"] == "/inbox?sort=posted"
    assert _statuses(runtime, numbers[:2]) == [("open", "wipa"), ("open", "wipa")]
    closed = boss.post("/inbox/bulk", data={"csrf_token": token, "action": "close",
                                            "number": [numbers[0], numbers[2], "CL-2569-99999"]},
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"ปิดเรื่องแล้ว 1 เรื่อง / Closed 1 ticket(s): {numbers[0]}" in closed
    assert f"{numbers[2]}: เรื่องนี้ปิดแล้ว" in closed and "CL-2569-99999: ไม่พบเรื่อง" in closed
    assert [s for s, _ in _statuses(runtime, numbers)] == ["closed", "open", "closed"]
    with runtime.db.transaction() as session:
        audited = session.scalars(
            select(AuditEntry.target_id).where(AuditEntry.action.in_(("ticket.assign", "ticket.close")),
                                               AuditEntry.actor == "boss")
        ).all()  # fmt: skip
    assert sorted(audited) == sorted([numbers[0], numbers[1], numbers[0]])
    boss.post("/inbox/bulk", data={"csrf_token": token, "action": "assign", "assignee": "none", "number": numbers[1]})
    assert _statuses(runtime, [numbers[1]]) == [("open", None)]


def test_bulk_is_refused_to_agents_without_a_token_and_over_the_limit(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    numbers = _open_tickets(runtime, 2)
    before = _statuses(runtime, numbers)
    agent = _client(app, "somsri")
    assert 'id="bulk-form"' not in agent.get("/inbox").get_data(as_text=True)
    token = _token(agent, "/inbox")
    refused = agent.post("/inbox/bulk", data={"csrf_token": token, "action": "close", "number": numbers})
    assert refused.status_code == 403
    boss = _client(app, "boss")
    assert boss.post("/inbox/bulk", data={"action": "close", "number": numbers}).status_code == 400  # no CSRF token
    token = _token(boss, "/inbox")
    too_many = numbers + [f"CL-2569-{i:05d}" for i in range(1000, 1099)]
    over = boss.post("/inbox/bulk", data={"csrf_token": token, "action": "close", "number": too_many},
                     follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "At most 100 tickets at a time (101 selected); nothing changed" in over
    odd = boss.post("/inbox/bulk", data={"csrf_token": token, "action": "delete", "number": numbers},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "Unknown bulk action" in odd
    ghost = {"csrf_token": token, "action": "assign", "assignee": "ghost", "number": numbers}
    nobody = boss.post("/inbox/bulk", data=ghost, follow_redirects=True).get_data(as_text=True)
    assert "Unknown staff member &#39;ghost&#39;" in nobody
    unchosen = {"csrf_token": token, "action": "assign", "number": numbers}
    assert "Choose an assignee first" in boss.post("/inbox/bulk", data=unchosen, follow_redirects=True).get_data(
        as_text=True
    )
    away = boss.post("/inbox/bulk", data={"csrf_token": token, "action": "close", "number": [],
                                          "next": "https://evil.example/"})  # fmt: skip
    assert away.headers["Location"] == "/inbox"
    assert _statuses(runtime, numbers) == before
    with runtime.db.transaction() as session:
        closes = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ticket.close")
        assert session.scalar(closes) == 0


# --- The ticket page ----------------------------------------------------------------------------------


def test_the_lit_tab_is_the_visible_form(app, staff, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=runtime.clock.now())
        closed = factories.ticket(session, now=runtime.clock.now())
        tickets.close(session, closed, now=runtime.clock.now())
    client = _client(app, "somsri")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert re.search(r'class="on" aria-selected="true" data-tab="reply-form"', page)
    assert re.search(r'id="reply-form" class="stack tab-pane"(?! hidden)', page) and "data-ctrl-enter" in page
    shut = client.get(f"/tickets/{closed.number}").get_data(as_text=True)
    assert 'data-tab="reply-form"' not in shut
    assert re.search(r'class="on" aria-selected="true" data-tab="note-form"', shut)
    assert 'id="note-form" class="stack tab-pane" >' in shut
