"""A login rate limit: failed attempts counted in Redis per IP and username, and per IP.

Five wrong passwords for one username from one address, or thirty from one address,
lock that pair (or address) out for fifteen minutes. A success clears the pair's count.
"""

from __future__ import annotations

import logging

import redis

from clinic.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_PER_USER = 5
MAX_PER_ADDRESS = 30


def _keys(runtime: Runtime, address: str, username: str) -> tuple[str, str]:
    return (
        runtime.key(f"login-fail:{address}:{username.strip().lower()}"),
        runtime.key(f"login-fail:{address}"),
    )


def is_locked(runtime: Runtime, address: str, username: str) -> bool:
    user_key, address_key = _keys(runtime, address, username)
    try:
        per_user, per_address = runtime.redis.mget(user_key, address_key)
    except redis.RedisError as exc:
        # Passwords are still checked (scrypt is slow); only the counter is missing.
        log.warning("login rate limit unavailable (%s)", exc)
        return False
    return int(per_user or 0) >= MAX_PER_USER or int(per_address or 0) >= MAX_PER_ADDRESS


def record_failure(runtime: Runtime, address: str, username: str) -> None:
    try:
        pipe = runtime.redis.pipeline()
        for key in _keys(runtime, address, username):
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS, nx=True)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("login failure not counted (%s)", exc)


def clear(runtime: Runtime, address: str, username: str) -> None:
    try:
        runtime.redis.delete(_keys(runtime, address, username)[0])
    except redis.RedisError as exc:
        log.warning("login counter not cleared (%s)", exc)
