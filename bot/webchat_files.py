"""Files in the web chat: a requester uploads images and documents, and fetches back their own.

`POST /chat/api/uploads` (multipart: `files` 1-5 parts, optional `text` caption and `client_id`)
checks every file (`clinic.uploads`: at most 20 MB, kind read from the bytes), then in ONE
transaction stores them as attachments waiting for a message and stores the web event that names
them, and only then answers 200. The event is processed like a typed message (`bot.webchat`), and
the conversation links the uploads to the ticket as it does LINE's files; if that processing is
lost, the worker's job or recovery sweep does it from the stored event.

Only the browser whose cookie uploaded a file may fetch it (`GET /chat/api/attachments/<id>`);
anyone else gets 404, as if it did not exist.

Cross-site requests: multipart is a content type a plain HTML form on another site can send.
The cookie is SameSite=Lax (not sent with another site's POST), an upload needs an existing cookie
(it never mints a browser id), it must carry the `X-Clinic-Chat` header, which no form can set and
which another origin's script can only send after a CORS preflight that we never grant, and
`bot.webchat` refuses any POST a browser marks as coming from another site.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from bot import upload_limit
from bot.events import MAX_ATTACHMENT_BYTES
from bot.webchat import CLIENT_ID, MAX_TEXT, error, process_now, web_user
from clinic import inbound, uploads, webchat_changes
from clinic.models import InboundEvent
from clinic.runtime import Runtime

HEADER = "X-Clinic-Chat"
# The parts of a multipart body besides the files (boundaries, headers, caption, client id).
FORM_OVERHEAD = 64 * 1024
MAX_UPLOAD_REQUEST = uploads.MAX_FILES_PER_MESSAGE * MAX_ATTACHMENT_BYTES + FORM_OVERHEAD
_FIELDS = {"text", "client_id"}
_LIMIT_MB = MAX_ATTACHMENT_BYTES // (1024 * 1024)


class _AlreadyStored(Exception):
    """A resend (same client_id) raced its twin; roll back this copy of the files."""


def _runtime() -> Runtime:
    return current_app.extensions["clinic"]


def _too_large() -> tuple[Response, int]:
    return error(
        f"ไฟล์ใหญ่เกินไป ส่งได้ไฟล์ละไม่เกิน {_LIMIT_MB} MB และครั้งละไม่เกิน {uploads.MAX_FILES_PER_MESSAGE} ไฟล์",
        f"too large: at most {_LIMIT_MB} MB per file and {uploads.MAX_FILES_PER_MESSAGE} files per message",
        413,
    )


def _sizes(parts: list[FileStorage]) -> list[int]:
    """Each part's size, without reading it: the parser has spooled the parts to temporary files."""
    sizes = []
    for part in parts:
        sizes.append(part.stream.seek(0, os.SEEK_END))
        part.stream.seek(0)
    return sizes


def _store(user: str, key: str, text: str, parts: list[FileStorage]) -> tuple[int | None, list[dict[str, Any]]]:
    """Files and event in one transaction; (the new event's id or None for a resend, what was kept).

    One file at a time is read, checked and inserted, so a request holds one file's bytes in memory,
    not five; a file refused half-way (UploadRefused) rolls back those before it.
    """
    runtime = _runtime()
    now = runtime.clock.now()
    try:
        with runtime.db.transaction() as session:
            stored = select(InboundEvent.id).where(InboundEvent.channel == "web", InboundEvent.event_key == key)
            if session.scalar(stored) is not None:
                return None, []
            kept = []
            for part in parts:
                checked = uploads.check(
                    part.filename or "", part.stream.read(MAX_ATTACHMENT_BYTES + 1), max_bytes=MAX_ATTACHMENT_BYTES
                )
                upload_id = uploads.store(session, owner=user, file=checked, now=now)
                kept.append(
                    {
                        "id": upload_id,
                        "name": checked.filename,
                        "type": checked.content_type,
                        "size": len(checked.content),
                        "kind": checked.kind,
                    }
                )
                del checked
            payload = {"user": user, "kind": "attachment", "text": text, "uploads": kept}
            event, new = inbound.record(
                session,
                channel="web",
                event_key=key,
                event_type="attachment",
                payload=payload,
                now=now,
                channel_user_id=user,
            )
            webchat_changes.touch(session, user)
            if not new:
                raise _AlreadyStored
            return event.id, kept
    except _AlreadyStored:
        return None, []


def register(bp: Blueprint) -> None:
    @bp.post("/chat/api/uploads")
    def chat_upload() -> Any:
        user = web_user(create=False)
        if user is None:
            return error("กรุณาเปิดหน้าแชตก่อนส่งไฟล์", "open the chat page before sending files", 403)
        if request.headers.get(HEADER) != "1":
            return error("คำขอไม่ได้มาจากหน้าแชต", f"the {HEADER} header is missing", 403)
        if request.mimetype != "multipart/form-data":
            return error("ต้องส่งเป็น multipart/form-data", "expected a multipart/form-data body", 415)
        # The app allows 1 MB bodies; this route alone takes files, up to five of 20 MB.
        request.max_content_length = MAX_UPLOAD_REQUEST
        if request.content_length is not None and request.content_length > MAX_UPLOAD_REQUEST:
            return _too_large()
        runtime = _runtime()
        verdict = upload_limit.check(runtime, user, incoming_bytes=request.content_length or 0)
        if not verdict.allowed:
            response, status = error(
                "ส่งไฟล์มากเกินไปในหนึ่งชั่วโมง กรุณารอสักครู่แล้วลองใหม่",
                "too many files this hour; please wait and try again",
                429,
            )
            response.headers["Retry-After"] = str(verdict.retry_after)
            return response, status
        try:
            form, parts = request.form, request.files.getlist("files")
            unknown = (set(form) - _FIELDS) | (set(request.files) - {"files"})
        except RequestEntityTooLarge:
            return _too_large()
        sizes = _sizes(parts)
        upload_limit.record(runtime, user, files=0, sent_bytes=sum(sizes))
        if unknown:
            return error("รูปแบบข้อมูลไม่ถูกต้อง", "expected the fields files, text and client_id only")
        if not parts:
            return error("ไม่พบไฟล์ที่แนบ", "no file in 'files'")
        if len(parts) > uploads.MAX_FILES_PER_MESSAGE:
            n = uploads.MAX_FILES_PER_MESSAGE
            return error(f"แนบได้ครั้งละไม่เกิน {n} ไฟล์", f"at most {n} files per message")
        text = form.get("text", "").strip()
        if len(text) > MAX_TEXT:
            return error(f"ข้อความยาวเกิน {MAX_TEXT} ตัวอักษร", f"'text' is longer than {MAX_TEXT} characters")
        client_id = form.get("client_id") or uuid.uuid4().hex
        if not CLIENT_ID.match(client_id):
            return error("client_id ไม่ถูกต้อง", "'client_id' must be 32 lowercase hex digits")
        try:
            for part, size in zip(parts, sizes, strict=True):
                uploads.check_size(part.filename or "", size, max_bytes=MAX_ATTACHMENT_BYTES)
            event_id, kept = _store(user, f"{user}:{client_id}", text, parts)
        except uploads.TooLarge as exc:
            return jsonify(error=str(exc)), 413
        except uploads.NotAccepted as exc:
            return jsonify(error=str(exc)), 415
        except SQLAlchemyError:
            return error("ระบบขัดข้องชั่วคราว ลองใหม่อีกครั้ง", "temporarily unavailable", 503)
        upload_limit.record(runtime, user, files=len(kept), sent_bytes=0)
        if event_id is not None:
            process_now(event_id)
        return jsonify(ok=True, files=[{"name": k["name"], "type": k["type"], "size": k["size"]} for k in kept])

    @bp.get("/chat/api/attachments/<int:attachment_id>")
    def chat_attachment(attachment_id: int) -> Response:
        user = web_user(create=False)
        if user is None:
            abort(404)
        with _runtime().db.transaction() as session:
            item = uploads.owned(session, attachment_id, user)
            if item is None or item.content is None:
                abort(404)
            content, content_type, filename = item.content, item.content_type, item.filename
        inline = content_type in uploads.INLINE_IMAGES
        response = Response(content, mimetype=content_type if inline else "application/octet-stream")
        disposition = "inline" if inline else "attachment"
        response.headers["Content-Disposition"] = uploads.content_disposition(
            disposition, filename, fallback=f"file-{attachment_id}"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response
