"""The bot's RQ jobs. They take ids, find their runtime themselves, and are safe to run twice."""

from __future__ import annotations

from bot import delivery, processing
from bot.line_api import LineApi
from clinic import line_quota
from clinic.runtime import get_runtime


def process_inbound(event_id: int) -> str | None:
    """Process one stored webhook event (clinic.inbound.PROCESS_JOB)."""
    return processing.process(get_runtime(), event_id)


def deliver_outbox(outbox_id: int) -> str | None:
    """Send one outbox row (clinic.outbox.DELIVER_JOB)."""
    return delivery.deliver(get_runtime(), outbox_id)


def sample_line_quota() -> float | None:
    """Read LINE's monthly quota and consumption (clinic.line_quota.SAMPLE_JOB); the used percentage."""
    runtime = get_runtime()
    if not runtime.config.line_enabled:
        return None
    limit, consumed = LineApi(runtime.config).quota()
    with runtime.db.transaction() as session:
        result = line_quota.record(session, line_quota.Reading(limit, consumed), now=runtime.clock.now(),
                                   tz=runtime.config.tz)  # fmt: skip
    return result.percent
