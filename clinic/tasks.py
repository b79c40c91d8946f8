"""RQ jobs of the domain core. Jobs take ids, not objects, and find their runtime themselves."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from clinic.runtime import Runtime, get_runtime

log = logging.getLogger(__name__)

TICK_JOB = "clinic.tasks.tick"
# The periodic sweeps. SLA warnings do not wait for it: each worker's SLA timer (clinic/sla_timer.py)
# sweeps at the due second, and the tick's SLA sweep is only a backstop.
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
        ("knowledge", _refresh_some_knowledge),
        ("retention", retention.sweep),
        ("line_quota", line_quota.schedule_sample),
    ]


# Articles embedded per job: about 2 s of work, so questions queued behind a large import wait little.
KNOWLEDGE_BATCH = 16


def refresh_knowledge() -> int:
    """Recompute the embeddings of changed knowledge-base articles (clinic.knowledge.REFRESH_JOB).

    One batch per job; a full batch queues the next one behind whatever else is waiting.
    """
    from clinic import knowledge

    runtime = get_runtime()
    done = _refresh_knowledge(runtime, KNOWLEDGE_BATCH)
    if done == KNOWLEDGE_BATCH:
        runtime.enqueue(knowledge.REFRESH_JOB)
    return done


def _refresh_knowledge(runtime: Runtime, limit: int) -> int:
    """Read what is stale, embed it outside any transaction, store what is still current."""
    from clinic import embedding, knowledge_search

    with runtime.db.transaction() as session:
        pending = knowledge_search.stale_articles(session, limit=limit)
    if not pending or not embedding.available():
        return 0
    computed = knowledge_search.embed(pending)
    with runtime.db.transaction() as session:
        knowledge_search.store_vectors(session, computed, now=runtime.clock.now())
    return len(pending)


def _refresh_some_knowledge(runtime: Runtime) -> int:
    """The tick's share: a few stale articles, in case a refresh job was lost with Redis."""
    return _refresh_knowledge(runtime, 2)
