"""Processing one stored webhook event: claim it, read it, apply it, mark it.

The claim is a conditional UPDATE (pending -> processing), so two workers never both
process one event; a claim older than STALE_CLAIM is taken to be from a dead worker and
may be retaken. Network work (attachments, profiles) happens between transactions; on LINE
the loading animation shows when that work takes more than a second (`bot.loading_animation`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot import conversation, line_events, loading_animation, messenger_events, profiles, requesters, web_events
from bot.events import Action, GroupJoined, GroupLeft, Ignored, Unfollowed, UserInput
from bot.line_api import LineApi
from bot.messenger_api import MessengerApi
from clinic import outbox
from clinic.models import InboundEvent, LineGroup, StaffAlert
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=5)


def claim(runtime: Runtime, event_id: int, now: datetime) -> bool:
    with runtime.db.transaction() as session:
        result = session.execute(
            update(InboundEvent)
            .where(
                InboundEvent.id == event_id,
                or_(
                    InboundEvent.status == "pending",
                    and_(InboundEvent.status == "processing", InboundEvent.claimed_at < now - STALE_CLAIM),
                ),
            )
            .values(status="processing", claimed_at=now, attempts=InboundEvent.attempts + 1)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def process(runtime: Runtime, event_id: int) -> str | None:
    """Process one event; return its final status, or None if another worker has it (or it is done)."""
    now = runtime.clock.now()
    if not claim(runtime, event_id, now):
        return None
    with runtime.db.transaction() as session:
        event = session.get(InboundEvent, event_id)
        assert event is not None
        channel, payload, received_at = event.channel, dict(event.payload), event.received_at
    try:
        with loading_animation.shown_if_slow(runtime, channel, payload):
            action = read(runtime, channel, payload, received_at)
            with runtime.db.transaction() as session:
                done = runtime.clock.now()
                status = apply(session, action, now=done)
                _finish(session, event_id, status, action.reason if isinstance(action, Ignored) else None, done)
        return status
    except Exception as exc:  # noqa: BLE001 - recorded for staff, then the next event goes on
        log.exception("inbound event %s failed", event_id)
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        with runtime.db.transaction() as session:
            done = runtime.clock.now()
            _finish(session, event_id, "failed", error, done)
            # A requester's message that could not be handled must not wait unseen in a table.
            session.add(
                StaffAlert(
                    created_at=done,
                    level="error",
                    text=(
                        f"ข้อความจาก {channel} ประมวลผลไม่สำเร็จ (เหตุการณ์ #{event_id}) กรุณาตรวจสอบ / "
                        f"A {channel} message could not be processed (event #{event_id}): {error[:300]}"
                    ),
                )
            )
        return "failed"


def read(runtime: Runtime, channel: str, payload: dict, received_at: datetime) -> Action:  # type: ignore[type-arg]
    action: Action
    if channel == "line":
        action = line_events.read(LineApi(runtime.config), payload, received_at=received_at)
    elif channel == "messenger":
        action = messenger_events.read(MessengerApi(runtime.config), payload, received_at=received_at)
    elif channel == "web":
        return web_events.read(payload)
    else:
        return Ignored(f"unknown channel {channel!r}")
    if isinstance(action, UserInput) and not action.display_name:
        # The name staff see on the desk, from the channel's profile (cached a day).
        action = replace(action, display_name=profiles.display_name(runtime, action.channel, action.user_id))
    return action


def apply(session: Session, action: Action, *, now: datetime) -> str:
    """Do what the event means; return `processed` or `ignored`."""
    if isinstance(action, UserInput):
        requester, _ = requesters.find_or_create(session, action.channel, action.user_id, now=now)
        if action.display_name:
            requester.display_name = action.display_name
        if action.incoming.kind == "follow":
            requester.following = True
        replies = conversation.respond(session, requester, action.incoming, now)
        if replies:
            outbox.to_requester(
                session, requester, replies, kind="auto", now=now,
                reply_token=action.reply_token, reply_token_received_at=action.reply_token_received_at,
            )  # fmt: skip
        return "processed"
    if isinstance(action, Unfollowed):
        known = requesters.find(session, action.channel, action.user_id, lock=True)
        if known is not None:
            known.following = False
        return "processed"
    if isinstance(action, GroupJoined):
        group = session.scalar(select(LineGroup).where(LineGroup.group_id == action.group_id))
        if group is None:
            session.add(LineGroup(group_id=action.group_id, joined_at=now))
        else:
            group.joined_at, group.left_at = now, None
        return "processed"
    if isinstance(action, GroupLeft):
        group = session.scalar(select(LineGroup).where(LineGroup.group_id == action.group_id))
        if group is not None:
            group.left_at = now
        return "processed"
    return "ignored"


def _finish(session: Session, event_id: int, status: str, error: str | None, now: datetime) -> None:
    session.execute(
        update(InboundEvent).where(InboundEvent.id == event_id).values(status=status, processed_at=now, error=error)
    )
