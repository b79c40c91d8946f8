"""A change counter per web-chat browser, so an open chat tab's poll with nothing new costs no SQL.

Every open tab asks for new messages every 5 s; almost always there are none. Whatever could
change a poll's answer for a browser (its own message stored, a message queued to it, a ticket
opened for it) increments `webchat:v:<browser id>` in Redis once the transaction commits. A poll
that read the database remembers, next to the counter it read first, the answer's cursor and
`has_ticket` (`webchat:quiet:<browser id>`, for QUIET_SECONDS); the next poll with that cursor,
while the counter is unchanged, answers "nothing new" from those two keys alone.

No race loses a message: the counter is read before the database, so a change that commits
after that read bumps it past the remembered value, and one that committed before is in what
the database returned. Without Redis, or once the note expires, the poll reads the database.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy.orm import Session

from clinic.db import on_commit
from clinic.runtime import Runtime, runtime_of

log = logging.getLogger(__name__)

# How long a poll's answer is remembered; anything a counter does not cover (an erasure) shows after this at most.
QUIET_SECONDS = 60
VERSION_SECONDS = 24 * 3600


def _version_key(runtime: Runtime, user: str) -> str:
    return runtime.key(f"webchat:v:{user}")


def _quiet_key(runtime: Runtime, user: str) -> str:
    return runtime.key(f"webchat:quiet:{user}")


def touch(session: Session, user: str) -> None:
    """Once committed, tell this browser's next poll to read the database."""
    runtime = runtime_of(session)

    def _bump() -> None:
        try:
            pipe = runtime.redis.pipeline(transaction=False)
            pipe.incr(_version_key(runtime, user))
            pipe.expire(_version_key(runtime, user), VERSION_SECONDS)
            pipe.execute()
        except redis.RedisError as exc:
            # The remembered answer lapses by itself within QUIET_SECONDS; drop it now if we can.
            log.warning("web chat change counter not bumped for %s (%s)", user, exc)

    on_commit(session, _bump)


def quiet_answer(runtime: Runtime, user: str, cursor: str) -> tuple[bool | None, str]:
    """(has_ticket, version) when nothing changed since a poll that answered `cursor`; else (None, version).

    The version read here is what `remember` stores after the database was read.
    """
    try:
        version, quiet = runtime.redis.mget([_version_key(runtime, user), _quiet_key(runtime, user)])
    except redis.RedisError:
        return None, ""
    current = _text(version) or "0"
    if quiet is None:
        return None, current
    seen_version, seen_cursor, has_ticket = _text(quiet).split("|")
    if seen_version == current and seen_cursor == cursor:
        return has_ticket == "1", current
    return None, current


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def remember(runtime: Runtime, user: str, version: str, cursor: str, has_ticket: bool) -> None:
    """Note the answer a poll read from the database, under the counter it read before doing so."""
    if not version:
        return  # Redis was not answering when the poll began
    try:
        runtime.redis.set(_quiet_key(runtime, user), f"{version}|{cursor}|{int(has_ticket)}", ex=QUIET_SECONDS)
    except redis.RedisError:
        pass  # the next poll reads the database
