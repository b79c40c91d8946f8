"""How a ticket stands against its deadline, for the inbox's colours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinic.models import Ticket
from clinic.thaidate import format_duration_th


@dataclass(frozen=True)
class DeadlineView:
    state: str  # ok, warning, overdue, closed
    left: str  # "5 ชม. 20 นาที", "เกิน 1 ชม.", or "-"


def deadline_of(ticket: Ticket, now: datetime, warn_hours: tuple[float, ...]) -> DeadlineView:
    """`warning` from the earliest warning lead time (the largest, e.g. 6 h) until the deadline."""
    if ticket.is_finished:
        return DeadlineView("closed", "-")
    left = ticket.due_at - now
    if left < timedelta(0):
        return DeadlineView("overdue", format_duration_th(left))
    lead = timedelta(hours=max(warn_hours)) if warn_hours else timedelta(0)
    return DeadlineView("warning" if left <= lead else "ok", format_duration_th(left))
