"""`GET /files/<token>`: a staff reply's file through a signed, expiring link, without a login.

LINE fetches an image message's pictures from such links and a LINE requester downloads any
other file from one (`bot.delivery`, `clinic.file_links`). The token names one attachment and
one copy of it; anything else about the route is refused the same way:

- a token we did not sign, or that names no file of a staff reply (an outbound message), is 404,
  as is `/files/` itself: nothing here is ever listed;
- a genuine link past its 7 days is 410 Gone;
- images are served inline as JPEG or PNG (`clinic.image_copies`), every other file only as a
  download (`application/octet-stream`, `Content-Disposition: attachment`), with `nosniff` and a
  sandboxing Content-Security-Policy, never indexed and never sent on as a referrer.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from sqlalchemy.orm import undefer

from clinic import file_links, image_copies, uploads
from clinic.models import Attachment
from clinic.runtime import Runtime

MAX_TOKEN = 300


def _runtime() -> Runtime:
    return current_app.extensions["clinic"]


def register(bp: Blueprint) -> None:
    @bp.get("/files/<token>")
    def shared_file(token: str) -> Response:
        runtime = _runtime()
        if len(token) > MAX_TOKEN:
            abort(404)
        try:
            link = file_links.read(runtime.config.secret_key, token, now=runtime.clock.now())
        except file_links.LinkInvalid:
            abort(404)
        except file_links.LinkExpired:
            abort(410)
        with runtime.db.transaction() as session:
            item = session.get(Attachment, link.attachment_id, options=[undefer(Attachment.content)])
            if item is None or item.content is None or item.message is None or item.message.kind != "outbound":
                abort(404)
            content, content_type, filename = item.content, item.content_type, item.filename
        image = content_type in uploads.INLINE_IMAGES
        if link.variant == "preview" and not image:
            abort(404)
        if image:
            content, content_type = image_copies.for_line(content, content_type, link.variant)
        response = Response(content, mimetype=content_type if image else "application/octet-stream")
        response.headers["Content-Disposition"] = uploads.content_disposition(
            "inline" if image else "attachment", filename, fallback=f"file-{link.attachment_id}"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response.headers["Cache-Control"] = "private, max-age=3600"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
