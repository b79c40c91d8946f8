"""The LINE Messaging API through line-bot-sdk v3, pointed at LINE_API_BASE_URL / LINE_DATA_API_BASE_URL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    ImageMessage,
    Message,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuRequest,
    RichMenuResponse,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from bot.channel_error import ChannelApiError
from bot.message_split import split_messages
from clinic.config import Config
from clinic.file_links import LinkMaker
from clinic.thaidate import format_datetime

# (connect, read) seconds: a slow API must not hold a worker for long.
SEND_TIMEOUT = (5, 20)
CONTENT_TIMEOUT = (5, 120)
# The loading animation is a courtesy: it must never hold up the answer.
LOADING_TIMEOUT = (2, 3)
MAX_MESSAGES = 5  # LINE accepts at most five messages per reply or push
MAX_TEXT = 5000


@dataclass(frozen=True)
class Content:
    data: bytes
    content_type: str


def to_line_messages(payload: list[dict[str, Any]], links: LinkMaker | None = None) -> list[Message]:
    """Channel-neutral messages (see clinic.outbox) as LINE messages, in order.

    Texts become text messages with their quick replies; texts over LINE's 5,000 characters
    become several messages (`bot.message_split`), never cut. A bot cannot send LINE a file, so an
    attached image becomes an image message whose URLs LINE fetches (signed links, `links`) and
    any other file a text message carrying its signed link and the time the link expires.
    """
    messages: list[Message] = []
    for item in payload:
        if "attachment" in item:
            if links is None:
                raise ValueError("a payload with attachments needs links to send them on LINE")
            messages.append(_attachment_message(item["attachment"], links))
            continue
        for part in split_messages([item], MAX_TEXT):
            quick_reply = None
            if part.get("quick_replies"):
                quick_reply = QuickReply(
                    items=[
                        QuickReplyItem(action=MessageAction(label=button["label"], text=button["text"]))
                        for button in part["quick_replies"]
                    ]
                )
            messages.append(TextMessage(text=part["text"], quick_reply=quick_reply))
    return messages


def _attachment_message(reference: dict[str, Any], links: LinkMaker) -> Message:
    attachment_id = int(reference["id"])
    if reference.get("kind") == "image":
        return ImageMessage(
            original_content_url=links.url(attachment_id, "full"),
            preview_image_url=links.url(attachment_id, "preview"),
        )
    until = format_datetime(links.expires_at)
    name = reference.get("filename") or "ไฟล์"
    return TextMessage(
        text=f"📎 {name}\n{links.url(attachment_id, 'full')}\n"
        f"ดาวน์โหลดได้ถึง {until} / The link works until {links.expires_at:%Y-%m-%d %H:%M} UTC"
    )


def to_line_calls(payload: list[dict[str, Any]], links: LinkMaker | None = None) -> list[list[Message]]:
    """The messages in the groups of at most five that one reply or push call may carry, in order."""
    messages = to_line_messages(payload, links)
    return [messages[start : start + MAX_MESSAGES] for start in range(0, len(messages), MAX_MESSAGES)]


def call_retry_key(retry_key: str, call: int) -> str:
    """X-Line-Retry-Key of a row's `call`-th push: the row's own key first, then derived from it.

    Derived, not random, so a retried row sends each call with the key LINE already saw and
    LINE answers 409 for a call it accepted before instead of delivering it twice.
    """
    if call == 0:
        return retry_key
    return str(uuid.uuid5(uuid.UUID(retry_key), f"call-{call}"))


def _error(exc: ApiException) -> ChannelApiError:
    body = exc.body.decode() if isinstance(exc.body, bytes) else (exc.body or exc.reason or "")
    try:
        parsed = json.loads(body)
        detail = parsed.get("message", body)
        if parsed.get("details"):
            detail += " " + json.dumps(parsed["details"], ensure_ascii=False)
    except (ValueError, AttributeError):
        detail = body
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    retry_after = headers.get("retry-after")
    return ChannelApiError(
        int(exc.status or 0),
        str(detail) or "LINE API error",
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )


class LineApi:
    def __init__(self, config: Config) -> None:
        self._token = config.line_channel_access_token
        self._host = config.line_api_base_url
        self._data_host = config.line_data_api_base_url

    @contextmanager
    def _client(self, host: str) -> Iterator[ApiClient]:
        with ApiClient(Configuration(host=host, access_token=self._token)) as client:
            try:
                yield client
            except ApiException as exc:
                raise _error(exc) from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise ChannelApiError(0, f"LINE API unreachable: {exc}") from exc

    def reply(self, reply_token: str, messages: list[Message]) -> None:
        """At most five messages (one call of `to_line_calls`) with a reply token."""
        with self._client(self._host) as client:
            MessagingApi(client).reply_message(
                ReplyMessageRequest(reply_token=reply_token, messages=messages),
                _request_timeout=SEND_TIMEOUT,
            )

    def push(self, to: str, messages: list[Message], *, retry_key: str) -> None:
        """Push with X-Line-Retry-Key; a 409 for an already accepted key means it was delivered."""
        with self._client(self._host) as client:
            try:
                MessagingApi(client).push_message(
                    PushMessageRequest(to=to, messages=messages),
                    x_line_retry_key=retry_key,
                    _request_timeout=SEND_TIMEOUT,
                )
            except ApiException as exc:
                headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
                if exc.status == 409 and "x-line-accepted-request-id" in headers:
                    return
                raise

    def content(self, message_id: str) -> Content:
        """The bytes of an image, file, video or audio a user sent."""
        with self._client(self._data_host) as client:
            response = MessagingApiBlob(client).get_message_content_with_http_info(
                message_id, _request_timeout=CONTENT_TIMEOUT
            )
            headers = {k.lower(): v for k, v in (response.headers or {}).items()}
            return Content(bytes(response.raw_data or b""), headers.get("content-type", "application/octet-stream"))

    def display_name(self, user_id: str) -> str:
        with self._client(self._host) as client:
            return MessagingApi(client).get_profile(user_id, _request_timeout=SEND_TIMEOUT).display_name or ""

    def quota(self) -> tuple[int | None, int]:
        """This month's message quota (None: no limit) and the messages counted against it so far."""
        with self._client(self._host) as client:
            api = MessagingApi(client)
            quota = api.get_message_quota(_request_timeout=SEND_TIMEOUT)
            used = api.get_message_quota_consumption(_request_timeout=SEND_TIMEOUT)
        return (quota.value if quota.type == "limited" else None), int(used.total_usage or 0)

    def show_loading(self, chat_id: str, seconds: int) -> None:
        """LINE's loading animation in a one-to-one chat; it ends when the bot's next message arrives."""
        with self._client(self._host) as client:
            MessagingApi(client).show_loading_animation(
                ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=seconds),
                _request_timeout=LOADING_TIMEOUT,
            )

    # --- rich menus (`clinic line rich-menu`) ----------------------------------------------------

    def create_rich_menu(self, menu: RichMenuRequest) -> str:
        with self._client(self._host) as client:
            return MessagingApi(client).create_rich_menu(menu, _request_timeout=SEND_TIMEOUT).rich_menu_id

    def upload_rich_menu_image(self, rich_menu_id: str, png: bytes) -> None:
        """The menu's image, on the data host (api-data.line.me) like every LINE upload."""
        with self._client(self._data_host) as client:
            MessagingApiBlob(client).set_rich_menu_image(
                rich_menu_id, png, _headers={"Content-Type": "image/png"}, _request_timeout=CONTENT_TIMEOUT
            )

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        with self._client(self._host) as client:
            MessagingApi(client).set_default_rich_menu(rich_menu_id, _request_timeout=SEND_TIMEOUT)

    def rich_menus(self) -> list[RichMenuResponse]:
        with self._client(self._host) as client:
            return list(MessagingApi(client).get_rich_menu_list(_request_timeout=SEND_TIMEOUT).richmenus)

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        with self._client(self._host) as client:
            MessagingApi(client).delete_rich_menu(rich_menu_id, _request_timeout=SEND_TIMEOUT)
