"""RQ jobs of the domain core. Jobs take ids, not objects, and find their runtime themselves."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from clinic.runtime import Runtime, get_runtime

log = logging.getLogger(__name__)

TICK_JOB = "clinic.tasks.tick"
# A warning may be at most 60 s late while a worker runs; ticking every 15 s leaves room.
TICK_SECONDS = 15


def schedule_tick(runtime: Runtime) -> bool:
    """Queue one tick per period, however many workers ask (SET NX on the period)."""
    period = math.floor(runtime.clock.now().timestamp() / TICK_SECONDS)
    if not runtime.redis.set(runtime.key(f"tick:{period}"), 1, nx=True, ex=TICK_SECONDS * 4):
        return False
    runtime.queue.enqueue(TICK_JOB, job_id=f"{runtime.config.queue_name}-tick-{period}", result_ttl=0)
    return True


def tick() -> None:
    """The periodic sweeps. Each is idempotent, and one failing does not stop the others."""
    runtime = get_runtime()
    for name, sweep in _sweeps():
        try:
            sweep(runtime)
        except Exception:  # noqa: BLE001 - the next tick retries
            log.exception("sweep %s failed", name)


def _sweeps() -> list[tuple[str, Callable[[Runtime], object]]]:
    from clinic import heartbeat, line_quota, recovery, retention, sla, survey

    return [
        ("heartbeat", heartbeat.beat),
        ("recovery", recovery.sweep),
        ("sla", sla.sweep),
        ("survey", survey.sweep),
        ("retention", retention.sweep),
        ("line_quota", line_quota.schedule_sample),
    ]
