"""The web chat: a page at /chat and its small JSON API, on the same conversation as LINE and Messenger.

A web requester is a random id kept in a signed cookie. What they type is stored as an
inbound event like any webhook event and processed at once in the request (the same code
the worker runs), so the answer is there when the page asks. The page reads the bot's and
staff's messages from the outbox (`channel='web'`), which the worker merely marks sent.

The JSON endpoints accept only `application/json` bodies of the documented shape; a
cross-site form cannot send one, which together with SameSite cookies keeps them safe
without a CSRF token. A file upload is multipart, which a cross-site form *can* send, so it
also needs a header no form can set (`bot.webchat_files`); and every POST here is refused
when the browser says it comes from another site (`Sec-Fetch-Site`, `Origin`).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import processing, requesters
from clinic import inbound, outbox, uploads, webchat_changes
from clinic.models import Attachment, InboundEvent, OutboxMessage, Ticket
from clinic.runtime import Runtime
from clinic.thaidate import format_datetime

log = logging.getLogger(__name__)

COOKIE = "clinic_chat"
COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_TEXT = 2000
_CURSOR = re.compile(r"^(\d{1,12})\.(\d{1,12})$")
CLIENT_ID = re.compile(r"^[0-9a-f]{32}$")


# Web events that are the user's own words or files, shown back to them in the conversation.
_SHOWN_EVENTS = ("text", "attachment")


def _runtime() -> Runtime:
    return current_app.extensions["clinic"]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="clinic-webchat")


def web_user(create: bool) -> str | None:
    """The browser's web-chat id from its signed cookie; a new one if asked to create."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            value = _serializer().loads(cookie)
            if isinstance(value, str) and CLIENT_ID.match(value):
                return value
        except BadSignature:
            pass
    if not create:
        return None
    g.new_web_user = uuid.uuid4().hex
    return g.new_web_user


def error(th: str, en: str, status: int = 400) -> tuple[Response, int]:
    return jsonify(error=f"{th} / {en}"), status


def _from_another_site() -> bool:
    """What the browser says about where a POST comes from (non-browser clients say nothing).

    `Sec-Fetch-Site` first: every current browser sends it, and a reverse proxy that rewrites
    the Host header does not change it. Older browsers send only `Origin`, compared with the
    host asked for and with PUBLIC_BASE_URL's.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if not origin:
        return False
    return urlsplit(origin).netloc not in (request.host, urlsplit(_runtime().config.base_url).netloc)


def _when(moment: datetime) -> dict[str, str]:
    """A message's time: ISO UTC for programs, Bangkok and Buddhist Era for people."""
    return {"at": moment.isoformat(), "at_text": format_datetime(moment, _runtime().config.tz)}


def _files(event_payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "url": url_for("bot.chat_attachment", attachment_id=int(item["id"])),
            "name": item["name"],
            "type": item["type"],
            "size": item["size"],
            "image": item["type"] in uploads.INLINE_IMAGES,
        }
        for item in event_payload.get("uploads", [])
    ]


def _sent_files(session: Session, rows: Sequence[OutboxMessage]) -> dict[int, dict[str, Any]]:
    """The files staff attached to these outbox rows, as the page lists them, by attachment id.

    A file erased since (personal data, retention) is simply no longer listed.
    """
    ids = [int(ref["id"]) for row in rows for ref in outbox.attachments(row.payload)]
    if not ids:
        return {}
    found = session.execute(
        select(Attachment.id, Attachment.filename, Attachment.content_type, Attachment.size).where(
            Attachment.id.in_(ids)
        )
    ).all()
    return {
        item.id: {
            "url": url_for("bot.chat_attachment", attachment_id=item.id),
            "name": item.filename,
            "type": item.content_type,
            "size": item.size,
            "image": item.content_type in uploads.INLINE_IMAGES,
        }
        for item in found
    }


def _history(user: str, after_in: int, after_out: int) -> dict[str, Any]:
    runtime = _runtime()
    with runtime.db.transaction() as session:
        requester = requesters.find(session, "web", user)
        if requester is None:
            return {"messages": [], "cursor": f"{after_in}.{after_out}", "has_ticket": False}
        has_ticket = session.scalar(select(Ticket.id).where(Ticket.requester_id == requester.id).limit(1)) is not None
        events = session.scalars(
            select(InboundEvent)
            .where(
                InboundEvent.channel == "web",
                InboundEvent.event_type.in_(_SHOWN_EVENTS),
                InboundEvent.id > after_in,
                InboundEvent.channel_user_id == user,  # indexed (channel, channel_user_id, id)
            )
            .order_by(InboundEvent.id)
        ).all()
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.requester_id == requester.id, OutboxMessage.id > after_out)
            .order_by(OutboxMessage.id)
        ).all()
        items: list[tuple[Any, int, int, list[dict[str, Any]]]] = []
        for event in events:
            message = {
                "id": f"i{event.id}",
                "from": "user",
                "text": event.payload.get("text", ""),
                "files": _files(event.payload),
                **_when(event.received_at),
            }
            items.append((event.received_at, 0, event.id, [message]))
        sent_files = _sent_files(session, rows)
        for row in rows:
            sender = "staff" if row.kind == "reply" else "bot"
            messages = [
                {
                    "id": f"o{row.id}-{n}",
                    "from": sender,
                    "text": part["text"],
                    "quick_replies": part.get("quick_replies") or [],
                    "files": [],
                    **_when(row.created_at),
                }
                for n, part in enumerate(outbox.texts(row.payload))
            ]
            files = [sent_files[ref["id"]] for ref in outbox.attachments(row.payload) if ref["id"] in sent_files]
            if files:
                # A staff reply's files sit in its bubble, under the text (or alone, for files only).
                if not messages:
                    messages = [{"id": f"o{row.id}-0", "from": sender, "text": "", "quick_replies": [],
                                 "files": [], **_when(row.created_at)}]  # fmt: skip
                messages[-1]["files"] = files
            if messages:
                items.append((row.created_at, 1, row.id, messages))
        items.sort(key=lambda item: (item[0], item[1], item[2]))
        new_in = max([e.id for e in events], default=after_in)
        new_out = max([r.id for r in rows], default=after_out)
    return {
        "messages": [m for item in items for m in item[3]],
        "cursor": f"{new_in}.{new_out}",
        "has_ticket": has_ticket,
    }


def process_now(event_id: int) -> None:
    """Process a stored web event in this request rather than wait for the worker.

    The answer is then ready when the page asks; the job queued on commit finds the event
    already claimed and does nothing. Had this request died first, that job (or the recovery
    sweep) would process it instead: the event is stored either way, so a database failure here
    does not make the request fail.
    """
    try:
        processing.process(_runtime(), event_id)
    except SQLAlchemyError:
        log.exception("web event %s stored but not processed now; the worker will", event_id)


def _submit(user: str, key: str, payload: dict[str, Any], event_type: str) -> None:
    runtime = _runtime()
    with runtime.db.transaction() as session:
        event, _ = inbound.record(
            session,
            channel="web",
            event_key=key,
            event_type=event_type,
            payload=payload,
            now=runtime.clock.now(),
            channel_user_id=user,
        )
        webchat_changes.touch(session, user)
        event_id = event.id
    process_now(event_id)


def register(bp: Blueprint) -> None:
    @bp.before_request
    def _refuse_other_sites() -> Any:
        if request.method == "POST" and request.path.startswith("/chat/") and _from_another_site():
            return error("ไม่รับคำขอจากเว็บไซต์อื่น", "cross-site request refused", 403)
        return None

    @bp.after_app_request
    def _set_cookie(response: Response) -> Response:
        new_user = g.pop("new_web_user", None)
        if new_user:
            response.set_cookie(
                COOKIE,
                _serializer().dumps(new_user),
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=_runtime().config.secure_cookies,
            )
        return response

    @bp.get("/chat")
    def chat_page() -> str:
        web_user(create=True)
        return render_template("bot/chat.html")

    @bp.get("/chat/api/messages")
    def chat_messages() -> Any:
        user = web_user(create=False)
        match = _CURSOR.match(request.args.get("after", "0.0"))
        if match is None:
            return error("ตัวชี้ตำแหน่งไม่ถูกต้อง", "bad 'after' cursor")
        if user is None:
            return jsonify(messages=[], cursor="0.0", has_ticket=False)
        runtime = _runtime()
        cursor = f"{int(match.group(1))}.{int(match.group(2))}"
        # Nothing changed for this browser since it was last answered this cursor: no SQL at all.
        has_ticket, version = webchat_changes.quiet_answer(runtime, user, cursor)
        if has_ticket is not None:
            return jsonify(messages=[], cursor=cursor, has_ticket=has_ticket)
        try:
            history = _history(user, int(match.group(1)), int(match.group(2)))
            webchat_changes.remember(runtime, user, version, history["cursor"], history["has_ticket"])
            return jsonify(history)
        except SQLAlchemyError:
            return error("ระบบขัดข้องชั่วคราว ลองใหม่อีกครั้ง", "temporarily unavailable", 503)

    @bp.post("/chat/api/start")
    def chat_start() -> Any:
        user = web_user(create=True)
        assert user is not None
        try:
            _submit(user, f"{user}:start", {"user": user, "kind": "start"}, "start")
        except SQLAlchemyError:
            return error("ระบบขัดข้องชั่วคราว ลองใหม่อีกครั้ง", "temporarily unavailable", 503)
        return jsonify(ok=True)

    @bp.post("/chat/api/messages")
    def chat_send() -> Any:
        if not request.is_json:
            return error("ต้องส่งเป็น JSON", "expected an application/json body", 415)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"text", "client_id"}:
            return error("รูปแบบข้อมูลไม่ถูกต้อง", 'expected {"text": ..., "client_id": ...}')
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return error("กรุณาพิมพ์ข้อความ", "'text' must be a non-empty string")
        if len(text) > MAX_TEXT:
            return error(f"ข้อความยาวเกิน {MAX_TEXT} ตัวอักษร", f"'text' is longer than {MAX_TEXT} characters")
        client_id = body.get("client_id", uuid.uuid4().hex)
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            return error("client_id ไม่ถูกต้อง", "'client_id' must be 32 lowercase hex digits")
        user = web_user(create=True)
        assert user is not None
        try:
            _submit(user, f"{user}:{client_id}", {"user": user, "kind": "text", "text": text.strip()}, "text")
        except SQLAlchemyError:
            return error("ระบบขัดข้องชั่วคราว ลองใหม่อีกครั้ง", "temporarily unavailable", 503)
        return jsonify(ok=True)
