"""Readiness: can this deployment take work now? (`/readyz`; `/healthz` stays a liveness check.)

Four parts, each `ok` or the reason it is not: the database answers, Redis answers, a worker
ticked within `heartbeat.MAX_AGE_SECONDS`, and the RQ queue holds at most READY_MAX_QUEUE jobs.
"""

from __future__ import annotations

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from clinic import heartbeat
from clinic.runtime import Runtime


def check(runtime: Runtime) -> dict[str, str]:
    state: dict[str, str] = {}
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        state["database"] = "ok"
    except SQLAlchemyError as exc:
        state["database"] = f"down: {exc.__class__.__name__}"
    try:
        runtime.redis.ping()
        state["redis"] = "ok"
    except (redis.RedisError, OSError) as exc:
        state["redis"] = f"down: {exc.__class__.__name__}"
        state["worker"] = "unknown: Redis is down"
        state["queue"] = "unknown: Redis is down"
        return state
    last = heartbeat.last(runtime)
    if last is None:
        state["worker"] = "no heartbeat: is the worker running?"
    else:
        age = (runtime.clock.now() - last).total_seconds()
        limit = heartbeat.MAX_AGE_SECONDS
        state["worker"] = "ok" if age <= limit else f"last heartbeat {age:.0f} s ago (limit {limit} s)"
    depth = runtime.queue.count
    limit = runtime.config.ready_max_queue
    state["queue"] = "ok" if depth <= limit else f"{depth} jobs waiting (limit {limit})"
    return state
