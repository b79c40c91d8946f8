"""The LINE message quota: readings through the real client from the fake API, the forecast, the
admins' warnings, and messages held (not lost) when the month's quota is spent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import delivery, tasks
from clinic import line_quota, tickets
from clinic.clock import FrozenClock
from clinic.models import AuditEntry, Message, OutboxMessage, StaffAlert
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer
from tests.test_desk_pages import _token, login


def _alerts(runtime: Runtime) -> list[tuple[int | None, str, str]]:
    with runtime.db.transaction() as session:
        return [(a.staff_id, a.level, a.text) for a in session.scalars(select(StaffAlert).order_by(StaffAlert.id))]


def test_readings_forecast_and_warnings_at_80_and_95_once_a_month(  # type: ignore[no-untyped-def]
    runtime: Runtime, api_server: FakeApiServer, clock: FrozenClock
) -> None:
    with runtime.db.transaction() as session:
        admin = factories.staff_user(session, now=clock.now(), username="admin1", role="admin")
        factories.staff_user(session, now=clock.now(), username="somsri", role="agent")
    api_server.quota_limit = 3000
    clock.set(clock.now().replace(day=10))
    for day in range(10, 19):  # 100 a day from the 10th (900 used by then): a reading each day
        api_server.quota_used = 900 + 100 * (day - 10)
        clock.set(clock.now().replace(day=day))
        assert tasks.sample_line_quota() is not None
    quota_request = api_server.matching("GET", r"^/v2/bot/message/quota$")[0]
    assert quota_request.headers["authorization"] == "Bearer line-test-token"
    assert api_server.matching("GET", r"^/v2/bot/message/quota/consumption$")
    with runtime.db.transaction() as session:
        forecast = line_quota.forecast(session, now=clock.now(), tz=runtime.config.tz)
    assert (forecast.consumed, forecast.limit, forecast.per_day) == (1700, 3000, 100.0)
    assert forecast.month_end == 1700 + 100 * 12  # 12 days left after 18 November
    assert _alerts(runtime) == []

    api_server.quota_used = 2450  # 81.7 %
    tasks.sample_line_quota()
    tasks.sample_line_quota()
    alerts = _alerts(runtime)
    assert len(alerts) == 1 and alerts[0][:2] == (admin.id, "warning") and "82%" in alerts[0][2]
    api_server.quota_used = 2900  # 96.7 %
    tasks.sample_line_quota()
    assert [a[1] for a in _alerts(runtime)] == ["warning", "error"]
    tasks.sample_line_quota()
    assert len(_alerts(runtime)) == 2
    clock.set(clock.now().replace(month=12, day=1))  # a new month warns afresh
    tasks.sample_line_quota()
    assert len(_alerts(runtime)) == 3


def test_a_spent_quota_holds_replies_until_it_allows_or_staff_handle_them(  # type: ignore[no-untyped-def]
    app, runtime: Runtime, api_server: FakeApiServer, clock: FrozenClock
) -> None:
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=clock.now(), username="somsri", role="agent")
        ticket = factories.ticket(session, now=clock.now(), channel="line")
        number = ticket.number
        first = tickets.reply(session, ticket, body="คำตอบที่หนึ่ง", now=clock.now())
        second = tickets.reply(session, ticket, body="คำตอบที่สอง", now=clock.now())
        first_id, second_id = first.id, second.id
        outbox_ids = [o.id for o in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    api_server.quota_limit, api_server.quota_used = 100, 100
    for outbox_id in outbox_ids:
        assert delivery.deliver(runtime, outbox_id) == "pending"
    assert len(api_server.matching("POST", r"/v2/bot/message/push$", status=429)) == 2
    with runtime.db.transaction() as session:
        row = session.get(OutboxMessage, outbox_ids[0])
        assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(hours=1)
        assert "โควตาข้อความ LINE หมด" in session.get(Message, first_id).delivery_error

    desk = app.test_client()
    login(desk, "somsri")
    page = desk.get(f"/tickets/{number}").get_data(as_text=True)
    assert page.count("quota-held") == 2 and "โควตาข้อความ LINE หมด — " in page
    assert f"/messages/{second_id}/handled-elsewhere" in page
    token = _token(desk, f"/tickets/{number}")
    desk.post(f"/tickets/{number}/messages/{second_id}/handled-elsewhere", data={"csrf_token": token})
    assert desk.post(f"/tickets/{number}/messages/999999/handled-elsewhere", data={"csrf_token": token}
                     ).status_code == 404  # fmt: skip

    clock.advance(minutes=30)  # not due yet: nothing is tried
    assert delivery.deliver(runtime, outbox_ids[0]) is None
    api_server.quota_limit = 1000  # the office bought more, or the month turned
    clock.advance(minutes=31)
    assert delivery.deliver(runtime, outbox_ids[0]) == "sent"
    assert delivery.deliver(runtime, outbox_ids[1]) is None  # handled elsewhere: never sent
    pushed = [r.json["messages"][0]["text"] for r in api_server.matching("POST", r"/push$", status=200)]
    assert pushed == ["คำตอบที่หนึ่ง"]
    with runtime.db.transaction() as session:
        assert session.get(Message, first_id).delivery_status == "sent"
        assert session.get(Message, second_id).delivery_status == "not_sent"
        assert session.get(OutboxMessage, outbox_ids[1]).status == "not_sent"
        audited = select(AuditEntry.actor).where(AuditEntry.action == "outbox.handled_elsewhere")
        assert session.scalar(audited) == "somsri"
    # Marking it again is refused, and says why.
    again = desk.post(f"/tickets/{number}/messages/{second_id}/handled-elsewhere", data={"csrf_token": token})
    assert "ไม่ได้รอส่ง" in desk.get(again.headers["Location"]).get_data(as_text=True)


def test_the_quota_page_is_for_admins_and_refresh_is_limited(  # type: ignore[no-untyped-def]
    app, runtime: Runtime, api_server: FakeApiServer
) -> None:
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="admin1", role="admin")
        factories.staff_user(session, now=runtime.clock.now(), username="boss", role="supervisor")
    api_server.quota_limit, api_server.quota_used = 500, 420
    tasks.sample_line_quota()
    boss = app.test_client()
    login(boss, "boss")
    assert boss.get("/admin/line-quota").status_code == 403
    admin = app.test_client()
    login(admin, "admin1")
    page = admin.get("/admin/line-quota").get_data(as_text=True)
    assert "420" in page and "500" in page and "84%" in page
    token = _token(admin, "/admin/line-quota")
    first = admin.post("/admin/line-quota/refresh", data={"csrf_token": token})
    assert "ขออ่านโควตาจาก LINE แล้ว" in admin.get(first.headers["Location"]).get_data(as_text=True)
    second = admin.post("/admin/line-quota/refresh", data={"csrf_token": token})
    assert "นาทีละครั้ง" in admin.get(second.headers["Location"]).get_data(as_text=True)
    assert runtime.queue.count == 1  # one reading queued, not two
