"""Reading one Messenger webhook `messaging` item (the shape Meta documents) into an action."""

from __future__ import annotations

import logging
import mimetypes
from datetime import datetime
from typing import Any

from bot.channel_error import ChannelApiError
from bot.conversation import Incoming
from bot.events import MAX_ATTACHMENT_BYTES, Action, Ignored, UserInput
from bot.messenger_api import MessengerApi, TooLarge
from clinic.tickets import NewAttachment

log = logging.getLogger(__name__)

# The postback payload of the page's "Get Started" button (set it in the page's Messenger profile).
GET_STARTED = "GET_STARTED"
MEDIA_TYPES = ("image", "file", "video", "audio")


def event_key(item: dict[str, Any]) -> str:
    """The message id (`mid`), which Meta repeats on redelivery; other items by sender and time."""
    for part in ("message", "postback"):
        mid = (item.get(part) or {}).get("mid")
        if mid:
            return str(mid)[:128]
    kind = next((k for k in ("postback", "read", "delivery", "reaction", "optin") if k in item), "other")
    sender = (item.get("sender") or {}).get("id", "")
    return f"{kind}:{sender}:{item.get('timestamp', '')}"[:128]


def event_type(item: dict[str, Any]) -> str:
    return next((k for k in ("message", "postback", "read", "delivery", "reaction", "optin") if k in item), "other")


def read(api: MessengerApi, item: dict[str, Any], *, received_at: datetime) -> Action:
    sender = str((item.get("sender") or {}).get("id", ""))
    if not sender:
        return Ignored("no sender")
    if "postback" in item:
        payload = str(item["postback"].get("payload", ""))
        if payload == GET_STARTED:
            return UserInput("messenger", sender, Incoming("follow"))
        return UserInput("messenger", sender, Incoming("text", text=payload or item["postback"].get("title", "")))
    message = item.get("message")
    if not isinstance(message, dict):
        return Ignored(f"Messenger {event_type(item)} item is not handled")
    if message.get("is_echo"):
        return Ignored("echo of the page's own message")
    mid = str(message.get("mid", "")) or None
    quick_reply = (message.get("quick_reply") or {}).get("payload")
    if quick_reply:
        return UserInput("messenger", sender, Incoming("text", text=str(quick_reply), channel_message_id=mid))
    attachments = message.get("attachments") or []
    if attachments:
        return UserInput("messenger", sender, _with_attachments(api, message, attachments, mid))
    if "text" in message:
        return UserInput("messenger", sender, Incoming("text", text=str(message["text"]), channel_message_id=mid))
    return Ignored("Messenger message without text or attachments")


def _with_attachments(api: MessengerApi, message: dict[str, Any], items: list[Any], mid: str | None) -> Incoming:
    kept: list[NewAttachment] = []
    rejected: list[str] = []
    for index, item in enumerate(items, start=1):
        kind = item.get("type")
        payload = item.get("payload") or {}
        if payload.get("sticker_id") is not None:
            return Incoming("sticker", channel_message_id=mid)
        if kind == "location":
            return Incoming("location", channel_message_id=mid)
        url = payload.get("url")
        if kind not in MEDIA_TYPES or not url:
            continue
        name = str(item.get("name") or url.split("?")[0].rsplit("/", 1)[-1] or f"{kind}-{index}")[:255]
        try:
            download = api.download(url, max_bytes=MAX_ATTACHMENT_BYTES)
        except TooLarge:
            rejected.append(name)
            continue
        except ChannelApiError as exc:
            log.warning("Messenger attachment not downloaded (%s); kept as a reference", exc)
            kept.append(NewAttachment(kind=kind, filename=name, source_ref=url[:255]))
            continue
        if "." not in name:
            name += mimetypes.guess_extension(download.content_type) or ""
        kept.append(
            NewAttachment(
                kind=kind,
                filename=name,
                content_type=download.content_type[:100],
                content=download.data,
                source_ref=url[:255],
            )
        )
    return Incoming(
        "attachment",
        text=str(message.get("text", "")),
        attachments=tuple(kept),
        rejected=tuple(rejected),
        channel_message_id=mid,
    )
