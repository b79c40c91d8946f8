"""Reading one LINE webhook event (the JSON shape LINE documents) into an action."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.channel_error import ChannelApiError
from bot.conversation import Incoming
from bot.events import MAX_ATTACHMENT_BYTES, Action, GroupJoined, GroupLeft, Ignored, Unfollowed, UserInput
from bot.line_api import LineApi
from clinic.tickets import NewAttachment

log = logging.getLogger(__name__)

MEDIA_TYPES = ("image", "file", "video", "audio")
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "video/mp4": ".mp4", "audio/m4a": ".m4a"}


def event_key(event: dict[str, Any]) -> str:
    """LINE's webhookEventId; a redelivered event carries the same one."""
    key = event.get("webhookEventId")
    if key:
        return str(key)[:128]
    # Very old payloads lack the id; the reply token (or message id) is unique per event too.
    fallback = event.get("replyToken") or event.get("message", {}).get("id") or ""
    return f"{event.get('type', '')}:{event.get('timestamp', '')}:{fallback}"[:128]


def loading_chat(event: dict[str, Any]) -> str | None:
    """The user whose one-to-one chat may show the loading animation while this event is answered."""
    source = event.get("source") or {}
    if event.get("type") not in ("message", "postback") or event.get("mode") == "standby":
        return None
    if source.get("type") != "user" or not source.get("userId"):
        return None  # LINE shows the animation in one-to-one chats only
    return str(source["userId"])


def read(api: LineApi, event: dict[str, Any], *, received_at: datetime) -> Action:
    kind = event.get("type", "")
    source = event.get("source") or {}
    source_type = source.get("type")
    if kind == "join":
        group_id = source.get("groupId") or source.get("roomId")
        return GroupJoined(group_id) if group_id else Ignored("join without a group id")
    if kind == "leave":
        group_id = source.get("groupId") or source.get("roomId")
        return GroupLeft(group_id) if group_id else Ignored("leave without a group id")
    if source_type != "user" or not source.get("userId"):
        return Ignored(f"{kind} from a {source_type or 'unknown source'}: group chats never become tickets")
    if event.get("mode") == "standby":
        return Ignored("standby mode: another channel owns this chat")
    user_id = source["userId"]
    if kind == "unfollow":
        return Unfollowed("line", user_id)
    token = event.get("replyToken")
    if kind == "follow":
        return UserInput("line", user_id, Incoming("follow"), token, received_at)
    if kind == "postback":
        data = str((event.get("postback") or {}).get("data", ""))
        return UserInput("line", user_id, Incoming("text", text=data), token, received_at)
    if kind != "message":
        return Ignored(f"LINE event type {kind!r} is not handled")
    message = event.get("message") or {}
    incoming = _incoming(api, message)
    if incoming is None:
        return Ignored(f"LINE message type {message.get('type')!r} is not handled")
    return UserInput("line", user_id, incoming, token, received_at)


def _incoming(api: LineApi, message: dict[str, Any]) -> Incoming | None:
    message_type = message.get("type")
    message_id = str(message.get("id", ""))
    if message_type == "text":
        return Incoming("text", text=str(message.get("text", "")), channel_message_id=message_id)
    if message_type in ("sticker", "location"):
        return Incoming(message_type, channel_message_id=message_id)
    if message_type not in MEDIA_TYPES:
        return None
    filename = str(message.get("fileName") or "")
    size = message.get("fileSize")
    if isinstance(size, int) and size > MAX_ATTACHMENT_BYTES:
        return Incoming("attachment", rejected=(filename or message_type,), channel_message_id=message_id)
    provider = message.get("contentProvider") or {}
    if provider.get("type") == "external":
        # Sent through another app: LINE keeps no copy, the URL is all there is.
        url = str(provider.get("originalContentUrl", ""))[:255]
        attachment = NewAttachment(kind=message_type, filename=filename or url.rsplit("/", 1)[-1], source_ref=url)
        return Incoming("attachment", attachments=(attachment,), channel_message_id=message_id)
    try:
        content = api.content(message_id)
    except ChannelApiError as exc:
        log.warning("LINE content %s not downloaded (%s); kept as a reference", message_id, exc)
        attachment = NewAttachment(kind=message_type, filename=filename, source_ref=f"line:{message_id}")
        return Incoming("attachment", attachments=(attachment,), channel_message_id=message_id)
    if len(content.data) > MAX_ATTACHMENT_BYTES:
        return Incoming("attachment", rejected=(filename or message_type,), channel_message_id=message_id)
    name = filename or f"{message_type}-{message_id}{_EXTENSIONS.get(content.content_type, '')}"
    attachment = NewAttachment(
        kind=message_type,
        filename=name[:255],
        content_type=content.content_type[:100],
        content=content.data,
        source_ref=f"line:{message_id}",
    )
    return Incoming("attachment", attachments=(attachment,), channel_message_id=message_id)
