"""How a ticket stands against its deadline: the colour, the time left, and what the page counts down from.

The page's script (desk.js `formatLeft`) recounts the time left every second from `due_iso`
and recolours at `warn_seconds` before the deadline and at the deadline itself; the text
drawn here is the same format, for the first paint. Keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clinic.models import Ticket

UNITS = {
    "th": {"day": "วัน", "hour": "ชม.", "minute": "นาที", "second": "วินาที"},
    "en": {"day": "d", "hour": "h", "minute": "min", "second": "s"},
}


@dataclass(frozen=True)
class DeadlineView:
    state: str  # ok, warning, overdue, closed
    left: str  # "5 ชม. 20 นาที", "เกิน 1 ชม.", "12 นาที 5 วินาที", or "-"
    due_iso: str = ""  # the deadline, UTC ISO 8601, for the page's countdown
    warn_seconds: int = 0  # the first warning lead: amber from this many seconds before the deadline


def format_left(delta: timedelta, lang: str = "th") -> str:
    """Time left (or over) in whole units; seconds only within the last hour, never `เกิน 0 นาที`."""
    units = UNITS["en" if lang == "en" else "th"]
    total = int(delta.total_seconds())
    if total <= 0 and total > -1:
        return "ครบกำหนดแล้ว" if lang != "en" else "due now"
    seconds = abs(total)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {units['day']}")
    if hours:
        parts.append(f"{hours} {units['hour']}")
    if minutes:
        parts.append(f"{minutes} {units['minute']}")
    if seconds < 3600 and (secs or not parts):
        parts.append(f"{secs} {units['second']}")
    text = " ".join(parts)
    if total < 0:
        return f"{text} overdue" if lang == "en" else f"เกิน {text}"
    return text


def deadline_of(ticket: Ticket, now: datetime, warn_hours: tuple[float, ...], lang: str = "th") -> DeadlineView:
    """`warning` from the earliest warning lead time (the largest, e.g. 6 h) until the deadline; `overdue` from it."""
    lead = timedelta(hours=max(warn_hours)) if warn_hours else timedelta(0)
    due_iso = ticket.due_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if ticket.is_finished:  # closed or withdrawn
        return DeadlineView("closed", "-")
    left = ticket.due_at - now
    state = "overdue" if left <= timedelta(0) else "warning" if left <= lead else "ok"
    return DeadlineView(state, format_left(left, lang), due_iso, int(lead.total_seconds()))
