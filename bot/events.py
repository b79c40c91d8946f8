"""What a stored webhook event means, once a channel adapter has read it.

Adapters (`line_events`, `messenger_events`, `web_events`) turn a payload into one of these,
doing their network work (downloading attachments, a LINE profile) outside any transaction;
`processing` then applies it in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.conversation import Incoming

# The most the clinic keeps of one attachment.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class UserInput:
    """Something a person sent the bot in a one-to-one chat."""

    channel: str
    user_id: str
    incoming: Incoming
    reply_token: str | None = None
    reply_token_received_at: datetime | None = None
    display_name: str = ""


@dataclass(frozen=True)
class Unfollowed:
    channel: str
    user_id: str


@dataclass(frozen=True)
class GroupJoined:
    group_id: str


@dataclass(frozen=True)
class GroupLeft:
    group_id: str


@dataclass(frozen=True)
class Ignored:
    """Stored for the record but not acted on (group chatter, read receipts, unknown types)."""

    reason: str


Action = UserInput | Unfollowed | GroupJoined | GroupLeft | Ignored
