"""Reading one web-chat event (stored by `bot.webchat`) into an action."""

from __future__ import annotations

from typing import Any

from bot.conversation import Incoming
from bot.events import Action, Ignored, UserInput


def read(payload: dict[str, Any]) -> Action:
    user = str(payload.get("user", ""))
    kind = payload.get("kind")
    if not user:
        return Ignored("no web user")
    if kind == "start":
        return UserInput("web", user, Incoming("follow"))
    if kind == "text":
        return UserInput("web", user, Incoming("text", text=str(payload.get("text", ""))))
    return Ignored(f"web event kind {kind!r} is not handled")
