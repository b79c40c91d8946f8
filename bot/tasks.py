"""The bot's RQ jobs. They take ids, find their runtime themselves, and are safe to run twice."""

from __future__ import annotations

from bot import delivery, processing
from clinic.runtime import get_runtime


def process_inbound(event_id: int) -> str | None:
    """Process one stored webhook event (clinic.inbound.PROCESS_JOB)."""
    return processing.process(get_runtime(), event_id)


def deliver_outbox(outbox_id: int) -> str | None:
    """Send one outbox row (clinic.outbox.DELIVER_JOB)."""
    return delivery.deliver(get_runtime(), outbox_id)
