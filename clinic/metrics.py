"""Prometheus metrics, computed when scraped, from the database and Redis.

Nothing is counted in process memory, so any number of gunicorn processes answer alike: each
scrape runs a handful of grouped COUNTs and reads RQ's queue lengths. The one exception is the
SLA warning lateness histogram (how long after its planned time a warning went out): the sweep
that sends a warning records it in a Redis hash (`observe_warning_lateness`), read here.

Self-served answers: questions the knowledge base answered in the chat that the requester marked
solved (`AnswerOffer.outcome == "solved"`), a counter that only grows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString
from sqlalchemy import func, select

from clinic import settings
from clinic.models import FINISHED_STATUSES, AnswerOffer, InboundEvent, OutboxMessage, Ticket
from clinic.runtime import Runtime

LATENESS_KEY = "metrics:sla_warning_lateness"
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0)


def observe_warning_lateness(runtime: Runtime, seconds: float) -> None:
    """Record one warning's lateness (called after the warning's transaction commits)."""
    seconds = max(seconds, 0.0)
    bucket = next((f"{le:g}" for le in LATENESS_BUCKETS if seconds <= le), "+Inf")
    key = runtime.key(LATENESS_KEY)
    with runtime.redis.pipeline() as pipe:
        pipe.hincrby(key, bucket, 1)
        pipe.hincrby(key, "count", 1)
        pipe.hincrbyfloat(key, "sum", seconds)
        pipe.execute()


class ClinicCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        rt = self.runtime
        now = rt.clock.now()
        with rt.db.transaction() as session:
            events = session.execute(
                select(InboundEvent.channel, InboundEvent.status, func.count()).group_by(
                    InboundEvent.channel, InboundEvent.status)
            ).all()  # fmt: skip
            outbox = session.execute(
                select(OutboxMessage.channel, OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_(("pending", "sending", "failed")))
                .group_by(OutboxMessage.channel, OutboxMessage.status)
            ).all()
            warn = settings.sla(session, rt.config).warn_hours
            lead = timedelta(hours=max(warn, default=0))
            not_closed = Ticket.status.not_in(FINISHED_STATUSES)
            open_count = session.scalar(select(func.count()).where(not_closed)) or 0
            overdue = session.scalar(select(func.count()).where(not_closed, Ticket.due_at < now)) or 0
            at_risk = session.scalar(
                select(func.count()).where(not_closed, Ticket.due_at >= now, Ticket.due_at < now + lead)
            ) or 0  # fmt: skip
            self_served = session.scalar(select(func.count()).where(AnswerOffer.outcome == "solved")) or 0

        family = GaugeMetricFamily("clinic_webhook_events", "Stored webhook events by channel and result "
                                   "(rows past retention are deleted)", labels=["channel", "result"])  # fmt: skip
        for channel, status, count in events:
            family.add_metric([channel, status], count)
        yield family

        family = GaugeMetricFamily("clinic_outbox_messages", "Outbox rows not yet sent, by channel and status",
                                   labels=["channel", "status"])  # fmt: skip
        for channel, status, count in outbox:
            family.add_metric([channel, status], count)
        yield family

        family = GaugeMetricFamily("clinic_tickets", "Tickets not closed: all, near the deadline, past it",
                                   labels=["state"])  # fmt: skip
        family.add_metric(["open"], open_count)
        family.add_metric(["at_risk"], at_risk)
        family.add_metric(["overdue"], overdue)
        yield family

        yield CounterMetricFamily("clinic_self_served_answers", "Questions answered by the knowledge base "
                                  "without staff (0 until the knowledge base registers its counter)",
                                  value=self_served)  # fmt: skip
        yield from self._redis_metrics()

    def _redis_metrics(self) -> Iterator[Metric]:
        rt = self.runtime
        try:
            queued = rt.queue.count
            failed = rt.queue.failed_job_registry.count
            stored: dict[bytes, bytes] = rt.redis.hgetall(rt.key(LATENESS_KEY))  # type: ignore[assignment]
            raw = {k.decode(): v.decode() for k, v in stored.items()}
        except redis.RedisError:
            yield GaugeMetricFamily("clinic_redis_up", "Whether Redis answered this scrape", value=0)
            return
        yield GaugeMetricFamily("clinic_redis_up", "Whether Redis answered this scrape", value=1)
        family = GaugeMetricFamily("clinic_jobs", "RQ jobs waiting and failed", labels=["state"])
        family.add_metric(["queued"], queued)
        family.add_metric(["failed"], failed)
        yield family
        cumulative, buckets = 0, []
        for le in [*(f"{b:g}" for b in LATENESS_BUCKETS), "+Inf"]:
            cumulative += int(raw.get(le, 0))
            buckets.append((floatToGoString(float(le)), cumulative))
        total = float(raw.get("sum", 0.0))
        yield HistogramMetricFamily(
            "clinic_sla_warning_lateness_seconds",
            "How long after its planned time each SLA warning was sent",
            buckets=buckets,
            sum_value=total if math.isfinite(total) else 0.0,
        )


def registry(runtime: Runtime) -> CollectorRegistry:
    """A registry of the clinic's metrics only (no process metrics: they differ per gunicorn process)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(ClinicCollector(runtime))
    return reg
