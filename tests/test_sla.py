"""The SLA queue: warnings at each lead time, escalation, exactly once, rebuild, reopen, fractions.

Real Redis and database; time moves only with the FrozenClock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from sqlalchemy import func, select

from clinic import settings, sla, sla_schedule, sla_warnings, staff_link, tasks, tickets
from clinic.clock import FrozenClock
from clinic.config import Config
from clinic.db import Database
from clinic.models import LineGroup, OutboxMessage, SlaNotice, StaffAlert, StaffUser, Ticket
from clinic.runtime import Runtime
from tests import factories
from tests.conftest import T0

GROUP = "C0123456789abcdef0123456789abcdef"
REPO = Path(__file__).resolve().parent.parent


def _link(session, user: StaffUser, line_user_id: str) -> None:  # type: ignore[no-untyped-def]
    """Link a LINE account the way staff do: a one-time code from the desk, sent to the bot."""
    code = staff_link.issue_code(session, user, now=T0)
    assert staff_link.redeem(session, code=code, line_user_id=line_user_id, now=T0) is user


def _notices(runtime: Runtime) -> list[tuple[int, str, object, object]]:
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(SlaNotice.ticket_id, SlaNotice.kind, SlaNotice.scheduled_for, SlaNotice.due_at).order_by(
                SlaNotice.id
            )
        ).all()
    return [tuple(row) for row in rows]


def _outbox(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _alerts(runtime: Runtime) -> list[StaffAlert]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(StaffAlert).order_by(StaffAlert.id)))


def _open(runtime: Runtime, **kwargs: object) -> Ticket:
    with runtime.db.transaction() as session:
        return factories.ticket(session, now=runtime.clock.now(), **kwargs)  # type: ignore[arg-type]


# --- the schedule ---------------------------------------------------------------------


def test_schedule_of_one_ticket() -> None:
    timings = settings.SlaSettings(hours=24, warn_hours=(6, 2), repeat_hours=4)
    due = T0 + timedelta(hours=24)
    kinds = []
    after = None
    for _ in range(5):
        notice = sla_schedule.first_after(T0, due, timings, after)
        kinds.append((notice.kind, notice.at - T0, notice.escalation))
        after = notice.at
    assert kinds == [
        ("warn-6", timedelta(hours=18), False),
        ("warn-2", timedelta(hours=22), False),
        ("due", timedelta(hours=24), True),
        ("repeat-1", timedelta(hours=28), True),
        ("repeat-2", timedelta(hours=32), True),
    ]
    assert sla_schedule.latest_until(T0, due, timings, T0 + timedelta(hours=17, minutes=59)) is None
    assert sla_schedule.latest_until(T0, due, timings, T0 + timedelta(hours=23)).kind == "warn-2"
    assert sla_schedule.latest_until(T0, due, timings, T0 + timedelta(hours=27, minutes=59)).kind == "due"
    assert sla_schedule.latest_until(T0, due, timings, T0 + timedelta(hours=33)).kind == "repeat-2"
    # A lead time reaching back past the clock's start is skipped rather than warning at once.
    short = settings.SlaSettings(hours=1, warn_hours=(6, 0.5), repeat_hours=0.25)
    assert sla_schedule.first_after(T0, T0 + timedelta(hours=1), short).kind == "warn-0.5"


def test_open_puts_deadline_and_first_warning_in_redis(runtime: Runtime) -> None:
    ticket = _open(runtime)
    assert runtime.redis.zscore(sla.due_key(runtime), str(ticket.id)) == ticket.due_at.timestamp()
    first = T0 + timedelta(hours=18)
    assert runtime.redis.zscore(sla.next_key(runtime), str(ticket.id)) == first.timestamp()
    assert sla.ordered_ids(runtime) == [(ticket.id, ticket.due_at.timestamp())]


# --- warnings -------------------------------------------------------------------------


@pytest.fixture
def staffed(runtime: Runtime) -> Iterator[dict[str, object]]:
    """A staff LINE group, an assignee and a supervisor with linked LINE accounts, and one open ticket."""
    with runtime.db.transaction() as session:
        session.add(LineGroup(group_id="Cold-group", joined_at=T0 - timedelta(days=30), left_at=T0 - timedelta(days=1)))
        session.add(LineGroup(group_id=GROUP, joined_at=T0 - timedelta(days=2)))
        agent = factories.staff_user(session, now=T0, username="somsri")
        boss = factories.staff_user(session, now=T0, username="boss", role="supervisor")
        factories.staff_user(session, now=T0, username="unlinked", role="supervisor")
        gone = factories.staff_user(session, now=T0, username="gone", role="supervisor")
        _link(session, agent, "Uagent")
        _link(session, boss, "Uboss")
        _link(session, gone, "Ugone")
        gone.active = False
        ticket = factories.ticket(session, now=T0, body="ขอสอบถามการลงทะเบียนรับหนังสือ\nรายละเอียด")
        tickets.assign(session, ticket, assignee=agent, now=T0)
    yield {"ticket": ticket}


def test_warnings_at_each_lead_time_then_escalation(runtime: Runtime, clock: FrozenClock, staffed: dict) -> None:
    ticket: Ticket = staffed["ticket"]
    clock.set(T0 + timedelta(hours=17, minutes=59))
    assert sla.sweep(runtime).sent == 0
    assert _notices(runtime) == []

    clock.set(T0 + timedelta(hours=18, seconds=10))
    assert sla.sweep(runtime).sent == 1
    assert sla.sweep(runtime).sent == 0  # a second sweep at the same moment sends nothing
    sent = _outbox(runtime)
    assert [(m.recipient, m.kind, m.channel, m.ticket_id) for m in sent] == [
        (GROUP, "sla_warning", "line", ticket.id),
        ("Uagent", "sla_warning", "line", ticket.id),
    ]
    text = sent[0].payload[0]["text"]
    assert text.startswith("⏰ ใกล้ครบกำหนด: เรื่อง CL-2569-00001 เหลือเวลา 5 ชม. 59 นาที")
    assert "SLA warning" in text
    assert "หน่วยงาน / Agency: สำนักงานเขตพระนคร" in text
    assert "หัวข้อ / Topic: ด้านสารบรรณ" in text
    assert "เรื่อง / Question: ขอสอบถามการลงทะเบียนรับหนังสือ" in text
    assert "ครบกำหนด / Due: 26 พ.ย. 2569 10:00 น." in text
    assert "ผู้รับผิดชอบ / Assignee: somsri" in text
    assert f"{runtime.config.base_url}/tickets/CL-2569-00001" in text
    alerts = _alerts(runtime)
    assert [(a.level, a.ticket_id, a.staff_id) for a in alerts] == [("warning", ticket.id, None)]
    assert alerts[0].text.startswith("⏰ ใกล้ครบกำหนด: เรื่อง CL-2569-00001")

    clock.set(T0 + timedelta(hours=22))
    assert sla.sweep(runtime).sent == 1
    clock.set(T0 + timedelta(hours=24, seconds=5))
    assert sla.sweep(runtime).sent == 1
    due_messages = _outbox(runtime)[4:]
    # From the deadline on, the active linked supervisor is told too (not the inactive or unlinked ones).
    assert [m.recipient for m in due_messages] == [GROUP, "Uagent", "Uboss"]
    assert due_messages[0].payload[0]["text"].startswith("🚨 ครบกำหนดแล้ว ยังไม่ปิดเรื่อง: CL-2569-00001")
    assert "แจ้งผู้บังคับบัญชาแล้ว / Supervisors notified" in due_messages[0].payload[0]["text"]

    clock.set(T0 + timedelta(hours=28, minutes=1))
    assert sla.sweep(runtime).sent == 1
    repeat = _outbox(runtime)[-1].payload[0]["text"]
    assert repeat.startswith("🚨 เกินกำหนด 4 ชม. 1 นาที: เรื่อง CL-2569-00001 / SLA overdue by 4 h 1 min")
    due_at = ticket.due_at
    assert _notices(runtime) == [
        (ticket.id, "warn-6", T0 + timedelta(hours=18), due_at),
        (ticket.id, "warn-2", T0 + timedelta(hours=22), due_at),
        (ticket.id, "due", due_at, due_at),
        (ticket.id, "repeat-1", due_at + timedelta(hours=4), due_at),
    ]
    assert [a.level for a in _alerts(runtime)] == ["warning", "warning", "overdue", "overdue"]
    # The next one waits for its time.
    assert runtime.redis.zscore(sla.next_key(runtime), str(ticket.id)) == (due_at + timedelta(hours=8)).timestamp()


def test_tick_runs_the_sla_sweep(runtime: Runtime, clock: FrozenClock, staffed: dict) -> None:
    clock.set(T0 + timedelta(hours=18))
    tasks.tick()
    assert [kind for _, kind, _, _ in _notices(runtime)] == ["warn-6"]


def test_after_an_outage_one_warning_tells_where_the_ticket_stands(runtime: Runtime, clock: FrozenClock) -> None:
    ticket = _open(runtime)
    clock.set(T0 + timedelta(hours=25))  # the worker was down through both warnings and the deadline
    assert sla.sweep(runtime).sent == 1
    assert [kind for _, kind, _, _ in _notices(runtime)] == ["due"]
    assert runtime.redis.zscore(sla.next_key(runtime), str(ticket.id)) == (T0 + timedelta(hours=28)).timestamp()


def test_nobody_reachable_still_leaves_a_desk_alert(runtime: Runtime, clock: FrozenClock) -> None:
    ticket = _open(runtime)
    clock.set(T0 + timedelta(hours=24))
    assert sla.sweep(runtime).sent == 1
    assert _outbox(runtime) == []
    assert [(a.level, a.ticket_id) for a in _alerts(runtime)] == [("overdue", ticket.id)]


def test_configured_staff_group_wins_over_the_last_joined(
    config_env: dict[str, str], database: Database, runtime: Runtime, clock: FrozenClock
) -> None:
    configured = Runtime(Config.from_env({**config_env, "STAFF_LINE_GROUP_ID": "Cconfigured"}), clock=clock,
                         database=database)  # fmt: skip
    with configured.db.transaction() as session:
        session.add(LineGroup(group_id=GROUP, joined_at=T0))
        factories.ticket(session, now=T0)
    clock.set(T0 + timedelta(hours=18))
    assert sla.sweep(configured).sent == 1
    assert [m.recipient for m in _outbox(configured)] == ["Cconfigured"]


def test_admin_timings_from_the_desk_drive_the_warnings(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.db.transaction() as session:
        admin = factories.staff_user(session, now=T0, username="admin", role="admin")
        settings.set_sla(session, now=T0, staff=admin, hours=8, warn_hours=(3,), repeat_hours=1)
    ticket = _open(runtime)
    clock.set(T0 + timedelta(hours=5))
    sla.sweep(runtime)
    clock.set(T0 + timedelta(hours=9))
    sla.sweep(runtime)
    assert [(kind, at) for _, kind, at, _ in _notices(runtime)] == [
        ("warn-3", T0 + timedelta(hours=5)),
        ("repeat-1", T0 + timedelta(hours=9)),
    ]
    assert ticket.due_at == T0 + timedelta(hours=8)


# --- close cancels, reopen restarts ----------------------------------------------------


def test_no_warning_after_close(runtime: Runtime, clock: FrozenClock) -> None:
    quiet = _open(runtime)
    warned = _open(runtime)
    clock.set(T0 + timedelta(hours=1))
    with runtime.db.transaction() as session:
        tickets.close(session, session.get(Ticket, quiet.id), now=clock.now())
    clock.set(T0 + timedelta(hours=18))
    assert sla.sweep(runtime).sent == 1
    with runtime.db.transaction() as session:
        tickets.close(session, session.get(Ticket, warned.id), now=clock.now())
    assert runtime.redis.zcard(sla.next_key(runtime)) == 0
    assert runtime.redis.zcard(sla.due_key(runtime)) == 0
    for hours in (22, 24, 28, 40):
        clock.set(T0 + timedelta(hours=hours))
        assert sla.sweep(runtime).sent == 0
    assert [(ticket_id, kind) for ticket_id, kind, _, _ in _notices(runtime)] == [(warned.id, "warn-6")]


def test_sweep_rechecks_the_database_when_redis_missed_a_close(runtime: Runtime, clock: FrozenClock) -> None:
    ticket = _open(runtime)
    with runtime.db.transaction() as session:
        tickets.close(session, session.get(Ticket, ticket.id), now=T0)
    sla.rebuild(runtime)  # the worker started
    # As if the close's after-commit update never reached Redis.
    runtime.redis.zadd(sla.next_key(runtime), {str(ticket.id): (T0 + timedelta(hours=18)).timestamp()})
    runtime.redis.zadd(sla.due_key(runtime), {str(ticket.id): ticket.due_at.timestamp()})
    clock.set(T0 + timedelta(hours=18))
    assert sla.sweep(runtime) == sla.SweepResult(claimed=1, sent=0)
    assert runtime.redis.zcard(sla.next_key(runtime)) == 0
    assert runtime.redis.zcard(sla.due_key(runtime)) == 0


def test_reopen_gives_a_new_deadline_and_a_new_round_of_warnings(runtime: Runtime, clock: FrozenClock) -> None:
    ticket = _open(runtime)
    clock.set(T0 + timedelta(hours=24))
    assert sla.sweep(runtime).sent == 1  # the first cycle's deadline
    clock.set(T0 + timedelta(hours=25))
    with runtime.db.transaction() as session:
        tickets.close(session, session.get(Ticket, ticket.id), now=clock.now())
    clock.set(T0 + timedelta(hours=30))
    with runtime.db.transaction() as session:
        reopened = tickets.reopen(session, session.get(Ticket, ticket.id), now=clock.now())
    new_due = T0 + timedelta(hours=54)  # the reopen rule: reopened_at + SLA_HOURS
    assert reopened.due_at == new_due and reopened.sla_missed_before
    assert runtime.redis.zscore(sla.due_key(runtime), str(ticket.id)) == new_due.timestamp()
    assert runtime.redis.zscore(sla.next_key(runtime), str(ticket.id)) == (new_due - timedelta(hours=6)).timestamp()
    clock.set(T0 + timedelta(hours=47))
    assert sla.sweep(runtime).sent == 0
    for hours in (48, 52, 54):
        clock.set(T0 + timedelta(hours=hours))
        assert sla.sweep(runtime).sent == 1
    assert [(kind, due) for _, kind, _, due in _notices(runtime)] == [
        ("due", T0 + timedelta(hours=24)),
        ("warn-6", new_due),
        ("warn-2", new_due),
        ("due", new_due),
    ]


# --- exactly once --------------------------------------------------------------------


def test_exactly_once_with_two_workers(runtime: Runtime, config: Config, database_url: str, clock: FrozenClock) -> None:
    with runtime.db.transaction() as session:
        session.add(LineGroup(group_id=GROUP, joined_at=T0))
        opened = [factories.ticket(session, now=T0 + timedelta(seconds=i)).id for i in range(60)]
    sla.rebuild(runtime)
    workers = [Runtime(config, clock=clock, database=Database(database_url)) for _ in range(2)]
    start = threading.Barrier(2)
    results: list[sla.SweepResult] = []
    errors: list[BaseException] = []

    def work(worker: Runtime) -> None:
        try:
            start.wait()
            results.append(sla.sweep(worker, batch_size=7))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    clock.set(T0 + timedelta(hours=19))
    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for worker in workers:
        worker.close()
    assert errors == []
    assert sum(r.sent for r in results) == 60
    assert sorted(ticket_id for ticket_id, _, _, _ in _notices(runtime)) == opened
    assert len(_outbox(runtime)) == 60


def test_the_database_guard_holds_when_redis_forgets(runtime: Runtime, clock: FrozenClock) -> None:
    ticket = _open(runtime)
    clock.set(T0 + timedelta(hours=18))
    assert sla.sweep(runtime).sent == 1
    # A stale Redis (lost lease, restored snapshot) offers the ticket again: nothing is repeated.
    runtime.redis.zadd(sla.next_key(runtime), {str(ticket.id): 0})
    assert sla.sweep(runtime) == sla.SweepResult(claimed=1, sent=0)
    # Two workers that both got past Redis with the same notice: the unique row lets one through.
    notice = sla_schedule.Notice("warn-2", T0 + timedelta(hours=22))
    outcomes = []
    for _ in range(2):
        with runtime.db.transaction() as session:
            row = session.get(Ticket, ticket.id)
            audience = sla_warnings.audience(session, runtime.config)
            outcomes.append(sla_warnings.send(session, row, notice, now=clock.now(), config=runtime.config,
                                              audience=audience))  # fmt: skip
    assert outcomes == [True, False]
    assert [kind for _, kind, _, _ in _notices(runtime)] == ["warn-6", "warn-2"]
    assert len(_alerts(runtime)) == 2


# --- rebuild -------------------------------------------------------------------------


def _redis_db(url: str, number: int) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={number}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


@pytest.fixture
def flushable(config_env: dict[str, str], database: Database, runtime: Runtime, clock: FrozenClock) -> Iterator:
    """A runtime on Redis database 9, which this test may flush (database 0 is shared)."""
    env = {**config_env, "REDIS_URL": _redis_db(config_env["REDIS_URL"], 9)}
    rt = Runtime(Config.from_env(env), clock=clock, database=database)
    rt.redis.flushdb()
    yield rt, env
    rt.redis.flushdb()
    rt.redis.close()


def test_rebuild_after_flushdb_loses_no_deadline_and_repeats_no_warning(flushable: tuple, clock: FrozenClock) -> None:
    rt, _ = flushable
    with rt.db.transaction() as session:
        early = factories.ticket(session, now=T0)
        late = factories.ticket(session, now=T0 + timedelta(hours=3))
        closed = factories.ticket(session, now=T0)
        tickets.close(session, closed, now=T0)
    clock.set(T0 + timedelta(hours=19))
    assert sla.sweep(rt).sent == 1  # early's warn-6
    queue_before = sla.ordered_ids(rt)
    next_before = rt.redis.zrange(sla.next_key(rt), 0, -1, withscores=True)

    rt.redis.flushdb()
    assert sla.rebuild(rt) == 2
    assert (
        sla.ordered_ids(rt)
        == queue_before
        == [
            (early.id, (T0 + timedelta(hours=24)).timestamp()),
            (late.id, (T0 + timedelta(hours=27)).timestamp()),
        ]
    )
    assert rt.redis.zrange(sla.next_key(rt), 0, -1, withscores=True) == next_before
    assert sla.sweep(rt).sent == 0

    # Flushed again while the worker runs: the next sweep notices and rebuilds on its own.
    rt.redis.flushdb()
    assert sla.sweep(rt).sent == 0
    assert len(sla.ordered_ids(rt)) == 2
    clock.set(T0 + timedelta(hours=22))
    assert sla.sweep(rt).sent == 2  # early's warn-2 and late's warn-6
    assert sorted((t, k) for t, k, _, _ in _notices(rt)) == sorted(
        [(early.id, "warn-6"), (early.id, "warn-2"), (late.id, "warn-6")]
    )


def test_clinic_sla_rebuild_command(flushable: tuple) -> None:
    rt, env = flushable
    with rt.db.transaction() as session:
        for _ in range(3):
            factories.ticket(session, now=T0)
    rt.redis.flushdb()
    command = [str(Path(sys.executable).parent / "clinic"), "sla", "rebuild"]
    done = subprocess.run(command, env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "สร้างคิว SLA ใหม่แล้ว: 3 เรื่องที่ยังเปิดอยู่ / SLA queue rebuilt: 3 open tickets"
    assert len(sla.ordered_ids(rt)) == 3
    assert rt.redis.zcard(sla.next_key(rt)) == 3


def test_clinic_sla_rebuild_without_redis_fails_clearly(config_env: dict[str, str]) -> None:
    env = {**os.environ, **config_env, "REDIS_URL": "redis://127.0.0.1:1/0"}
    command = [str(Path(sys.executable).parent / "clinic"), "sla", "rebuild"]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ติดต่อ Redis ไม่ได้ / Redis is unreachable" in done.stderr


# --- fractional hours: the whole cycle in minutes ---------------------------------------


def test_fractional_hours_run_the_whole_cycle_in_minutes(
    config_env: dict[str, str], database: Database, runtime: Runtime, clock: FrozenClock
) -> None:
    env = {**config_env, "SLA_HOURS": "0.05", "SLA_WARN_HOURS": "0.03,0.01", "SLA_REPEAT_HOURS": "0.02"}
    fast = Runtime(Config.from_env(env), clock=clock, database=database)
    with fast.db.transaction() as session:
        ticket = factories.ticket(session, now=T0)
    assert ticket.due_at == T0 + timedelta(minutes=3)
    # The worker ticks every 15 s; walk six minutes of ticks.
    for _ in range(6 * 4):
        clock.advance(seconds=tasks.TICK_SECONDS)
        sla.sweep(fast)
    due = ticket.due_at
    with fast.db.transaction() as session:
        rows = session.execute(select(SlaNotice.kind, SlaNotice.scheduled_for, SlaNotice.created_at)).all()
    assert [(kind, at) for kind, at, _ in rows] == [
        ("warn-0.03", due - timedelta(seconds=108)),
        ("warn-0.01", due - timedelta(seconds=36)),
        ("due", due),
        ("repeat-1", due + timedelta(seconds=72)),
        ("repeat-2", due + timedelta(seconds=144)),
    ]
    # Each went out at the first tick at or after its time: never more than one tick late.
    assert all(timedelta(0) <= created - at < timedelta(seconds=tasks.TICK_SECONDS) for _, at, created in rows)
    fast.redis.close()


def test_a_dead_redis_does_not_stop_a_ticket_from_opening(config_env: dict[str, str], database: Database,
                                                          runtime: Runtime) -> None:  # fmt: skip
    down = Runtime(Config.from_env({**config_env, "REDIS_URL": "redis://127.0.0.1:1/0"}), database=database)
    with down.db.transaction() as session:
        factories.ticket(session, now=T0)
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    # The next rebuild (worker start, or the sweep after a flush) restores it.
    assert sla.rebuild(runtime) == 1
    with pytest.raises(redis.RedisError):
        down.redis.ping()


# --- end to end: the bot learns the group and the staff account, the worker delivers ----


def test_warning_reaches_the_staff_group_and_the_assignee_on_line(
    runtime: Runtime,
    clock: FrozenClock,
    client,
    api_server,  # type: ignore[no-untyped-def]
) -> None:
    from tests.bot_support import line_body, line_event, line_text, post_line, run_jobs

    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=T0, username="somsri")
        code = staff_link.issue_code(session, agent, now=T0)
    group_joined = line_event("join", source={"type": "group", "groupId": GROUP})
    assert post_line(client, line_body(group_joined, line_text(f"เชื่อมบัญชี {code}", user="Ustaff1"))).status_code == 200
    run_jobs(runtime)
    with runtime.db.transaction() as session:
        assert session.get(StaffUser, agent.id).line_user_id == "Ustaff1"
        ticket = factories.ticket(session, now=T0)
        tickets.assign(session, ticket, assignee=session.get(StaffUser, agent.id), now=T0)
    api_server.requests.clear()

    clock.set(T0 + timedelta(hours=18))
    tasks.tick()
    run_jobs(runtime)
    pushes = {r.json["to"]: r.json["messages"] for r in api_server.matching("POST", "/v2/bot/message/push")}
    assert set(pushes) == {GROUP, "Ustaff1"}
    assert pushes[GROUP][0]["type"] == "text"
    assert pushes[GROUP][0]["text"].startswith("⏰ ใกล้ครบกำหนด: เรื่อง CL-2569-00001 เหลือเวลา 6 ชม.")
    assert all(m.status == "sent" for m in _outbox(runtime))
