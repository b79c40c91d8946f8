"""The web chat's upload limit: files and bytes per browser per hour, counted in Redis.

A browser may send at most MAX_FILES files and MAX_BYTES bytes in one clock hour (fixed windows
of the runtime's clock). The bytes count everything the browser sent, kept or refused, so that
refused files cannot be used to keep the server busy; the files count what was kept.
If Redis is down the limit is not applied: a person's upload matters more than the counter.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import redis

from clinic.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
MAX_FILES = 30
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


def _keys(runtime: Runtime, browser: str) -> tuple[str, str, int]:
    now = runtime.clock.now().timestamp()
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    base = f"webchat-upload:{browser}:{window}"
    return runtime.key(f"{base}:files"), runtime.key(f"{base}:bytes"), retry_after


def check(runtime: Runtime, browser: str, *, incoming_bytes: int, incoming_files: int = 1) -> Verdict:
    """Whether this browser may send `incoming_bytes` more (in `incoming_files` files) in this window."""
    files_key, bytes_key, retry_after = _keys(runtime, browser)
    try:
        files, sent = runtime.redis.mget(files_key, bytes_key)
    except redis.RedisError as exc:
        log.warning("web chat upload limit unavailable (%s)", exc)
        return Verdict(True, 0)
    allowed = int(files or 0) + incoming_files <= MAX_FILES and int(sent or 0) + incoming_bytes <= MAX_BYTES
    return Verdict(allowed, retry_after)


def record(runtime: Runtime, browser: str, *, files: int, sent_bytes: int) -> None:
    files_key, bytes_key, _ = _keys(runtime, browser)
    try:
        pipe = runtime.redis.pipeline()
        pipe.incrby(files_key, files)
        pipe.incrby(bytes_key, sent_bytes)
        for key in (files_key, bytes_key):
            pipe.expire(key, WINDOW_SECONDS + 60, nx=True)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("web chat upload not counted (%s)", exc)
