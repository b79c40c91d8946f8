"""The tickets' full-text index: one document per ticket, written with each message that changes it.

A document holds the ticket's number, subject, question, the requester's follow-ups, the replies
and the internal notes (system events are left out), twice over: segmented into words by
`clinic.thai_text` (what the full-text index reads: PostgreSQL GIN over `to_tsvector('simple', …)`,
SQLite FTS5), and normalised whole (for substring matches). The ticket service writes it in the
same transaction as the message, so a committed message is always searchable; a write appends
the new text to the row rather than re-reading the thread. `rebuild` re-indexes from the messages
(`clinic search rebuild`), and the worker indexes on start any ticket that has no document yet
(tickets made before the index existed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clinic.db import Database
from clinic.models import Message, Ticket, TicketSearchDoc
from clinic.thai_text import normalize, segmented

SEARCHABLE_KINDS = ("inbound", "outbound", "note")
BATCH = 500

Segmenter = Callable[[str], str]


@dataclass(frozen=True)
class Document:
    words: str  # space-separated words, for the full-text index
    plain: str  # normalised text, for substring matches


def document(
    number: str,
    subject: str,
    bodies: Iterable[str],
    *,
    segment: Segmenter = segmented,
    normal: Segmenter = normalize,
) -> Document:
    """The index document of a ticket; each part is segmented on its own (the bench passes cached functions)."""
    parts = [number, subject, *bodies]
    return Document(
        words=" ".join(w for w in (segment(p) for p in parts) if w),
        plain=" ".join(p for p in (normal(p) for p in parts) if p),
    )


def _upsert(session: Session, rows: Sequence[dict[str, object]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(TicketSearchDoc).values(list(rows))
    statement = statement.on_conflict_do_update(
        index_elements=[TicketSearchDoc.ticket_id],
        set_={"words": statement.excluded.words, "plain": statement.excluded.plain},
    )
    session.execute(statement)


def start(session: Session, ticket: Ticket, question: str) -> None:
    """The document of a ticket just opened: its number, subject and question."""
    doc = document(ticket.number, ticket.subject, [question])
    _upsert(session, [{"ticket_id": ticket.id, "words": doc.words, "plain": doc.plain}])


def append(session: Session, ticket: Ticket, body: str) -> None:
    """Add a message's text to the ticket's document (the whole thread is re-read only if it has none)."""
    words, plain = segmented(body), normalize(body)
    if not words and not plain:
        return
    result = session.execute(
        update(TicketSearchDoc)
        .where(TicketSearchDoc.ticket_id == ticket.id)
        .values(words=TicketSearchDoc.words + " " + words, plain=TicketSearchDoc.plain + " " + plain)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        reindex(session, [ticket.id])


def reindex(session: Session, ticket_ids: Sequence[int], *, segment: Segmenter = segmented) -> int:
    """Rebuild the documents of these tickets from their messages; returns how many were written."""
    if not ticket_ids:
        return 0
    heads = session.execute(select(Ticket.id, Ticket.number, Ticket.subject).where(Ticket.id.in_(ticket_ids)))
    bodies: dict[int, list[str]] = {}
    for ticket_id, body in session.execute(
        select(Message.ticket_id, Message.body)
        .where(Message.ticket_id.in_(ticket_ids), Message.kind.in_(SEARCHABLE_KINDS))
        .order_by(Message.id)
    ):
        bodies.setdefault(ticket_id, []).append(body)
    rows = []
    for ticket_id, number, subject in heads:
        doc = document(number, subject, bodies.get(ticket_id, []), segment=segment)
        rows.append({"ticket_id": ticket_id, "words": doc.words, "plain": doc.plain})
    if rows:
        _upsert(session, rows)
    return len(rows)


def rebuild(database: Database, *, only_missing: bool = False, batch: int = BATCH) -> int:
    """Re-index every ticket (or only those without a document), one transaction per batch; returns the count."""
    done, last_id = 0, 0
    while True:
        with database.transaction() as session:
            wanted = select(Ticket.id).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch)
            if only_missing:
                wanted = wanted.where(~select(TicketSearchDoc.ticket_id).where(
                    TicketSearchDoc.ticket_id == Ticket.id).exists())  # fmt: skip
            ids = list(session.scalars(wanted))
            if not ids:
                return done
            done += reindex(session, ids)
            last_id = ids[-1]


def missing(session: Session) -> int:
    """How many tickets have no document (made before the index existed, or by a bulk load)."""
    has_doc = select(TicketSearchDoc.ticket_id).where(TicketSearchDoc.ticket_id == Ticket.id).exists()
    return session.scalar(select(func.count()).select_from(Ticket).where(~has_doc)) or 0
