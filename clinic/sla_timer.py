"""The SLA timer: each worker sweeps the SLA queue at the second a warning comes due.

A thread of the worker reads the earliest next-warning time from `sla:next` and blocks on
the wake-up list (`sla:wake`, BLPOP with a timeout) until then, at most `MAX_WAIT_SECONDS`.
`clinic.sla.track` pushes to that list, after commit, when a ticket's next warning becomes
the earliest, so a nearer deadline wakes the timer at once; a rebuild pushes too. When the
time has come the thread runs `clinic.sla.sweep` itself, not through the RQ queue, so a
warning never waits behind replies, file fetches or the 15 s tick's other sweeps.

Several workers may run it at once: the sweep's Lua claim gives each due ticket to one of
them, and the unique `SlaNotice` row stops a second copy in any case. The cap bounds how
long a missed wake-up (Redis restarted, settings changed in the desk) can delay a warning.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

from clinic import sla
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

# The longest the timer sleeps without looking at the queue again.
MAX_WAIT_SECONDS = 15.0
# A shorter wait than this is not worth a round trip: sweep now.
MIN_WAIT_SECONDS = 0.005
RETRY_SECONDS = 1.0
# After a sweep that found nothing to claim (another worker took it, or is rebuilding the index).
IDLE_SECONDS = 0.05


def blocking_connection(url: str) -> redis.Redis:
    """A connection of its own whose socket outlasts the longest BLPOP (the runtime's times out at 5 s)."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=MAX_WAIT_SECONDS + 10)


def seconds_until_due(runtime: Runtime) -> float:
    """How long to wait before the next sweep: 0 when a warning is due now, at most the cap."""
    earliest = sla.next_warning_at(runtime)
    if earliest is None:
        return MAX_WAIT_SECONDS
    return max(0.0, min(MAX_WAIT_SECONDS, earliest - runtime.clock.now().timestamp()))


def run(
    runtime: Runtime,
    stop: threading.Event,
    connection: redis.Redis,
    *,
    sweep: Callable[[Runtime], sla.SweepResult] = sla.sweep,
) -> None:
    """Sweep whenever a warning is due, until `stop` is set. Survives Redis and database outages."""
    while not stop.is_set():
        try:
            wait = seconds_until_due(runtime)
            if wait >= MIN_WAIT_SECONDS:
                # Redis 6 takes a fractional timeout; a push from `track` ends the wait early.
                connection.blpop([sla.wake_key(runtime)], timeout=wait)
                continue  # look again: woken early, or the time has come
            if sweep(runtime).claimed == 0:
                stop.wait(IDLE_SECONDS)  # not a busy loop while the due ticket is another worker's
        except redis.RedisError as exc:
            log.warning("SLA timer lost Redis (%s); retrying", exc)
            stop.wait(RETRY_SECONDS)
        except Exception:  # noqa: BLE001 - a database outage must not end the timer; the next due time retries
            log.exception("SLA sweep failed; retrying")
            stop.wait(RETRY_SECONDS)
