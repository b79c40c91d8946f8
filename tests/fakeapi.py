"""A small local HTTP server that plays the LINE Messaging API and the Facebook Graph API.

The product's real clients (line-bot-sdk, requests) are pointed at it through
LINE_API_BASE_URL, LINE_DATA_API_BASE_URL and GRAPH_API_BASE_URL. It records every
request it receives, answers like the real APIs (including LINE's 409 for a push
repeated with the same X-Line-Retry-Key), and can be told to fail or to be slow.
"""

from __future__ import annotations

import io
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
        # LINE's monthly message quota: None plays an account without a limit; pushes count one each.
        self.quota_limit: int | None = None
        self.quota_used = 0
        self.graph_profiles: dict[str, dict[str, Any]] = {}  # PSID -> Graph user profile fields
        self.messenger_profile: dict[str, Any] = {}  # the page's Messenger profile, as last set
        self.rich_menus: dict[str, dict[str, Any]] = {}  # rich menu id -> the object LINE keeps
        self.rich_menu_images: dict[str, tuple[bytes, str]] = {}  # rich menu id -> (bytes, content type)
        self.default_rich_menu: str | None = None
        self.messenger_files: list[dict[str, Any]] = []  # files sent through the Send API as form data
        self._slow: list[tuple[str, re.Pattern[str], float]] = []
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
                for method, pattern, seconds in list(fake._slow):
                    if method == self.command and pattern.search(urlsplit(self.path).path):
                        time.sleep(seconds)
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

    def slow(self, method: str, path_regex: str, seconds: float) -> None:
        """Answer matching requests only after `seconds` (one slow endpoint)."""
        with self._lock:
            self._slow.append((method.upper(), re.compile(path_regex), seconds))

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
        # LINE_DATA_API_BASE_URL may point at {url}/api-data: the data host (api-data.line.me),
        # recorded with its prefix so a test sees which host a request went to.
        data_host = path.startswith(DATA_HOST_PREFIX + "/")
        route_path = path[len(DATA_HOST_PREFIX) :] if data_host else path
        with self._lock:
            status, payload, extra = self._route(method, route_path, headers, body, query, data_host)
            lowered = {k.lower(): v for k, v in headers.items()}
            self.requests.append(Recorded(method, path, query, lowered, body, status))
        return status, payload, extra

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes,
               query: dict[str, list[str]], data_host: bool) -> tuple[int, Any, dict]:  # fmt: skip
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
            if path == "/v2/bot/message/push" and self.quota_limit is not None:
                if self.quota_used >= self.quota_limit:
                    return 429, {"message": "You have reached your monthly limit."}, {}
                self.quota_used += 1
            request_id = self._next_id()
            if retry_key:
                self._accepted_retry_keys[retry_key] = request_id
            messages = json.loads(body or b"{}").get("messages", [])
            problem = _line_messages_problem(messages)
            if problem:
                return 400, {"message": "The request body has 1 error(s)", "details": [{"message": problem}]}, {}
            return (
                200,
                {"sentMessages": [{"id": self._next_id(), "quoteToken": "q"} for _ in messages]},
                {"x-line-request-id": request_id},
            )
        if method == "GET" and path == "/v2/bot/message/quota":
            if self.quota_limit is None:
                return 200, {"type": "none"}, {}
            return 200, {"type": "limited", "value": self.quota_limit}, {}
        if method == "GET" and path == "/v2/bot/message/quota/consumption":
            return 200, {"totalUsage": self.quota_used}, {}
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
        if (
            method == "POST"
            and re.fullmatch(r"/v[0-9.]+/me/messages", path)
            and lowered.get("content-type", "").startswith("multipart/form-data")
        ):
            return self._messenger_upload(lowered["content-type"], body, query)
        if method == "POST" and re.fullmatch(r"/v[0-9.]+/me/messages", path):
            recipient = json.loads(body or b"{}").get("recipient", {}).get("id", "")
            return 200, {"recipient_id": recipient, "message_id": f"m_{self._next_id()}"}, {}
        if path.startswith("/v2/bot/"):
            found = self._line_more(method, path, lowered, body, data_host)
            if found is not None:
                return found
        if re.fullmatch(r"/v[0-9.]+/.+", path) and not path.startswith("/v2/bot/"):
            found = self._graph_more(method, path, lowered, body, query)
            if found is not None:
                return found
        return 404, {"message": f"fake API has no route {method} {path}"}, {}

    # --- Graph: a message with a file uploaded in the same call (Send API as form data) -------

    def _messenger_upload(self, content_type: str, body: bytes, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
        """`recipient`, `messaging_type` (+ `tag`), `message` with `attachment.type` and a `payload`,
        and the bytes in `filedata` with a file name and a content type, as Meta's docs show."""
        if not query.get("access_token"):
            return 400, _graph_error("An access token is required to request this resource.", 104), {}
        fields, files = _multipart(content_type, body)
        try:
            recipient = json.loads(fields.get("recipient", ""))
            message = json.loads(fields.get("message", ""))
        except ValueError:
            return 400, _graph_error("(#100) recipient and message must be JSON", 100), {}
        attachment = message.get("attachment") if isinstance(message, dict) else None
        kind = (attachment or {}).get("type")
        problem = None
        if not isinstance(recipient, dict) or not recipient.get("id"):
            problem = "recipient.id is required"
        elif fields.get("messaging_type") not in ("RESPONSE", "MESSAGE_TAG", "UPDATE"):
            problem = "messaging_type is required"
        elif fields.get("messaging_type") == "MESSAGE_TAG" and not fields.get("tag"):
            problem = "a MESSAGE_TAG message needs a tag"
        elif kind not in ("image", "audio", "video", "file") or not isinstance(attachment.get("payload"), dict):
            problem = "message.attachment needs a type (image, audio, video, file) and a payload"
        elif "url" in attachment["payload"] or set(files) != {"filedata"}:
            problem = "an upload carries the file in filedata (and no payload.url)"
        elif not files["filedata"][0] or not files["filedata"][2]:
            problem = "filedata needs a file name and bytes"
        elif kind == "image" and not files["filedata"][1].startswith("image/"):
            problem = "an image attachment must be uploaded with an image content type"
        elif len(files["filedata"][2]) > 25 * 1024 * 1024:
            problem = "attachments are limited to 25 MB"
        if problem:
            return 400, _graph_error(f"(#100) {problem}", 100), {}
        filename, file_type, data = files["filedata"]
        self.messenger_files.append(
            {"recipient": recipient["id"], "type": kind, "filename": filename, "content_type": file_type,
             "data": data, "messaging_type": fields["messaging_type"], "tag": fields.get("tag")}
        )  # fmt: skip
        return 200, {"recipient_id": recipient["id"], "message_id": f"m_{self._next_id()}",
                     "attachment_id": self._next_id()}, {}  # fmt: skip

    # --- LINE: loading animation and rich menus ---------------------------------------------

    def _line_more(self, method: str, path: str, headers: dict[str, str], body: bytes,
                   data_host: bool) -> tuple[int, Any, dict] | None:  # fmt: skip
        if not headers.get("authorization", "").startswith("Bearer "):
            return 401, {"message": "Authentication failed"}, {}
        json_body = headers.get("content-type", "").startswith("application/json")
        if method == "POST" and path == "/v2/bot/chat/loading/start":
            request = json.loads(body or b"{}") if json_body else None
            seconds = (request or {}).get("loadingSeconds", 20)
            if not request or not request.get("chatId") or not (5 <= seconds <= 60 and seconds % 5 == 0):
                return 400, {"message": "The request body has 1 error(s)"}, {}
            return 202, {}, {}
        if method == "POST" and path == "/v2/bot/richmenu":
            request = json.loads(body or b"{}") if json_body else {}
            problem = _rich_menu_problem(request)
            if problem:
                return 400, {"message": "The request body has 1 error(s)", "details": [{"message": problem}]}, {}
            menu_id = f"richmenu-{self._next_id()}"
            self.rich_menus[menu_id] = {"richMenuId": menu_id, **request}
            return 200, {"richMenuId": menu_id}, {}
        match = re.fullmatch(r"/v2/bot/richmenu/([^/]+)/content", path)
        if method == "POST" and match:
            if not data_host:
                return 404, {"message": "Not found"}, {}  # only api-data.line.me takes images
            menu = self.rich_menus.get(match.group(1))
            if menu is None:
                return 404, {"message": "Not found"}, {}
            if match.group(1) in self.rich_menu_images:
                return 400, {"message": "An image has already been uploaded to the richmenu"}, {}
            content_type = headers.get("content-type", "")
            if content_type not in ("image/png", "image/jpeg") or not body or len(body) > 1024 * 1024:
                return 400, {"message": "Invalid image"}, {}
            from PIL import Image

            with Image.open(io.BytesIO(body)) as image:
                size = image.size
            if size != (menu["size"]["width"], menu["size"]["height"]):
                return 400, {"message": f"Image size {size} does not match the rich menu size"}, {}
            self.rich_menu_images[match.group(1)] = (body, content_type)
            return 200, {}, {}
        match = re.fullmatch(r"/v2/bot/user/all/richmenu/([^/]+)", path)
        if method == "POST" and match:
            if match.group(1) not in self.rich_menus:
                return 404, {"message": "Not found"}, {}
            if match.group(1) not in self.rich_menu_images:
                return 400, {"message": "must upload richmenu image before applying it to user"}, {}
            self.default_rich_menu = match.group(1)
            return 200, {}, {}
        if method == "GET" and path == "/v2/bot/user/all/richmenu":
            if self.default_rich_menu is None:
                return 404, {"message": "no default richmenu"}, {}
            return 200, {"richMenuId": self.default_rich_menu}, {}
        if method == "GET" and path == "/v2/bot/richmenu/list":
            return 200, {"richmenus": list(self.rich_menus.values())}, {}
        match = re.fullmatch(r"/v2/bot/richmenu/([^/]+)", path)
        if method == "DELETE" and match:
            if self.rich_menus.pop(match.group(1), None) is None:
                return 404, {"message": "Not found"}, {}
            self.rich_menu_images.pop(match.group(1), None)
            if self.default_rich_menu == match.group(1):
                self.default_rich_menu = None
            return 200, {}, {}
        return None

    # --- Graph: the page's Messenger profile and user profiles --------------------------------

    def _graph_more(self, method: str, path: str, headers: dict[str, str], body: bytes,
                    query: dict[str, list[str]]) -> tuple[int, Any, dict] | None:  # fmt: skip
        if not query.get("access_token"):
            return 400, _graph_error("An access token is required to request this resource.", 104), {}
        if method == "POST" and re.fullmatch(r"/v[0-9.]+/me/messenger_profile", path):
            if not headers.get("content-type", "").startswith("application/json"):
                return 400, _graph_error("(#100) The parameter fields is required", 100), {}
            request = json.loads(body or b"{}")
            problem = _messenger_profile_problem(request, {**self.messenger_profile, **request})
            if problem:
                return 400, _graph_error(f"(#100) {problem}", 100), {}
            self.messenger_profile.update(request)
            return 200, {"result": "success"}, {}
        match = re.fullmatch(r"/v[0-9.]+/([0-9A-Za-z_-]+)", path)
        if method == "GET" and match and match.group(1) != "me":
            fields = (query.get("fields") or [""])[0].split(",")
            if not fields or fields == [""]:
                return 400, _graph_error("(#100) fields is required", 100), {}
            psid = match.group(1)
            profile = {"first_name": "ผู้ใช้", "last_name": "เฟซบุ๊ก", **self.graph_profiles.get(psid, {})}
            return 200, {**{f: profile[f] for f in fields if f in profile}, "id": psid}, {}
        return None


DATA_HOST_PREFIX = "/api-data"


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """A multipart/form-data body as (fields, files: name -> (file name, content type, bytes))."""
    from email.parser import BytesParser
    from email.policy import HTTP

    parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[str(name)] = (part.get_filename() or "", part.get_content_type(), data)
        else:
            fields[str(name)] = data.decode()
    return fields, files


def _line_messages_problem(messages: list[dict[str, Any]]) -> str | None:
    """What LINE would refuse in a reply's or push's messages (text and image messages), or None."""
    if not 1 <= len(messages) <= 5:
        return "messages: 1 to 5"
    for message in messages:
        if message.get("type") == "text":
            if not message.get("text") or len(message["text"]) > 5000:
                return "text: 1 to 5000 characters"
        elif message.get("type") == "image":
            if set(message) - {"type", "originalContentUrl", "previewImageUrl", "quickReply", "sender"}:
                return f"image: unknown properties {sorted(set(message) - {'type'})}"
            for key in ("originalContentUrl", "previewImageUrl"):
                url = message.get(key) or ""
                if not url.startswith("https://") or len(url) > 2000:
                    return f"{key} must be an HTTPS URL of at most 2000 characters"
    return None


def _graph_error(message: str, code: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}}


def _rich_menu_problem(menu: dict[str, Any]) -> str | None:
    """What LINE's validation would refuse in a rich menu object, or None."""
    size = menu.get("size") or {}
    if size.get("width") != 2500 or size.get("height") not in (843, 1686):
        return "size must be 2500x1686 or 2500x843"
    if not isinstance(menu.get("selected"), bool):
        return "selected is required"
    if not menu.get("name") or len(menu["name"]) > 300:
        return "name is required (at most 300 characters)"
    if not menu.get("chatBarText") or len(menu["chatBarText"]) > 14:
        return "chatBarText is required (at most 14 characters)"
    areas = menu.get("areas") or []
    if not 1 <= len(areas) <= 20:
        return "areas: 1 to 20"
    for area in areas:
        bounds, action = area.get("bounds") or {}, area.get("action") or {}
        if any(not isinstance(bounds.get(k), int) for k in ("x", "y", "width", "height")):
            return "bounds need x, y, width and height"
        if bounds["x"] + bounds["width"] > size["width"] or bounds["y"] + bounds["height"] > size["height"]:
            return "an area lies outside the rich menu"
        if action.get("type") != "message" or not action.get("text") or len(action.get("label", "")) > 20:
            return "this fake knows message actions (text, label of at most 20 characters) only"
    return None


def _messenger_profile_problem(request: dict[str, Any], merged: dict[str, Any]) -> str | None:
    """What the Graph API would refuse in a messenger_profile update, or None."""
    known = {"get_started", "greeting", "persistent_menu", "ice_breakers", "whitelisted_domains"}
    if not request or set(request) - known:
        return f"unknown fields {sorted(set(request) - known)}"
    if "get_started" in request and not (request["get_started"] or {}).get("payload"):
        return "get_started needs a payload"
    for greeting in request.get("greeting", []):
        if set(greeting) != {"locale", "text"} or not 1 <= len(greeting["text"]) <= 160:
            return "greeting: locale and a text of at most 160 characters"
    if "persistent_menu" in request:
        if "get_started" not in merged:
            return "persistent menu requires the get started button"
        for menu in request["persistent_menu"]:
            if "locale" not in menu or not 1 <= len(menu.get("call_to_actions", [])) <= 20:
                return "persistent_menu: locale and 1 to 20 call_to_actions"
            for button in menu["call_to_actions"]:
                if button.get("type") != "postback" or not 1 <= len(button.get("title", "")) <= 30:
                    return "call_to_actions: postback buttons with a title of at most 30 characters"
                if not 1 <= len(button.get("payload", "")) <= 1000:
                    return "call_to_actions: a payload of at most 1000 characters"
    return None
