"""The name a requester goes by on their channel, so staff see who is writing.

LINE's profile API gives the display name, the Graph API the first and last name of a
Messenger user. Each is read at most once a day per person (cached in Redis under the
deployment's key prefix), not on every message; a refusal is remembered for a shorter time so
a user who hid their profile is not asked about on every message either. Any failure returns
"", and the caller then keeps the name it already has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import redis

from bot.channel_error import ChannelApiError
from bot.line_api import LineApi
from bot.messenger_api import MessengerApi
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(hours=24)
REFUSED_TTL = timedelta(minutes=30)
MAX_NAME = 200  # Requester.display_name


def cache_key(runtime: Runtime, channel: str, user_id: str) -> str:
    return runtime.key(f"profile:{channel}:{user_id}")


def display_name(runtime: Runtime, channel: str, user_id: str) -> str:
    """The cached name, else the one the channel's API gives now; "" when none is known."""
    fetch = _fetcher(runtime, channel)
    if fetch is None:
        return ""
    key = cache_key(runtime, channel, user_id)
    try:
        cached = runtime.redis.get(key)
    except redis.RedisError as exc:
        log.info("profile cache unreachable (%s); asking %s", exc, channel)
        cached = None
    if isinstance(cached, bytes):
        return cached.decode()
    try:
        name = fetch(user_id)[:MAX_NAME]
        ttl = PROFILE_TTL if name else REFUSED_TTL
    except ChannelApiError as exc:
        log.info("%s profile of %s not read (%s)", channel, user_id, exc)
        if exc.transient:
            return ""  # the next message asks again
        name, ttl = "", REFUSED_TTL
    try:
        runtime.redis.set(key, name.encode(), ex=ttl)
    except redis.RedisError as exc:
        log.info("profile of %s not cached (%s)", user_id, exc)
    return name


def _fetcher(runtime: Runtime, channel: str) -> Callable[[str], str] | None:
    config = runtime.config
    if channel == "line" and config.line_enabled:
        return LineApi(config).display_name
    if channel == "messenger" and config.messenger_enabled:
        return MessengerApi(config).display_name
    return None
