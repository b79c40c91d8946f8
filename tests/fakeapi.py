"""A small local HTTP server that plays the LINE Messaging API and the Facebook Graph API.

The product's real clients (line-bot-sdk, requests) are pointed at it through
LINE_API_BASE_URL, LINE_DATA_API_BASE_URL and GRAPH_API_BASE_URL. It records every
request it receives, answers like the real APIs (including LINE's 409 for a push
repeated with the same X-Line-Retry-Key), and can be told to fail or to be slow.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Override:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    times: int  # how many requests it answers; -1 for all
    headers: dict[str, str] = field(default_factory=dict)
    skip: int = 0  # matching requests let through (answered normally) before it starts answering


class FakeApiServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.delay = 0.0  # seconds before each answer (a slow API)
        self.content: dict[str, tuple[bytes, str]] = {}  # LINE message id -> (bytes, content type)
        self.profiles: dict[str, dict[str, Any]] = {}
        self._overrides: list[Override] = []
        self._accepted_retry_keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None

    # --- control -----------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if fake.delay:
                    time.sleep(fake.delay)
                status, payload, headers = fake._answer(self.command, self.path, dict(self.headers), body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                if not isinstance(payload, bytes):
                    self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail(self, method: str, path_regex: str, status: int, body: Any = None, *, times: int = 1,
             headers: dict[str, str] | None = None, skip: int = 0) -> None:  # fmt: skip
        """Answer the next `times` matching requests with `status` (times=-1: until `clear_failures`),
        after letting `skip` of them through."""
        with self._lock:
            self._overrides.append(
                Override(method.upper(), re.compile(path_regex), status,
                         body if body is not None else {"message": "fake failure"}, times, headers or {}, skip)
            )  # fmt: skip

    def clear_failures(self) -> None:
        with self._lock:
            self._overrides.clear()

    def matching(self, method: str, path_regex: str, *, status: int | None = None) -> list[Recorded]:
        pattern = re.compile(path_regex)
        with self._lock:
            return [
                r for r in self.requests
                if r.method == method.upper() and pattern.search(r.path) and (status is None or r.status == status)
            ]  # fmt: skip

    def wait_for(self, predicate: Callable[[FakeApiServer], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.02)
        return predicate(self)

    # --- behaviour -----------------------------------------------------------------

    def _next_id(self) -> str:
        self._counter += 1
        return str(100000 + self._counter)

    def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict]:
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        with self._lock:
            status, payload, extra = self._route(method, path, headers, body)
            lowered = {k.lower(): v for k, v in headers.items()}
            self.requests.append(Recorded(method, path, query, lowered, body, status))
        return status, payload, extra

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict]:
        for override in self._overrides:
            if override.method == method and override.pattern.search(path) and override.times != 0:
                if override.skip > 0:
                    override.skip -= 1
                    continue
                if override.times > 0:
                    override.times -= 1
                return override.status, override.body, override.headers
        lowered = {k.lower(): v for k, v in headers.items()}

        if method == "POST" and path in ("/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/message/multicast"):
            if not lowered.get("authorization", "").startswith("Bearer "):
                return 401, {"message": "Authentication failed"}, {}
            retry_key = lowered.get("x-line-retry-key")
            if retry_key and retry_key in self._accepted_retry_keys:
                # LINE's answer to a retried request it already accepted.
                return (
                    409,
                    {"message": "The retry key is already accepted"},
                    {"x-line-accepted-request-id": self._accepted_retry_keys[retry_key]},
                )
            request_id = self._next_id()
            if retry_key:
                self._accepted_retry_keys[retry_key] = request_id
            messages = json.loads(body or b"{}").get("messages", [])
            return (
                200,
                {"sentMessages": [{"id": self._next_id(), "quoteToken": "q"} for _ in messages]},
                {"x-line-request-id": request_id},
            )
        match = re.fullmatch(r"/v2/bot/message/([^/]+)/content", path)
        if method == "GET" and match:
            found = self.content.get(match.group(1))
            if found is None:
                return 404, {"message": "Not found"}, {}
            return 200, found[0], {"Content-Type": found[1]}
        match = re.fullmatch(r"/v2/bot/profile/([^/]+)", path)
        if method == "GET" and match:
            user_id = match.group(1)
            profile = self.profiles.get(user_id, {"displayName": "ผู้ใช้ทดสอบ", "language": "th"})
            return 200, {"userId": user_id, **profile}, {}
        if method == "POST" and re.fullmatch(r"/v[0-9.]+/me/messages", path):
            recipient = json.loads(body or b"{}").get("recipient", {}).get("id", "")
            return 200, {"recipient_id": recipient, "message_id": f"m_{self._next_id()}"}, {}
        return 404, {"message": f"fake API has no route {method} {path}"}, {}
