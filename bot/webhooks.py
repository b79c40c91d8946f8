"""The LINE and Messenger webhooks: verify, store every event, queue the work, answer 200 at once.

Each event is stored first (`clinic.inbound.store_batch`, keyed by LINE's webhookEventId or
Messenger's message id, so a redelivery is processed once) and processed by an RQ job.
Concurrent webhooks are committed together (`clinic.group_commit`), and none is answered
before its events are committed. If Redis is down the event is still stored; the recovery
sweep queues it later. If the database is down we answer 503 so the platform redelivers.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from linebot.v3 import SignatureValidator

from bot import line_events, messenger_events
from clinic.group_commit import Announcement, StoreFailed, group_commit_of
from clinic.runtime import Runtime

log = logging.getLogger(__name__)


def _runtime() -> Runtime:
    return current_app.extensions["clinic"]


@functools.cache
def _line_validator(channel_secret: str) -> SignatureValidator:
    return SignatureValidator(channel_secret)


def _plain(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        return None
    return value if isinstance(value, dict) else None


def _store(announcement: Announcement, channel: str, events: list[tuple[str, str, dict[str, Any]]]) -> Response:
    """Store (key, type, payload) events, committed before we answer; 503 if the database is unavailable.

    The body joins a group commit (`clinic.group_commit`): the events of concurrent webhooks go in
    one INSERT and one transaction, and their jobs in one Redis round trip. Redis down: stored and
    200; the recovery sweep queues them.
    """
    try:
        announcement.submit(channel, events)
    except StoreFailed:
        log.exception("%s webhook: events not stored; asking the platform to redeliver", channel)
        return _plain("database unavailable", 503)
    return _plain("OK", 200)


def _announced(view: Callable[[Announcement], Response]) -> Callable[[], Response]:
    """Announce the request to the group commit while it is verified, so a leader may wait for it."""

    @functools.wraps(view)
    def wrapper() -> Response:
        with group_commit_of(_runtime()).announce() as announcement:
            return view(announcement)

    return wrapper


def register(bp: Blueprint) -> None:
    @bp.post("/webhook/line")
    @_announced
    def line_webhook(announcement: Announcement) -> Response:
        config = _runtime().config
        if not config.line_enabled:
            return _plain("LINE is not configured", 404)
        raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413 before we read it
        signature = request.headers.get("X-Line-Signature", "")
        try:
            validator = _line_validator(config.line_channel_secret)
            valid = bool(signature) and validator.validate(raw.decode("utf-8"), signature)
        except UnicodeDecodeError:
            valid = False
        if not valid:
            return _plain("invalid signature", 400)
        body = _json_object(raw)
        if body is None or not isinstance(body.get("events", []), list):
            return _plain("invalid JSON body", 400)
        events = body.get("events", [])
        if not all(isinstance(event, dict) for event in events):
            return _plain("invalid event", 400)
        return _store(
            announcement, "line", [(line_events.event_key(e), str(e.get("type", ""))[:40], e) for e in events]
        )

    @bp.get("/webhook/messenger")
    def messenger_verify() -> Response:
        config = _runtime().config
        token = request.args.get("hub.verify_token", "")
        if (
            config.messenger_verify_token
            and request.args.get("hub.mode") == "subscribe"
            and hmac.compare_digest(token.encode(), config.messenger_verify_token.encode())
        ):
            return _plain(request.args.get("hub.challenge", ""), 200)
        return _plain("verification failed", 403)

    @bp.post("/webhook/messenger")
    @_announced
    def messenger_webhook(announcement: Announcement) -> Response:
        config = _runtime().config
        if not config.messenger_enabled:
            return _plain("Messenger is not configured", 404)
        raw = request.get_data(cache=False)
        signature = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(config.messenger_app_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
            return _plain("invalid signature", 400)
        body = _json_object(raw)
        if body is None or not isinstance(body.get("entry", []), list):
            return _plain("invalid JSON body", 400)
        if body.get("object") != "page":
            return _plain("not a page subscription", 400)
        items: list[tuple[str, str, dict[str, Any]]] = []
        for entry in body.get("entry", []):
            if not isinstance(entry, dict) or not isinstance(entry.get("messaging", []), list):
                return _plain("invalid entry", 400)
            for item in entry.get("messaging", []):
                if not isinstance(item, dict):
                    return _plain("invalid messaging item", 400)
                items.append((messenger_events.event_key(item), messenger_events.event_type(item), item))
        return _store(announcement, "messenger", items)
