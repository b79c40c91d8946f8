"""A replayed quarter (fiscal year 2570 Q1: 1 Oct - 31 Dec 2026, Bangkok) for the KPI tests.

Sixteen consultations inside the quarter, with figures chosen so that percentages land on
exact halves (x/16) and rounding half up shows, plus one ticket on each side of the
quarter's boundaries. Everything goes through the real services: tickets are opened and
closed by `clinic.tickets`, the survey is answered through `clinic.survey.handle`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from clinic import survey, tickets
from clinic.models import Requester, Ticket
from clinic.runtime import Runtime
from clinic.thaidate import BANGKOK
from tests import factories

# name: (channel, agency code or None for free text, agency type)
REQUESTERS = {
    "R1": ("line", "district-1001", "district"),
    "R2": ("line", "district-1002", "district"),
    "R3": ("line", "bureau-07", "bureau"),
    "R4": ("messenger", "bureau-08", "bureau"),
    "R5": ("web", "permsec-0421", "permanent_secretary_office"),
    "R6": ("line", "secretariat-01", "council_governor_secretariat"),
    "R7": ("web", None, "other"),
}

SUGGESTION_CLEAR = "คำแนะนำชัดเจน เข้าใจง่าย"
SUGGESTION_SLOW = "ระยะเวลาในการให้คำแนะนำอาจใช้เวลานานไปนิด แต่ก็พอได้"

# (Bangkok time posted, requester, topic, hours to close, (convenience, timeliness, usefulness, overall), suggestion)
INSIDE = [
    ((2026, 10, 1, 0, 0), "R1", "saraban", 2, (5, 5, 5, 5), SUGGESTION_CLEAR),  # first minute of Q1
    ((2026, 10, 3, 9, 0), "R1", "saraban", 30, (4, 2, 4, 3), None),  # missed
    ((2026, 10, 15, 14, 0), "R3", "letters", 1, (5, 4, 5, 5), None),
    ((2026, 10, 31, 23, 30), "R3", "saraban", 24, (5, 5, 5, 5), None),  # closed exactly at the deadline
    ((2026, 11, 2, 10, 0), "R4", "ceremony", 3, (4, 4, 4, 4), None),
    ((2026, 11, 10, 10, 0), "R4", "saraban", 5, (5, 5, 4, 5), None),
    ((2026, 11, 20, 8, 0), "R5", "letters", 2, (5, 5, 5, 5), None),
    ((2026, 11, 25, 10, 0), "R5", "saraban", 25, (4, 3, 3, 3), None),  # missed
    ((2026, 11, 30, 16, 0), "R5", "other", 4, (5, 4, 5, 4), None),
    ((2026, 12, 1, 0, 0), "R2", "saraban", 1, (5, 5, 5, 5), None),  # 30 Nov in UTC, December in Bangkok
    ((2026, 12, 5, 11, 0), "R2", "letters", 6, (5, 4, 5, 5), None),
    ((2026, 12, 10, 9, 0), "R6", "ceremony", 2, (5, 3, 5, 5), None),
    ((2026, 12, 15, 13, 0), "R7", "saraban", 10, (5, 5, 5, 5), None),
    ((2026, 12, 20, 10, 0), "R1", "letters", 24.5, (2, 2, 2, 2), SUGGESTION_SLOW),  # missed
    ((2026, 12, 28, 15, 0), "R1", "saraban", 1, (5, 5, 5, 5), None),
    ((2026, 12, 31, 23, 59), "R3", "saraban", 1, (5, 3, 5, 4), None),  # last minute of Q1
]
OUTSIDE = [
    ((2026, 9, 30, 23, 59), "R1", "saraban", 1, (1, 1, 1, 1), "นอกไตรมาส"),  # FY 2569 Q4
    ((2027, 1, 1, 0, 0), "R3", "letters", 1, (1, 1, 1, 1), None),  # FY 2570 Q2
]


def bangkok(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BANGKOK).astimezone(UTC)


def consult(
    session: Session,
    requester: Requester,
    posted: datetime,
    topic: str,
    close_after: float | None = None,
    scores: tuple[int, ...] = (),
    suggestion: str | None = None,
) -> Ticket:
    """One consultation as the bot and the desk would make it, with its survey answered."""
    requester.last_inbound_at = posted
    ticket = tickets.open_ticket(session, requester=requester, topic_code=topic, body=f"คำถามเรื่อง{topic}", now=posted)
    if close_after is None:
        return ticket
    closed = posted + timedelta(hours=close_after)
    tickets.close(session, ticket, now=closed, final_answer="ตอบตามระเบียบงานสารบรรณ")
    answered = closed + timedelta(minutes=5)
    for score in scores:
        survey.handle(session, requester, str(score), answered)
    if scores and len(scores) == len(survey.ITEM_KEYS):
        survey.handle(session, requester, suggestion or "ข้าม", answered)
    return ticket


def make_requesters(session: Session) -> dict[str, Requester]:
    now = bangkok(2026, 9, 1, 9, 0)
    made = {}
    for name, (channel, agency_code, agency_type) in REQUESTERS.items():
        made[name] = factories.requester(
            session, now=now, channel=channel, user_id=f"user-{name}", agency_code=agency_code,
            agency_type=agency_type, agency_other="มูลนิธิเพื่อนกรุงเทพ" if agency_code is None else "",
            display_name=f"คุณ{name}",
        )  # fmt: skip
    return made


def replay(runtime: Runtime) -> dict[str, Requester]:
    """Load the quarter (and its two neighbours) into the database."""
    with runtime.db.transaction() as session:
        people = make_requesters(session)
        for posted, who, topic, hours, scores, suggestion in sorted(OUTSIDE[:1] + INSIDE + OUTSIDE[1:]):
            consult(session, people[who], bangkok(*posted), topic, hours, scores, suggestion)
        return people
