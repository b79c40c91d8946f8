"""Log lines as text (the default) or, with LOG_FORMAT=json, one JSON object per line.

A JSON line has time (UTC, ISO 8601), level, logger, message and request_id (the web request's
X-Request-ID, or the RQ job id in the worker; null outside both), plus the exception text when
there is one. The request id lives in a context variable that the web app and the worker set.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# An id a caller sends is echoed back and logged: keep it short and free of anything a log reader would trip on.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def incoming_request_id(header: str | None) -> str:
    """The caller's X-Request-ID when it is a plain token, else a new one."""
    if header and _SAFE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Set the root logger's one handler (idempotent: a second call replaces the first's format)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "clinic", False)), None)
    if handler is None:
        for existing in list(root.handlers):
            root.removeHandler(existing)
        handler = logging.StreamHandler()
        handler.clinic = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.setLevel(level)
