"""Finding tickets: the filters of the desk's inbox and the JSON API, Thai-friendly search, pages.

Thai writes words without spaces, so a word-based full-text index would miss a word
inside a sentence; a substring match (LIKE / ILIKE '%…%') over the subject and the
question and answer texts finds it on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from clinic import sla
from clinic.models import CHANNELS, FINISHED_STATUSES, AgencyType, Message, StaffUser, Ticket, Topic
from clinic.runtime import runtime_of

STATUSES = ("active", "open", "answered", "closed", "withdrawn", "all")  # active: not closed nor withdrawn
# due: soonest deadline first (newest first once closed); posted: newest first; activity: latest message first.
SORTS = ("due", "posted", "activity")
MAX_QUERY = 200
MAX_PER_PAGE = 100


class SearchError(ValueError):
    """A filter value that names nothing; the message is Thai first."""


@dataclass(frozen=True)
class TicketFilter:
    status: str = "active"
    topic: str = ""
    agency_type: str = ""
    channel: str = ""
    assignee: str = ""  # a username, or "none" for unassigned
    q: str = ""
    sort: str = "due"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TicketFilter:
        return cls(
            status=(args.get("status") or "active").strip(),
            topic=(args.get("topic") or "").strip(),
            agency_type=(args.get("agency_type") or "").strip(),
            channel=(args.get("channel") or "").strip(),
            assignee=(args.get("assignee") or "").strip().lower(),
            q=(args.get("q") or "").strip(),
            sort=(args.get("sort") or "due").strip(),
        )

    @property
    def is_live_queue(self) -> bool:
        """The plain inbox: every ticket not closed, nothing else narrowing it."""
        return self == TicketFilter()

    def as_args(self) -> dict[str, Any]:
        """The query-string form, leaving out what is the default."""
        args = {name: value for name, value in self.__dict__.items() if value}
        if args.get("status") == "active":
            del args["status"]
        if args.get("sort") == "due":
            del args["sort"]
        return args


@dataclass(frozen=True)
class TicketPage:
    items: list[Ticket]
    page: int
    per_page: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check(session: Session, wanted: TicketFilter) -> TicketFilter:
    """The filter, validated; SearchError names the first bad value."""
    if wanted.status not in STATUSES:
        raise SearchError(f"สถานะต้องเป็น {', '.join(STATUSES)} / status must be one of {', '.join(STATUSES)}")
    if wanted.channel and wanted.channel not in CHANNELS:
        raise SearchError(f"ช่องทางต้องเป็น {', '.join(CHANNELS)} / channel must be one of {', '.join(CHANNELS)}")
    if wanted.topic and session.get(Topic, wanted.topic) is None:
        raise SearchError(f"ไม่รู้จักหัวข้อ {wanted.topic!r} / Unknown topic {wanted.topic!r}")
    if wanted.agency_type and session.get(AgencyType, wanted.agency_type) is None:
        raise SearchError(f"ไม่รู้จักประเภทหน่วยงาน {wanted.agency_type!r} / Unknown agency type {wanted.agency_type!r}")
    if wanted.assignee and wanted.assignee != "none":
        if session.scalar(select(StaffUser.id).where(StaffUser.username == wanted.assignee)) is None:
            raise SearchError(f"ไม่รู้จักเจ้าหน้าที่ {wanted.assignee!r} / Unknown staff member {wanted.assignee!r}")
    if wanted.sort not in SORTS:
        raise SearchError(f"ลำดับต้องเป็น {', '.join(SORTS)} / sort must be one of {', '.join(SORTS)}")
    if len(wanted.q) > MAX_QUERY:
        raise SearchError(f"คำค้นยาวเกิน {MAX_QUERY} ตัวอักษร / The search text is over {MAX_QUERY} characters")
    return wanted


def _statement(wanted: TicketFilter) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.status == "active":
        conditions.append(Ticket.status.not_in(FINISHED_STATUSES))
    elif wanted.status != "all":
        conditions.append(Ticket.status == wanted.status)
    if wanted.topic:
        conditions.append(Ticket.topic_code == wanted.topic)
    if wanted.agency_type:
        conditions.append(Ticket.agency_type_code == wanted.agency_type)
    if wanted.channel:
        conditions.append(Ticket.channel == wanted.channel)
    if wanted.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif wanted.assignee:
        # By id, so the (assignee, due) index serves "Mine".
        assignee_id = select(StaffUser.id).where(StaffUser.username == wanted.assignee).scalar_subquery()
        conditions.append(Ticket.assignee_id == assignee_id)
    if wanted.q:
        pattern = like_pattern(wanted.q)
        in_thread = exists().where(
            Message.ticket_id == Ticket.id,
            Message.kind.in_(("inbound", "outbound")),
            Message.body.ilike(pattern, escape="\\"),
        )
        conditions.append(
            or_(Ticket.subject.ilike(pattern, escape="\\"), Ticket.number.ilike(pattern, escape="\\"), in_thread)
        )
    return select(Ticket).where(and_(True, *conditions))


def ordered(wanted: TicketFilter) -> Select[Any]:
    """The filter's statement in the order asked (`sort`): by default deadline first while the tickets
    are open, newest first once closed. Each order walks its index (due_at, posted_at, last_activity_at)."""
    statement = _statement(wanted)
    if wanted.sort == "posted":
        return statement.order_by(Ticket.posted_at.desc(), Ticket.id.desc())
    if wanted.sort == "activity":
        return statement.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
    if wanted.status in ("active", "open", "answered"):
        return statement.order_by(Ticket.due_at, Ticket.id)
    return statement.order_by(Ticket.posted_at.desc(), Ticket.id.desc())


def search(session: Session, wanted: TicketFilter, *, page: int = 1, per_page: int = 25) -> TicketPage:
    """Tickets matching the filter, one page, in the order of `ordered`."""
    check(session, wanted)
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    total = session.scalar(select(func.count()).select_from(_statement(wanted).subquery())) or 0
    statement = ordered(wanted).offset((page - 1) * per_page).limit(per_page)
    items: list[Ticket] = list(session.scalars(statement).unique())
    return TicketPage(items, page, per_page, total)


def live_queue(session: Session, *, page: int = 1, per_page: int = 25) -> TicketPage:
    """The plain inbox read from the Redis SLA queue (soonest deadline first); the database if Redis is down."""
    runtime = runtime_of(session)
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    start = (page - 1) * per_page
    try:
        ranked = sla.ordered_ids(runtime, start, start + per_page - 1)
        total = int(runtime.redis.zcard(sla.due_key(runtime)))
    except redis.RedisError:
        return search(session, TicketFilter(), page=page, per_page=per_page)
    ids = [ticket_id for ticket_id, _score in ranked]
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids))).unique()} if ids else {}
    # The index may briefly hold a ticket closed or withdrawn a moment ago; it is not shown.
    items = [found[i] for i in ids if i in found and not found[i].is_finished]
    return TicketPage(items, page, per_page, total)
