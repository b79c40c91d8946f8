from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import func, select

from clinic import sla, tickets
from clinic.models import AuditEntry, Message, OutboxMessage, Ticket
from clinic.runtime import Runtime
from tests import factories


def test_open_ticket_numbers_and_deadline(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        first = factories.ticket(session, now=now)
        second = factories.ticket(session, now=now + timedelta(minutes=1))
        assert first.number == "CL-2569-00001"
        assert second.number == "CL-2569-00002"
        assert first.due_at == now + timedelta(hours=24)
        assert first.status == "open"
        assert first.agency_type_code == "district"
        assert first.agency_name == "สำนักงานเขตพระนคร"
        assert [m.kind for m in first.messages] == ["inbound"]
        assert first.subject == "ขอสอบถามการลงทะเบียนรับหนังสือ"


def test_numbering_restarts_each_buddhist_era_year_in_bangkok_time(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    with runtime.db.transaction() as session:
        late_2026 = datetime(2026, 12, 31, 16, 59, tzinfo=UTC)  # 23:59 Bangkok, 31 Dec 2569
        new_year = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 00:00 Bangkok, 1 Jan 2570
        assert factories.ticket(session, now=late_2026).number == "CL-2569-00001"
        assert factories.ticket(session, now=new_year).number == "CL-2570-00001"
        assert factories.ticket(session, now=new_year).number == "CL-2570-00002"


def test_open_puts_the_deadline_in_the_redis_queue_only_after_commit(runtime: Runtime) -> None:
    now = runtime.clock.now()
    key = sla.due_key(runtime)
    with pytest.raises(RuntimeError):
        with runtime.db.transaction() as session:
            factories.ticket(session, now=now)
            raise RuntimeError("roll back")
    assert runtime.redis.zcard(key) == 0
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
    assert runtime.redis.zscore(key, str(ticket.id)) == ticket.due_at.timestamp()


def test_reply_queues_delivery_and_marks_answered(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=now)
        ticket = factories.ticket(session, now=now)
        message = tickets.reply(
            session, ticket, body="  ตอบตามระเบียบข้อ 12  ", now=now + timedelta(hours=1), staff=agent
        )
        assert message.body == "ตอบตามระเบียบข้อ 12"
        assert ticket.status == "answered"
        assert ticket.first_response_at == now + timedelta(hours=1)
    with runtime.db.transaction() as session:
        item = session.scalar(select(OutboxMessage))
        assert item is not None
        assert (item.channel, item.kind, item.human_agent) == ("line", "reply", True)
        assert item.payload == [{"text": "ตอบตามระเบียบข้อ 12"}]
        assert item.message_id == message.id
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "ticket.reply" in actions
    jobs = Queue(runtime.config.queue_name, connection=runtime.redis).jobs
    assert [(job.func_name, job.args) for job in jobs] == [("bot.tasks.deliver_outbox", (item.id,))]


def test_requester_follow_up_reopens_the_staff_side(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        tickets.reply(session, ticket, body="คำตอบ", now=now)
        tickets.add_requester_message(session, ticket, body="ขอถามเพิ่ม", now=now)
        assert ticket.status == "open"


def test_note_is_never_sent(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=now)
        ticket = factories.ticket(session, now=now)
        tickets.add_note(session, ticket, body="ตรวจระเบียบข้อ 5 ก่อน", now=now, staff=agent)
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(Message.kind).where(Message.body.like("ตรวจ%"))) == "note"


def test_empty_reply_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        with pytest.raises(tickets.TicketError):
            tickets.reply(session, ticket, body="   ", now=now)
        assert ticket.status == "open"


def test_close_within_sla(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        tickets.close(session, ticket, now=now + timedelta(hours=23, minutes=59), final_answer="สรุปคำตอบ")
        assert ticket.status == "closed"
        assert ticket.completed_within_sla
        kinds = [m.kind for m in ticket.messages]
        assert kinds == ["inbound", "outbound", "system"]
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.completed_within_sla)) == 1
    assert runtime.redis.zcard(sla.due_key(runtime)) == 0


def test_close_late_misses_sla(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        tickets.close(session, ticket, now=now + timedelta(hours=24, seconds=1))
        assert not ticket.completed_within_sla
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.completed_within_sla)) == 0


def test_reopen_rule_new_clock_and_earlier_miss_sticks(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        on_time = factories.ticket(session, now=now)
        tickets.close(session, on_time, now=now + timedelta(hours=2))
        reopened_at = now + timedelta(days=3)
        tickets.reopen(session, on_time, now=reopened_at)
        assert on_time.status == "open" and on_time.closed_at is None
        assert on_time.due_at == reopened_at + timedelta(hours=24)
        assert on_time.reopen_count == 1
        tickets.close(session, on_time, now=reopened_at + timedelta(hours=5))
        assert on_time.completed_within_sla  # both cycles met their deadline

        late = factories.ticket(session, now=now)
        tickets.close(session, late, now=now + timedelta(hours=30))
        tickets.reopen(session, late, now=now + timedelta(hours=31))
        tickets.close(session, late, now=now + timedelta(hours=32))
        assert late.sla_missed_before
        assert not late.completed_within_sla  # the first cycle's miss stays
    assert runtime.redis.zcard(sla.due_key(runtime)) == 0


def test_lifecycle_guards(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        with pytest.raises(tickets.TicketError):
            tickets.reopen(session, ticket, now=now)
        tickets.close(session, ticket, now=now)
        for step in (
            lambda: tickets.close(session, ticket, now=now),
            lambda: tickets.reply(session, ticket, body="x", now=now),
            lambda: tickets.add_requester_message(session, ticket, body="x", now=now),
        ):
            with pytest.raises(tickets.TicketError):
                step()


def test_reclassify_and_assign_are_audited(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        supervisor = factories.staff_user(session, now=now, username="head", role="supervisor")
        agent = factories.staff_user(session, now=now)
        ticket = factories.ticket(session, now=now)
        tickets.reclassify(session, ticket, now=now, topic_code="ceremony", agency_type_code="bureau", staff=supervisor)
        tickets.assign(session, ticket, assignee=agent, now=now, staff=supervisor)
        assert (ticket.topic_code, ticket.agency_type_code, ticket.assignee_id) == ("ceremony", "bureau", agent.id)
        with pytest.raises(tickets.TicketError):
            tickets.reclassify(session, ticket, now=now, topic_code="nonsense")
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "ticket")).all()
        assert [(e.action, e.actor) for e in entries] == [("ticket.reclassify", "head"), ("ticket.assign", "head")]
        assert entries[0].detail["topic"] == ["saraban", "ceremony"]


def test_open_ticket_of_requester(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now)
        assert tickets.open_ticket_of(session, ticket.requester) is ticket
        tickets.close(session, ticket, now=now)
        assert tickets.open_ticket_of(session, ticket.requester) is None
        assert tickets.get_by_number(session, ticket.number) is ticket
