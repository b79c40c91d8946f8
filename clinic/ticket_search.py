"""Finding tickets: the filters of the desk's inbox and the JSON API, ranked Thai search, pages.

A search text is segmented by `clinic.thai_text` (the segmentation the index was built with,
`clinic.ticket_index`) and matched against the full-text index: PostgreSQL's `simple` tsquery
over the GIN-indexed tsvector, ranked by ts_rank; SQLite's FTS5, ranked by bm25. Tickets with
all the words come first, most relevant first; if no ticket has them all, those with any of
them. Segmentation can cut a sentence differently from the way a search was typed, and a
ticket number or half an English word is no word at all, so a substring match over the
ticket's normalised text is added after the ranked hits: nothing a substring search found is
lost. Without a search text the order is the deadline's (open tickets) or newest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    column,
    func,
    literal_column,
    select,
    text,
    union,
)
from sqlalchemy.orm import Session

from clinic import sla, thai_text
from clinic.models import CHANNELS, FINISHED_STATUSES, AgencyType, StaffUser, Ticket, TicketSearchDoc, Topic
from clinic.runtime import runtime_of

STATUSES = ("active", "open", "answered", "closed", "withdrawn", "all")  # active: not closed nor withdrawn
# due: soonest deadline first (newest first once closed); posted: newest first; activity: latest message first.
SORTS = ("due", "posted", "activity")
MAX_QUERY = 200
MAX_PER_PAGE = 100
MAX_TERMS = 32  # words of a search text given to the full-text index; a 200-character text rarely has more


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
    if "\x00" in wanted.q:
        raise SearchError("คำค้นมีอักขระที่ใช้ไม่ได้ (NUL) / The search text contains a NUL character")
    return wanted


def _dedupe(words: list[str]) -> list[str]:
    return list(dict.fromkeys(words))[:MAX_TERMS]


def query_words(q: str) -> tuple[list[str], list[str]]:
    """The words every hit must have, and the words any hit may have (for the fallback).

    A compound domain term is required through its parts, because a ticket that wrote it with a
    space has the parts but not the compound; the compound still counts in the fallback.
    """
    content = thai_text.words(q)
    required = [w for w in content if thai_text.segmented(w) == w]  # a compound segments into itself + parts
    if not required:  # only particles or function words: search for them as typed
        required = thai_text.tokenize(q)
    return _dedupe(required), _dedupe(content or required)


def _fts5_query(words: list[str], *, every: bool) -> str:
    """An FTS5 query of quoted strings: inside quotes FTS5 has no operators, so nothing typed is syntax."""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return (" AND " if every else " OR ").join(quoted)


def _ranked(session: Session, words: list[str], *, every: bool, phrase: str) -> Select[Any]:
    """(ticket_id, phrase, score) of the tickets whose document matches, higher = more relevant.

    `phrase` is 1 when the document has the search's words side by side in its order: a phrase query on
    the index (FTS5 `"a b"`, PostgreSQL `phraseto_tsquery`) over the segmented text, so `หนังสือรับ` and
    `หนังสือ รับ` typed either way find the same phrase.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
    vector: ColumnElement[Any] = literal_column("ticket_search_docs.words_tsv")
    side_by_side: ColumnElement[Any] = literal_column("1")
    if len(phrase.split()) > 1:  # one word: every hit has it
        if postgresql:
            side_by_side = case((vector.op("@@")(func.phraseto_tsquery(simple, phrase)), 1), else_=0)
        else:
            in_phrase = text("SELECT rowid FROM ticket_search_fts WHERE ticket_search_fts MATCH :fts_phrase")
            in_phrase = in_phrase.bindparams(fts_phrase='"' + phrase.replace('"', '""') + '"')
            side_by_side = case(
                (literal_column("ticket_search_fts.rowid").in_(in_phrase.columns(column("rowid", Integer))), 1),
                else_=0,
            )
    if postgresql:
        query: ColumnElement[Any] = func.plainto_tsquery(simple, " ".join(words))
        if not every:
            query = func.plainto_tsquery(simple, words[0])
            for word in words[1:]:
                query = query.op("||")(func.plainto_tsquery(simple, word))
        return select(
            TicketSearchDoc.ticket_id.label("ticket_id"),
            side_by_side.label("phrase"),
            func.ts_rank(vector, query, 1).label("score"),
        ).where(vector.op("@@")(query))
    match = text("ticket_search_fts MATCH :fts_query").bindparams(fts_query=_fts5_query(words, every=every))
    return (
        select(
            literal_column("ticket_search_fts.rowid").label("ticket_id"),
            side_by_side.label("phrase"),
            (-func.bm25(literal_column("ticket_search_fts"))).label("score"),
        )
        .select_from(text("ticket_search_fts"))
        .where(match)
    )


def _conditions(wanted: TicketFilter) -> list[ColumnElement[bool]]:
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
    return conditions


def _substring_ids(session: Session, q: str) -> Select[Any]:
    """Ids of the tickets whose normalised text (number, subject, thread) contains the search text as typed.

    Three characters or more are looked up in a trigram index (SQLite FTS5 `trigram`, PostgreSQL
    pg_trgm); shorter texts are matched by reading the documents.
    """
    normal = thai_text.normalize(q)
    if len(normal) >= 3 and session.get_bind().dialect.name == "sqlite":
        quoted = '"' + normal.replace('"', '""') + '"'  # quoted: FTS5 syntax in the text is only text
        trigram = (
            text("SELECT rowid AS ticket_id FROM ticket_search_trigram WHERE ticket_search_trigram MATCH :substring")
            .bindparams(substring=quoted)
            .columns(column("ticket_id", Integer))
            .subquery("substring")
        )
        return select(trigram.c.ticket_id)
    pattern = like_pattern(normal)
    return select(TicketSearchDoc.ticket_id).where(TicketSearchDoc.plain.like(pattern, escape="\\"))


def _statement(session: Session, wanted: TicketFilter) -> tuple[Select[Any], Any]:
    """Ids of the filtered tickets, and when there is a search text the ranked hits they are joined with.

    With a search text the candidates are the ranked hits and the substring matches (their union, found
    through the indexes); only those are joined with the tickets for the filters, never a scan of all tickets.
    """
    conditions = _conditions(wanted)
    if not wanted.q:
        return select(Ticket.id).where(and_(True, *conditions)), None
    substring = _substring_ids(session, wanted.q)
    required, optional = query_words(wanted.q)
    if not required:  # punctuation only: a substring match is all there is
        return select(Ticket.id).where(and_(True, *conditions), Ticket.id.in_(substring)), None
    phrase = thai_text.segmented(wanted.q)
    ranked = _ranked(session, required, every=True, phrase=phrase)
    first = ranked.subquery("first")
    all_words = select(Ticket.id).join(first, first.c.ticket_id == Ticket.id).where(*conditions).limit(1)
    if session.scalar(all_words) is None:
        ranked = _ranked(session, optional, every=False, phrase=phrase)
    hits = ranked.cte("ranked")
    candidates = union(select(hits.c.ticket_id), substring).subquery("candidates")
    statement = (
        select(Ticket.id)
        .select_from(candidates)
        .join(Ticket, Ticket.id == candidates.c.ticket_id)
        .outerjoin(hits, hits.c.ticket_id == Ticket.id)
        .where(and_(True, *conditions))
    )
    return statement, hits


def _order(wanted: TicketFilter, ranked: Any) -> list[Any]:
    """The order asked for (`sort`). With a search text and the default order, the most relevant come first."""
    order: list[Any] = []
    if ranked is not None and wanted.sort == "due":
        order = [ranked.c.score.is_(None), ranked.c.phrase.desc(), ranked.c.score.desc()]
    if wanted.sort == "posted":
        return [*order, Ticket.posted_at.desc(), Ticket.id.desc()]
    if wanted.sort == "activity":
        return [*order, Ticket.last_activity_at.desc(), Ticket.id.desc()]
    if wanted.status in ("active", "open", "answered"):
        return [*order, Ticket.due_at, Ticket.id]
    return [*order, Ticket.posted_at.desc(), Ticket.id.desc()]


def ordered(session: Session, wanted: TicketFilter) -> Select[Any]:
    """The filtered ticket ids in the order of `_order`: by default deadline first while the tickets are open,
    newest first once closed, most relevant first when searching. Each plain order walks its index
    (due_at, posted_at, last_activity_at)."""
    ids, ranked = _statement(session, wanted)
    return ids.order_by(*_order(wanted, ranked))


def search(session: Session, wanted: TicketFilter, *, page: int = 1, per_page: int = 25) -> TicketPage:
    """Tickets matching the filter, one page, in the order of `ordered`: most relevant first when searching
    (substring-only matches after the ranked ones), unless another order is asked for."""
    check(session, wanted)
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    # Ids first, tickets after: the ranking sorts bare ids, and only one page of tickets is loaded with
    # their requester, agency and assignee.
    ids, ranked = _statement(session, wanted)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    ids = ids.order_by(*_order(wanted, ranked))
    wanted_ids = list(session.scalars(ids.offset((page - 1) * per_page).limit(per_page)))
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(wanted_ids))).unique()}
    return TicketPage([found[i] for i in wanted_ids if i in found], page, per_page, total)


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
