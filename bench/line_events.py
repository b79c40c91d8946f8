"""Signed LINE webhook bodies, as the LINE platform sends them, for load and fault tests.

Every event carries its own webhookEventId and replyToken, so the product's dedupe
never short-cuts the work and each reply can be matched to the event that caused it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any


def sign(channel_secret: str, body: bytes) -> str:
    """The X-Line-Signature of a body: base64 of its HMAC-SHA256 under the channel secret."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class SignedEvent:
    event_id: str
    reply_token: str
    user_id: str
    text: str
    body: bytes
    signature: str


def text_event(user_id: str, text: str, *, event_id: str | None = None, timestamp_ms: int | None = None) -> dict:
    event_id = event_id or uuid.uuid4().hex.upper()[:26]
    return {
        "type": "message",
        "mode": "active",
        "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        "message": {"id": str(uuid.uuid4().int)[:18], "type": "text", "quoteToken": uuid.uuid4().hex, "text": text},
    }


def body_of(events: list[dict[str, Any]], destination: str = "Ubenchbot") -> bytes:
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode()


def signed_text(channel_secret: str, user_id: str, text: str) -> SignedEvent:
    """One body holding one text message event, signed."""
    event = text_event(user_id, text)
    body = body_of([event])
    return SignedEvent(event["webhookEventId"], event["replyToken"], user_id, text, body, sign(channel_secret, body))


def user_id(n: int, tag: str = "") -> str:
    """A LINE-shaped user id (U + 32 hex) that is stable for (tag, n)."""
    return "U" + hashlib.md5(f"{tag}:{n}".encode()).hexdigest()


def many_signed(channel_secret: str, count: int, *, users: int, tag: str) -> list[SignedEvent]:
    """`count` distinct signed text events spread over `users` requesters."""
    return [
        signed_text(channel_secret, user_id(i % users, tag), f"สวัสดีครับ ขอสอบถามเรื่องหนังสือราชการ #{i}")
        for i in range(count)
    ]
