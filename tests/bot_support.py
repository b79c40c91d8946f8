"""Signed webhook bodies in the shapes LINE and Meta document, and running the queued jobs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

from rq import SimpleWorker

from clinic.runtime import Runtime

LINE_SECRET = "line-test-secret"
MESSENGER_SECRET = "messenger-test-secret"


def line_signature(body: bytes, secret: str = LINE_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def messenger_signature(body: bytes, secret: str = MESSENGER_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def line_event(kind: str, user: str = "U4af4980629", *, source: dict[str, str] | None = None, **fields: Any) -> dict:
    """One event as LINE sends it (Messaging API reference, 'Webhook event objects')."""
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": 1764039600000,
        "source": source or {"type": "user", "userId": user},
        "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
    }
    if kind not in ("unfollow", "leave"):
        event["replyToken"] = uuid.uuid4().hex
    event.update(fields)
    return event


def line_text(text: str, user: str = "U4af4980629", **fields: Any) -> dict:
    message = {"id": str(uuid.uuid4().int)[:18], "type": "text", "quoteToken": "q", "text": text}
    return line_event("message", user, message=message, **fields)


def line_body(*events: dict) -> bytes:
    return json.dumps({"destination": "Ubot0000", "events": list(events)}, ensure_ascii=False).encode()


def post_line(client: Any, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    headers["X-Line-Signature"] = line_signature(body) if signature is None else signature
    return client.post("/webhook/line", data=body, headers=headers)


def messenger_message(psid: str, *, mid: str | None = None, **message: Any) -> dict:
    """One `messaging` item of a page webhook (Messenger Platform, 'messages' webhook)."""
    return {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE1"},
        "timestamp": 1764039600000,
        "message": {"mid": mid or f"m_{uuid.uuid4().hex}", **message},
    }


def messenger_body(*items: dict) -> bytes:
    entry = {"id": "PAGE1", "time": 1764039600000, "messaging": list(items)}
    return json.dumps({"object": "page", "entry": [entry]}, ensure_ascii=False).encode()


def post_messenger(client: Any, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    headers["X-Hub-Signature-256"] = messenger_signature(body) if signature is None else signature
    return client.post("/webhook/messenger", data=body, headers=headers)


def run_jobs(runtime: Runtime) -> None:
    """Run every queued job (processing, then the deliveries it queues) in this process."""
    SimpleWorker([runtime.queue], connection=runtime.redis).work(burst=True)
