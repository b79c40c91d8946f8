"""Retention: how long webhook payloads, message texts and files are kept, and the daily sweep.

Defaults (an admin changes them on /admin/retention):
- webhook payloads: 30 days after they were processed. They are raw channel data (ids, texts)
  needed only to reprocess a failed event, which happens within hours;
- message texts and attachments: 5 years after a ticket closed, then the ticket is anonymised
  as in an erasure (`clinic.requester_data`). Five years covers the current and four previous
  fiscal years, the span audits and year-on-year KPI comparisons look back over, and the
  anonymous rows and scores stay for statistics beyond it. Requesters whose last ticket and
  last message are that old are anonymised too.

The sweep runs from the worker's tick at most once a Bangkok day; the day it last ran is kept in
the `settings` table, so a restarted worker does not repeat it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import FINISHED_STATUSES, InboundEvent, Message, Requester, Setting, StaffUser, Ticket
from clinic.requester_data import (
    ERASED_PREFIX,
    ERASED_TEXT,
    WRITTEN_KINDS,
    Removed,
    anonymise_requester,
    anonymise_tickets,
)
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

KEY_WEBHOOK_DAYS = "retention_webhook_days"
KEY_MESSAGE_YEARS = "retention_message_years"
KEY_LAST_RUN = "retention_last_run"
DEFAULT_WEBHOOK_DAYS = 30
DEFAULT_MESSAGE_YEARS = 5
DONE_EVENTS = ("processed", "ignored", "failed")
BATCH = 500


class RetentionError(ValueError):
    pass


@dataclass(frozen=True)
class RetentionSettings:
    webhook_days: int
    message_years: int


def current(session: Session) -> RetentionSettings:
    days, years = session.get(Setting, KEY_WEBHOOK_DAYS), session.get(Setting, KEY_MESSAGE_YEARS)
    return RetentionSettings(
        webhook_days=int(days.value) if days else DEFAULT_WEBHOOK_DAYS,
        message_years=int(years.value) if years else DEFAULT_MESSAGE_YEARS,
    )


def set_retention(session: Session, *, webhook_days: int, message_years: int, now: datetime,
                  staff: StaffUser) -> RetentionSettings:  # fmt: skip
    if not 1 <= webhook_days <= 365:
        raise RetentionError("วันเก็บข้อมูล webhook ต้องอยู่ระหว่าง 1 ถึง 365 / Webhook days must be 1 to 365")
    if not 1 <= message_years <= 20:
        raise RetentionError("ปีเก็บข้อความต้องอยู่ระหว่าง 1 ถึง 20 / Message years must be 1 to 20")
    for key, value in ((KEY_WEBHOOK_DAYS, webhook_days), (KEY_MESSAGE_YEARS, message_years)):
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=str(value), updated_at=now))
        else:
            row.value, row.updated_at = str(value), now
    audit.record(session, now=now, action="settings.retention", staff=staff, target_type="settings",
                 webhook_days=webhook_days, message_years=message_years)  # fmt: skip
    session.flush()
    return RetentionSettings(webhook_days, message_years)


def _message_cutoff(now: datetime, years: int) -> datetime:
    return now - timedelta(days=round(365.25 * years))


def apply(session: Session, *, now: datetime, dry_run: bool = False) -> Removed:
    """Remove (or with dry_run count) what is past its retention; the caller commits."""
    rules = current(session)
    removed = Removed()
    webhook_cutoff = now - timedelta(days=rules.webhook_days)
    old_events = InboundEvent.status.in_(DONE_EVENTS) & (
        func.coalesce(InboundEvent.processed_at, InboundEvent.received_at) < webhook_cutoff
    )
    removed.webhook_events = session.scalar(select(func.count()).where(old_events)) or 0
    if not dry_run:
        session.execute(delete(InboundEvent).where(old_events))

    cutoff = _message_cutoff(now, rules.message_years)
    old_tickets = session.scalars(
        select(Ticket.id).where(Ticket.status.in_(FINISHED_STATUSES), Ticket.closed_at < cutoff,
                                or_(Ticket.subject != "", Ticket.id.in_(_tickets_with_text())))
    ).all()  # fmt: skip
    for start in range(0, len(old_tickets), BATCH):
        removed.add(anonymise_tickets(session, old_tickets[start : start + BATCH], dry_run=dry_run))

    # A requester goes when nothing of theirs is recent: no ticket still open or closed after the cutoff.
    recent = select(Ticket.requester_id).where(or_(Ticket.status.not_in(FINISHED_STATUSES), Ticket.closed_at >= cutoff))
    stale = session.scalars(
        select(Requester).where(
            ~Requester.channel_user_id.startswith(ERASED_PREFIX),
            func.coalesce(Requester.last_inbound_at, Requester.created_at) < cutoff,
            Requester.id.not_in(recent),
        )
    ).unique()
    for requester in list(stale):
        removed.add(anonymise_requester(session, requester, dry_run=dry_run))
    return removed


def _tickets_with_text() -> Select[Any]:
    return select(Message.ticket_id).where(Message.kind.in_(WRITTEN_KINDS), Message.body != ERASED_TEXT)


def _today(runtime: Runtime) -> str:
    return runtime.clock.now().astimezone(runtime.config.tz).date().isoformat()


def sweep(runtime: Runtime) -> Removed | None:
    """The daily pass (from the worker's tick): at most once a Bangkok day, recorded in the database."""
    today = _today(runtime)
    with runtime.db.transaction() as session:
        last = session.get(Setting, KEY_LAST_RUN)
        if last is not None and last.value >= today:
            return None
    try:  # two workers ticking at once: one runs it
        if not runtime.redis.set(runtime.key(f"retention:{today}"), 1, nx=True, ex=3600):
            return None
    except redis.RedisError:
        return None
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        removed = apply(session, now=now)
        row = session.get(Setting, KEY_LAST_RUN)
        if row is None:
            session.add(Setting(key=KEY_LAST_RUN, value=today, updated_at=now))
        else:
            row.value, row.updated_at = today, now
        audit.record(session, now=now, action="retention.sweep", target_type="retention", removed=removed.as_dict())
    if any(removed.as_dict().values()):  # a quiet day says nothing: idle logs stay empty
        log.info("retention sweep: %s", removed.as_dict())
    return removed


# What each count of `Removed` is, in words (the desk translates these).
KIND_LABELS = {
    "webhook_events": "Webhook events (raw payloads)",
    "tickets": "Tickets anonymised",
    "messages": "Message texts",
    "attachments": "Attachments",
    "survey_suggestions": "Survey suggestions",
    "outbox": "Outbox texts",
    "requesters": "Requesters anonymised",
}


def describe(removed: Removed) -> list[str]:
    """Lines for `clinic retention`: one per kind."""
    return [f"{KIND_LABELS[key]}: {value}" for key, value in removed.as_dict().items()]
