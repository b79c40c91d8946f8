"""Reading one web-chat event (stored by `bot.webchat` or `bot.webchat_files`) into an action."""

from __future__ import annotations

from typing import Any

from bot.conversation import Incoming
from bot.events import Action, Ignored, UserInput
from clinic.tickets import NewAttachment


def read(payload: dict[str, Any]) -> Action:
    user = str(payload.get("user", ""))
    kind = payload.get("kind")
    if not user:
        return Ignored("no web user")
    if kind == "start":
        return UserInput("web", user, Incoming("follow"))
    if kind == "text":
        return UserInput("web", user, Incoming("text", text=str(payload.get("text", ""))))
    if kind == "attachment":
        # The files are already stored (attachments of no message yet); the ticket links them by id.
        files = tuple(
            NewAttachment(
                kind=str(item["kind"]),
                filename=str(item["name"]),
                content_type=str(item["type"]),
                source_ref="web",
                upload_id=int(item["id"]),
            )
            for item in payload.get("uploads", [])
        )
        return UserInput("web", user, Incoming("attachment", text=str(payload.get("text", "")), attachments=files))
    return Ignored(f"web event kind {kind!r} is not handled")
