"""Retention: safe defaults, the dry run's counts, the sweep at most once a day, and `clinic retention`."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from clinic import retention, tasks, tickets
from clinic.clock import FrozenClock
from clinic.models import Attachment, InboundEvent, Message, Requester, Ticket
from clinic.requester_data import ERASED_TEXT
from clinic.runtime import Runtime
from clinic.tickets import NewAttachment
from tests import factories

YEAR = timedelta(days=365)


def _history(runtime: Runtime) -> dict[str, int]:
    """An old closed consultation (6 years ago), a recent one, and webhook events old and new."""
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        old_requester = factories.requester(session, now=now - 6 * YEAR, user_id="U-old", display_name="คุณเก่า")
        old_requester.last_inbound_at = now - 6 * YEAR
        old = tickets.open_ticket(session, requester=old_requester, topic_code="saraban", body="คำถามเมื่อหกปีก่อน",
                                  now=now - 6 * YEAR, attachments=[NewAttachment("file", "a.pdf", "application/pdf",
                                                                                 b"%PDF-old")])  # fmt: skip
        tickets.close(session, old, now=now - 6 * YEAR + timedelta(hours=2), final_answer="คำตอบเก่า")
        recent = factories.ticket(session, now=now - YEAR, body="คำถามเมื่อปีก่อน", user_id="U-recent")
        tickets.close(session, recent, now=now - YEAR + timedelta(hours=1), final_answer="คำตอบ")
        for key, age, status in (("e-old", 40, "processed"), ("e-new", 5, "processed"), ("e-pending", 40, "pending")):
            at = now - timedelta(days=age)
            session.add(InboundEvent(channel="line", event_key=key, event_type="message", status=status,
                                     payload={"source": {"userId": "U-x"}}, received_at=at,
                                     processed_at=at if status == "processed" else None))  # fmt: skip
        return {"old": old.id, "recent": recent.id, "old_requester": old_requester.id}


def test_dry_run_counts_and_apply_anonymises_only_what_is_past_retention(runtime: Runtime) -> None:
    ids = _history(runtime)
    with runtime.db.transaction() as session:
        assert retention.current(session) == retention.RetentionSettings(webhook_days=30, message_years=5)
        planned = retention.apply(session, now=runtime.clock.now(), dry_run=True)
    assert planned.webhook_events == 1 and planned.tickets == 1 and planned.attachments == 1
    assert planned.messages == 2 and planned.requesters == 1  # the question and the final answer
    with runtime.db.transaction() as session:  # the dry run changed nothing
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 3
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1

    with runtime.db.transaction() as session:
        done = retention.apply(session, now=runtime.clock.now())
    assert done.as_dict() == planned.as_dict()
    with runtime.db.transaction() as session:
        assert sorted(session.scalars(select(InboundEvent.event_key))) == ["e-new", "e-pending"]
        old, recent = session.get(Ticket, ids["old"]), session.get(Ticket, ids["recent"])
        assert old.subject == "" and {m.body for m in old.messages if m.kind != "system"} == {ERASED_TEXT}
        assert old.status == "closed" and old.topic_code == "saraban"
        assert "คำถามเมื่อปีก่อน" in [m.body for m in recent.messages]
        assert session.get(Requester, ids["old_requester"]).channel_user_id.startswith("erased:")
        # A second pass finds nothing left to do.
        assert sum(retention.apply(session, now=runtime.clock.now(), dry_run=True).as_dict().values()) == 0


def test_the_daily_sweep_runs_once_a_day_even_across_restarts(runtime: Runtime, clock: FrozenClock) -> None:
    _history(runtime)
    tasks.tick()
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 2
        assert session.get(retention.Setting, retention.KEY_LAST_RUN).value == "2026-11-25"
    # A restart loses Redis' marker, not the day recorded in the database.
    runtime.redis.delete(runtime.key("retention:2026-11-25"))
    assert retention.sweep(runtime) is None
    clock.advance(timedelta(days=1))
    assert retention.sweep(runtime) is not None


def test_admin_sets_retention_with_limits(app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from tests.test_desk_pages import _token, login

    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="admin1", role="admin")
        factories.staff_user(session, now=runtime.clock.now(), username="boss", role="supervisor")
    admin = app.test_client()
    login(admin, "admin1")
    token = _token(admin, "/admin/retention")
    refused = admin.post("/admin/retention", data={"webhook_days": "0", "message_years": "5", "csrf_token": token})
    assert "1 ถึง 365" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    admin.post("/admin/retention", data={"webhook_days": "14", "message_years": "3", "csrf_token": token})
    with runtime.db.transaction() as session:
        assert retention.current(session) == retention.RetentionSettings(14, 3)
    boss = app.test_client()
    login(boss, "boss")
    assert boss.post("/admin/retention", data={"webhook_days": "1", "csrf_token": token}).status_code in (400, 403)


def test_clinic_retention_dry_run_prints_counts_per_kind(runtime: Runtime, config_env: dict[str, str]) -> None:
    from manage import cli

    _history(runtime)  # six years before the frozen clock: also past retention by the real clock
    result = CliRunner().invoke(cli, ["retention", "--dry-run"], env=config_env)
    assert result.exit_code == 0, result.output
    assert "Attachments: 1" in result.output and "Requesters anonymised: 1" in result.output
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
        assert session.scalar(select(func.count()).where(Message.body == ERASED_TEXT)) == 0
    result = CliRunner().invoke(cli, ["retention"], env=config_env)
    assert result.exit_code == 0 and "Attachments: 1" in result.output
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
