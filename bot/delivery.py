"""Sending one outbox row to its channel, with the channel's rules, retries and a recorded outcome.

- A text longer than the channel takes is split (`bot.message_split`), never cut: LINE sends
  at most five messages of 5,000 characters per call, Messenger one of 2,000. The row counts
  the calls that went (`sent_parts`) and a retry resumes after them; it is `sent` when all did.
- LINE: the event's reply token while it is fresh (replies are free) for the first call, else
  a push with `X-Line-Retry-Key` = the row's retry_key (derived from it for the later calls),
  so a retried push is delivered once.
- Messenger: a standard RESPONSE within 24 h of the user's last message; a staff reply later
  than that goes with the HUMAN_AGENT tag up to 7 days, after which it is undeliverable;
  automatic messages outside the 24 h window are not sent.
- Web chat: the page reads the outbox itself, so the row is simply marked sent.
- Files a staff member attached (payload items `{"attachment": ...}`, see clinic.outbox): on LINE
  an image message or a text with the file's link, both signed links under PUBLIC_BASE_URL that
  expire in 7 days (`clinic.file_links`, minted at each attempt; LINE fetches images over HTTPS
  only, so a row with files fails at once with a clear error when PUBLIC_BASE_URL is not https);
  on Messenger each file is its own Send API call with the bytes (`MessengerApi.send_file`), a
  part like any other; on the web chat the page lists them (`bot.webchat`).

429, 5xx and network failures are retried with exponential backoff (RQ's scheduler, and the
row's next_attempt_at for the recovery sweep); anything else fails at once with the API's error.
Outcome: sent, failed, not_sent or undeliverable, copied to the linked Message for the desk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from linebot.v3.messaging import Message as LineMessage
from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session, undefer

from bot.channel_error import ChannelApiError
from bot.line_api import LineApi, call_retry_key, to_line_calls
from bot.messenger_api import MessengerApi, to_messenger_messages
from clinic import line_quota
from clinic.file_links import LinkMaker
from clinic.models import Attachment, Message, OutboxMessage, Requester
from clinic.outbox import DELIVER_JOB, MESSENGER_HUMAN_AGENT_WINDOW, MESSENGER_WINDOW, attachments
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, failed, not_sent, undeliverable, or pending (to retry)
    error: str | None = None
    retry_in: timedelta | None = None
    channel_message_id: str | None = None


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    """5 s, 10 s, 20 s ... up to 10 minutes; longer if the API asked for it (Retry-After)."""
    delay = timedelta(seconds=5 * 2 ** max(attempts - 1, 0))
    if hint:
        delay = max(delay, timedelta(seconds=hint))
    return min(delay, MAX_BACKOFF)


def claim(runtime: Runtime, outbox_id: int, now: datetime) -> bool:
    with runtime.db.transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                or_(
                    and_(
                        OutboxMessage.status == "pending",
                        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
                    ),
                    and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - STALE_CLAIM),
                ),
            )
            .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def deliver(runtime: Runtime, outbox_id: int) -> str | None:
    """Send one row; return its new status, or None if it is not due or another worker has it."""
    now = runtime.clock.now()
    if not claim(runtime, outbox_id, now):
        return None
    with runtime.db.transaction() as session:
        item = session.get(OutboxMessage, outbox_id)
        assert item is not None
        session.expunge(item)
        requester = session.get(Requester, item.requester_id) if item.requester_id else None
        last_inbound_at = requester.last_inbound_at if requester else None
    try:
        outcome = send(runtime, item, last_inbound_at, now)
    except ChannelApiError as exc:
        if line_quota.is_exhausted(item.channel, exc.status, exc.detail):
            # Nothing is lost: the row stays pending and is tried hourly until the quota allows.
            outcome = Outcome("pending", line_quota.EXHAUSTED_TEXT, retry_in=line_quota.EXHAUSTED_RETRY)
        elif exc.transient and item.attempts < MAX_ATTEMPTS:
            outcome = Outcome("pending", str(exc), retry_in=backoff(item.attempts, exc.retry_after))
        else:
            outcome = Outcome("failed", str(exc))
    with runtime.db.transaction() as session:
        record(session, outbox_id, outcome, runtime.clock.now())
    if outcome.retry_in is not None:
        _schedule_retry(runtime, outbox_id, outcome.retry_in)
    return outcome.status


def send(runtime: Runtime, item: OutboxMessage, last_inbound_at: datetime | None, now: datetime) -> Outcome:
    config = runtime.config
    if item.channel == "web":
        return Outcome("sent")
    if item.channel == "line":
        if not config.line_enabled:
            return Outcome("failed", "LINE ไม่ได้ตั้งค่า / LINE is not configured (LINE_CHANNEL_ACCESS_TOKEN)")
        links = None
        if attachments(item.payload):
            if not config.base_url.startswith("https://"):
                return Outcome(
                    "failed",
                    "ส่งไฟล์ทาง LINE ไม่ได้: PUBLIC_BASE_URL ต้องขึ้นต้นด้วย https:// / Files cannot go to LINE: "
                    "PUBLIC_BASE_URL must be an https:// address LINE can reach",
                )
            links = LinkMaker(config.base_url, config.secret_key, now)
        api = LineApi(config)
        calls = to_line_calls(item.payload, links)
        for index in range(item.sent_parts, len(calls)):
            _send_line_call(api, item, calls[index], index, now)
            _record_part(runtime, item.id, index + 1)
        return Outcome("sent")
    if item.channel == "messenger":
        if not config.messenger_enabled:
            return Outcome("failed", "Messenger ไม่ได้ตั้งค่า / Messenger is not configured")
        since = now - last_inbound_at if last_inbound_at else None
        tag = None
        if since is None or since > MESSENGER_WINDOW:
            if not item.human_agent:
                return Outcome(
                    "not_sent",
                    "ไม่ส่ง: เกิน 24 ชั่วโมงหลังข้อความล่าสุดของผู้ใช้ / Not sent: outside Messenger's 24-hour window",
                )
            if since is None or since > MESSENGER_HUMAN_AGENT_WINDOW:
                return Outcome(
                    "undeliverable",
                    "ส่งไม่ได้: เกิน 7 วันหลังข้อความล่าสุดของผู้ใช้ / Undeliverable: more than 7 days since the "
                    "user's last message",
                )
            tag = "HUMAN_AGENT"
        messenger = MessengerApi(config)
        messages = to_messenger_messages(item.payload)
        message_id = ""
        # Messenger has no retry key: the row records each part as it goes, and a retry resumes after it.
        for index in range(item.sent_parts, len(messages)):
            reference = messages[index].get("clinic_attachment")
            if reference is None:
                message_id = messenger.send(item.recipient, messages[index], tag=tag)
            else:
                stored = _attachment(runtime, int(reference["id"]))
                if stored is None:
                    return Outcome("failed", "ไม่พบไฟล์แนบ (ถูกลบแล้ว) / The attached file no longer exists")
                message_id = messenger.send_file(
                    item.recipient, kind="image" if reference.get("kind") == "image" else "file",
                    filename=stored.filename, content_type=stored.content_type, content=stored.content or b"", tag=tag,
                )  # fmt: skip
            _record_part(runtime, item.id, index + 1)
        return Outcome("sent", channel_message_id=message_id or None)
    return Outcome("failed", f"ช่องทางไม่รองรับ / Unsupported channel {item.channel!r}")


def _attachment(runtime: Runtime, attachment_id: int) -> Attachment | None:
    """A stored file with its bytes, detached from the session; None if it was erased meanwhile."""
    with runtime.db.transaction() as session:
        found = session.get(Attachment, attachment_id, options=[undefer(Attachment.content)])
        if found is None or found.content is None:
            return None
        session.expunge(found)
        return found


def _send_line_call(api: LineApi, item: OutboxMessage, messages: list[LineMessage], index: int, now: datetime) -> None:
    """One call of a row: the reply token only for the first call of the first attempt, else a push."""
    fresh = item.reply_token and item.reply_token_expires_at and now < item.reply_token_expires_at
    if index == 0 and fresh and item.attempts == 1:
        try:
            api.reply(item.reply_token or "", messages)
            return
        except ChannelApiError as exc:
            if exc.status != 400:
                raise
            # The token expired or was used: push instead, the user still gets the answer.
            log.info("reply token of outbox %s refused (%s); pushing", item.id, exc.detail)
    api.push(item.recipient, messages, retry_key=call_retry_key(item.retry_key, index))


def _record_part(runtime: Runtime, outbox_id: int, sent_parts: int) -> None:
    """Commit at once that a part went, so neither a failure of a later part nor a dead worker resends it."""
    with runtime.db.transaction() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(sent_parts=sent_parts))


def record(session: Session, outbox_id: int, outcome: Outcome, now: datetime) -> None:
    item = session.get(OutboxMessage, outbox_id)
    assert item is not None
    item.status = outcome.status
    item.last_error = outcome.error
    item.claimed_at = None
    if outcome.status == "sent":
        item.sent_at = now
    item.next_attempt_at = now + outcome.retry_in if outcome.retry_in is not None else None
    if item.message_id is not None:
        message = session.get(Message, item.message_id)
        if message is not None:
            message.delivery_status = outcome.status
            message.delivery_error = (
                f"กำลังลองส่งใหม่ / retrying: {outcome.error}" if outcome.status == "pending" else outcome.error
            )
            if outcome.channel_message_id:
                message.channel_message_id = outcome.channel_message_id


def _schedule_retry(runtime: Runtime, outbox_id: int, delay: timedelta) -> None:
    try:
        # RQ keeps the scheduled time in whole seconds (rounded down), so the job can start up to
        # a second before next_attempt_at, when claim() refuses it and the row waits for the
        # recovery sweep; a second's slack makes the retry land after the row is due.
        runtime.queue.enqueue_in(delay + timedelta(seconds=1), DELIVER_JOB, outbox_id)
    except redis.RedisError as exc:
        log.warning("retry of outbox %s not scheduled (%s); the recovery sweep will pick it up", outbox_id, exc)
