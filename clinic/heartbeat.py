"""The worker's heartbeat: each tick writes the time into Redis, and `/readyz` reads it.

The tick is a job, so a fresh heartbeat means a worker is taking jobs off the queue, not
merely that its process is alive.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clinic.runtime import Runtime

KEY = "worker:heartbeat"
# Readiness fails when the last beat is older than this (ticks come every 15 s).
MAX_AGE_SECONDS = 60


def beat(runtime: Runtime) -> None:
    runtime.redis.set(runtime.key(KEY), f"{runtime.clock.now().timestamp():.3f}", ex=24 * 3600)


def last(runtime: Runtime) -> datetime | None:
    raw = runtime.redis.get(runtime.key(KEY))
    if raw is None:
        return None
    return datetime.fromtimestamp(float(raw), UTC)
