"""When a ticket's SLA warnings fall due: a pure function of its clock and the SLA timings.

A ticket whose clock started at S with deadline D is warned at D - lead for each lead
time (only those after S), at D itself, and then every `repeat_hours` after D until it
is closed. Each notice has a kind that names it within one deadline: `warn-6`,
`warn-2`, `due`, `repeat-1`, `repeat-2`, ... (the `SlaNotice` unique key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinic.settings import SlaSettings

DUE = "due"


@dataclass(frozen=True)
class Notice:
    kind: str
    at: datetime

    @property
    def escalation(self) -> bool:
        """From the deadline on, a notice goes to supervisors too."""
        return not self.kind.startswith("warn-")


def warn_kind(lead_hours: float) -> str:
    return f"warn-{lead_hours:g}"


def _warnings(started_at: datetime, due_at: datetime, timings: SlaSettings) -> list[Notice]:
    # A lead time reaching back to the clock's start would warn at the moment the ticket opens: skip it.
    notices = [Notice(warn_kind(lead), due_at - timedelta(hours=lead)) for lead in timings.warn_hours]
    return sorted((n for n in notices if n.at > started_at), key=lambda n: n.at)


def _repeat(due_at: datetime, timings: SlaSettings, n: int) -> Notice:
    return Notice(f"repeat-{n}", due_at + n * timedelta(hours=timings.repeat_hours))


def latest_until(started_at: datetime, due_at: datetime, timings: SlaSettings, now: datetime) -> Notice | None:
    """The last notice due at or before `now`, or None if none is due yet.

    The sweep sends only this one: after a long outage, staff get one warning that says
    where the ticket stands now, not a burst of stale ones.
    """
    if now >= due_at:
        n = (now - due_at) // timedelta(hours=timings.repeat_hours)
        return _repeat(due_at, timings, n) if n else Notice(DUE, due_at)
    past = [n for n in _warnings(started_at, due_at, timings) if n.at <= now]
    return past[-1] if past else None


def first_after(started_at: datetime, due_at: datetime, timings: SlaSettings, after: datetime | None = None) -> Notice:
    """The first notice strictly after `after` (the very first notice when `after` is None)."""
    for notice in _warnings(started_at, due_at, timings):
        if after is None or notice.at > after:
            return notice
    if after is None or due_at > after:
        return Notice(DUE, due_at)
    n = (after - due_at) // timedelta(hours=timings.repeat_hours) + 1
    return _repeat(due_at, timings, n)
