"""The Messenger Send API (Facebook Graph) through `requests`, pointed at GRAPH_API_BASE_URL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from bot.channel_error import ChannelApiError
from bot.message_split import split_text
from clinic.config import Config

SEND_TIMEOUT = (5, 20)
CONTENT_TIMEOUT = (5, 120)
# Sending a file of up to 20 MB: the upload itself takes time on a slow link.
UPLOAD_TIMEOUT = (5, 120)
MAX_TEXT = 2000
MAX_QUICK_REPLY_PAYLOAD = 1000


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str


class TooLarge(Exception):
    """The attachment is over the size the clinic keeps."""


def to_messenger_messages(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Channel-neutral messages as Messenger messages of at most 2,000 characters, in order.

    The texts are joined by a blank line (one message for what the bot says in one turn) and
    a longer text is split at paragraph, line, sentence or word boundaries (`bot.message_split`),
    never cut. Quick replies come from the last message that has them and go on the last part.
    Each attached file follows as `{"clinic_attachment": {"id", "kind", "filename"}}`, which the
    sender turns into a real attachment (`MessengerApi.send_file`) with the stored bytes.
    """
    texts = [item for item in payload if "attachment" not in item]
    messages: list[dict[str, Any]] = []
    if texts:
        text = "\n\n".join(item["text"] for item in texts)
        messages = [{"text": part} for part in split_text(text, MAX_TEXT)]
        buttons = next((item["quick_replies"] for item in reversed(texts) if item.get("quick_replies")), None)
        if buttons:
            messages[-1]["quick_replies"] = [
                {"content_type": "text", "title": b["label"], "payload": b["text"][:MAX_QUICK_REPLY_PAYLOAD]}
                for b in buttons
            ]
    messages += [{"clinic_attachment": item["attachment"]} for item in payload if "attachment" in item]
    return messages


def _error(response: requests.Response) -> ChannelApiError:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    detail = error.get("message") or response.text[:500] or response.reason
    if error.get("code") is not None:
        subcode = f", subcode {error['error_subcode']}" if error.get("error_subcode") else ""
        detail = f"{detail} (code {error['code']}{subcode})"
    retry_after = response.headers.get("Retry-After")
    transient = True if error.get("is_transient") else None
    return ChannelApiError(
        response.status_code,
        detail,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        transient=transient,
    )


class MessengerApi:
    def __init__(self, config: Config) -> None:
        self._token = config.messenger_page_access_token
        self._base = config.graph_api_base_url

    def send(self, recipient: str, message: dict[str, Any], *, tag: str | None = None) -> str:
        """Send one message (of `to_messenger_messages`) to a page-scoped user id.

        RESPONSE inside the 24 h window, else MESSAGE_TAG `tag`.
        """
        body: dict[str, Any] = {
            "recipient": {"id": recipient},
            "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE",
            "message": message,
        }
        if tag:
            body["tag"] = tag
        try:
            response = requests.post(
                f"{self._base}/me/messages", params={"access_token": self._token}, json=body, timeout=SEND_TIMEOUT
            )
        except requests.RequestException as exc:
            raise ChannelApiError(0, f"Graph API unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise _error(response)
        return str(response.json().get("message_id", ""))

    def send_file(
        self, recipient: str, *, kind: str, filename: str, content_type: str, content: bytes, tag: str | None = None
    ) -> str:
        """Upload and send one file in one call: the Send API as form data with the bytes in `filedata`.

        `kind` is Messenger's attachment type (`image` or `file`); the asset is not kept for reuse
        (`is_reusable` false): each reply sends its own file.
        """
        message = {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
        form: dict[str, str] = {
            "recipient": json.dumps({"id": recipient}),
            "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE",
            "message": json.dumps(message),
        }
        if tag:
            form["tag"] = tag
        try:
            response = requests.post(
                f"{self._base}/me/messages",
                params={"access_token": self._token},
                data=form,
                files={"filedata": (filename or kind, content, content_type)},
                timeout=UPLOAD_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise ChannelApiError(0, f"Graph API unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise _error(response)
        return str(response.json().get("message_id", ""))

    def display_name(self, psid: str) -> str:
        """The sender's name from their Graph user profile (first and last name; the picture is not kept)."""
        try:
            response = requests.get(
                f"{self._base}/{quote(psid, safe='')}",
                params={"fields": "first_name,last_name", "access_token": self._token},
                timeout=SEND_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise ChannelApiError(0, f"Graph API unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise _error(response)
        profile = response.json()
        return " ".join(str(profile.get(f) or "").strip() for f in ("first_name", "last_name")).strip()

    def set_messenger_profile(self, profile: dict[str, Any]) -> None:
        """The page's Messenger profile: Get Started button, greeting, persistent menu."""
        try:
            response = requests.post(
                f"{self._base}/me/messenger_profile",
                params={"access_token": self._token},
                json=profile,
                timeout=SEND_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise ChannelApiError(0, f"Graph API unreachable: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise _error(response)

    def download(self, url: str, *, max_bytes: int) -> Download:
        """An attachment a user sent (Messenger gives a URL); stops reading past max_bytes."""
        try:
            with requests.get(url, stream=True, timeout=CONTENT_TIMEOUT) as response:
                if response.status_code != 200:
                    raise _error(response)
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise TooLarge(url)
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(url)
                    chunks.append(chunk)
                content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0]
                return Download(b"".join(chunks), content_type)
        except requests.RequestException as exc:
            raise ChannelApiError(0, f"attachment unreachable: {exc.__class__.__name__}") from exc
