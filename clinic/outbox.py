"""The outbox: every message the product sends goes here first, then to a worker job.

A payload is a channel-neutral list of messages, each a dict:

    {"text": "ข้อความ", "quick_replies": [{"label": "≤ 20 ตัวอักษร", "text": "what a tap sends"}]}

`quick_replies` is optional (at most 13). A file a staff member attached to a reply is an item
of its own, after the text, naming the stored `Attachment` row (never its bytes):

    {"attachment": {"id": 42, "kind": "image", "filename": "แผนผัง.png"}}

`kind` is `image` for a raster image shown inline (JPEG, PNG, GIF, WebP), else `file`. The worker
(`bot.tasks.deliver_outbox`) turns a payload into LINE, Messenger or web-chat messages: on LINE an
image message or a text with a signed, expiring link (`clinic.file_links`), on Messenger a real
attachment, on the web chat a file in the conversation.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from clinic import webchat_changes
from clinic.db import on_commit
from clinic.models import Attachment, Message, OutboxMessage, Requester, Ticket
from clinic.runtime import runtime_of
from clinic.uploads import INLINE_IMAGES

DELIVER_JOB = "bot.tasks.deliver_outbox"
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
# LINE reply tokens must be used within about a minute; keep a margin.
REPLY_TOKEN_LIFETIME = timedelta(seconds=50)


# Messenger's standard messaging window after the user's last message.
MESSENGER_WINDOW = timedelta(hours=24)
# Past this, even a staff reply with the HUMAN_AGENT tag may not be sent.
MESSENGER_HUMAN_AGENT_WINDOW = timedelta(days=7)


def may_send_automatic(requester: Requester, now: datetime) -> bool:
    """Whether an automatic message (survey, reminder) may go to this requester now.

    Messenger forbids automatic messages more than 24 h after the user's last
    message; LINE and the web chat have no such window.
    """
    if requester.channel != "messenger":
        return True
    return requester.last_inbound_at is not None and now - requester.last_inbound_at <= MESSENGER_WINDOW


def text(body: str, quick_replies: list[dict[str, str]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"text": body}
    if quick_replies:
        if len(quick_replies) > MAX_QUICK_REPLIES:
            raise ValueError(f"at most {MAX_QUICK_REPLIES} quick replies, got {len(quick_replies)}")
        for reply in quick_replies:
            if len(reply["label"]) > MAX_LABEL:
                raise ValueError(f"quick-reply label over {MAX_LABEL} characters: {reply['label']!r}")
        message["quick_replies"] = quick_replies
    return message


def attachment(item: Attachment) -> dict[str, Any]:
    """A stored attachment as a payload item (see the module's docstring)."""
    kind = "image" if item.content_type in INLINE_IMAGES else "file"
    return {"attachment": {"id": item.id, "kind": kind, "filename": item.filename}}


def texts(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text items of a payload, without its attachments."""
    return [item for item in payload if "attachment" not in item]


def attachments(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attachment references of a payload (`{"id", "kind", "filename"}`), in order."""
    return [item["attachment"] for item in payload if "attachment" in item]


def queue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    messages: list[dict[str, Any]],
    kind: str,
    now: datetime,
    requester: Requester | None = None,
    ticket: Ticket | None = None,
    message: Message | None = None,
    reply_token: str | None = None,
    reply_token_received_at: datetime | None = None,
    human_agent: bool = False,
) -> OutboxMessage:
    """Store a message to send; a worker job is queued once the transaction commits."""
    if not messages:
        raise ValueError("nothing to send")
    item = OutboxMessage(
        created_at=now,
        channel=channel,
        recipient=recipient,
        kind=kind,
        payload=messages,
        requester_id=requester.id if requester else None,
        ticket_id=ticket.id if ticket else None,
        message_id=message.id if message else None,
        reply_token=reply_token,
        reply_token_expires_at=(reply_token_received_at or now) + REPLY_TOKEN_LIFETIME if reply_token else None,
        retry_key=str(uuid.uuid4()),
        human_agent=human_agent,
        status="pending",
        next_attempt_at=now,
    )
    session.add(item)
    session.flush()
    if requester is not None and requester.channel == "web":
        webchat_changes.touch(session, requester.channel_user_id)  # the open chat tab shows it at its next poll
    runtime = runtime_of(session)
    item_id = item.id
    on_commit(session, lambda: runtime.enqueue(DELIVER_JOB, item_id))
    return item


def to_requester(
    session: Session,
    requester: Requester,
    messages: list[dict[str, Any]],
    *,
    kind: str,
    now: datetime,
    ticket: Ticket | None = None,
    message: Message | None = None,
    reply_token: str | None = None,
    reply_token_received_at: datetime | None = None,
    human_agent: bool = False,
) -> OutboxMessage:
    return queue(
        session,
        channel=requester.channel,
        recipient=requester.channel_user_id,
        messages=messages,
        kind=kind,
        now=now,
        requester=requester,
        ticket=ticket,
        message=message,
        reply_token=reply_token,
        reply_token_received_at=reply_token_received_at,
        human_agent=human_agent,
    )
