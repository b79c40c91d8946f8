"""Closed tickets that asked much the same question, with the answer staff gave, for the agent-assist panel.

The question's content words (`thai_text.words`) are looked up one by one through the desk's
own ticket search (`ticket_search.search` over closed tickets), so a ranked full-text index
there ranks these too. How many closed tickets hold a word says how rare it is; only the
rarest few words are used, each weighted by its rarity (BM25's IDF): two tickets sharing
`หนังสือเวียน` say more than two sharing `หนังสือ`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import thai_text, ticket_search
from clinic.models import Message, Ticket
from clinic.ticket_search import TicketFilter

CANDIDATE_WORDS = 6  # words looked up (each is one search); the longest first, as a cheap guess at rarity
RAREST_WORDS = 5  # of those, the rarest that any closed ticket holds
PER_WORD = 30  # tickets read per word
_THAI_OR_LATIN = re.compile(r"[\u0e01-\u0e2ea-z]")


@dataclass(frozen=True)
class SimilarTicket:
    ticket: Ticket
    question: str
    final_answer: str
    score: float
    shared_words: tuple[str, ...]


def question_of(ticket: Ticket) -> str:
    """The requester's first message (the question), or the subject when there is none."""
    first = next((m.body for m in ticket.messages if m.kind == "inbound" and m.body.strip()), "")
    return first or ticket.subject


def final_answer_of(session: Session, ticket_id: int) -> str:
    """The last reply sent to the requester."""
    body = session.scalar(
        select(Message.body)
        .where(Message.ticket_id == ticket_id, Message.kind == "outbound", Message.body != "")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return body or ""


def content_words(text: str) -> list[str]:
    """The question's distinct content words worth a search: letters in them, at least two characters."""
    seen: list[str] = []
    for word in thai_text.words(text):
        if len(word) >= 2 and _THAI_OR_LATIN.search(word) and word not in seen and len(word) <= ticket_search.MAX_QUERY:
            seen.append(word)
    return seen


def find(session: Session, text: str, *, exclude_id: int | None = None, limit: int = 3) -> list[SimilarTicket]:
    """The closed tickets sharing the most rare words with `text`, best first, each with its final answer."""
    candidates = sorted(content_words(text), key=len, reverse=True)[:CANDIDATE_WORDS]
    if not candidates:
        return []
    closed_total = ticket_search.search(session, TicketFilter(status="closed"), per_page=1).total
    looked: list[tuple[str, int, list[Ticket]]] = []
    for word in candidates:
        page = ticket_search.search(session, TicketFilter(status="closed", q=word), per_page=PER_WORD)
        if page.total:
            looked.append((word, page.total, page.items))
    looked.sort(key=lambda found: found[1])
    scores: dict[int, float] = {}
    shared: dict[int, list[str]] = {}
    tickets: dict[int, Ticket] = {}
    for word, holders, items in looked[:RAREST_WORDS]:
        weight = math.log(1 + (closed_total - holders + 0.5) / (holders + 0.5))
        for position, found in enumerate(items):
            if found.id == exclude_id:
                continue
            # Within one word, the search's own order (ranked once full-text search is in) breaks ties.
            scores[found.id] = scores.get(found.id, 0.0) + weight * (1 - position / (10 * PER_WORD))
            shared.setdefault(found.id, []).append(word)
            tickets[found.id] = found
    best = sorted(scores, key=lambda ticket_id: (-scores[ticket_id], -ticket_id))
    out: list[SimilarTicket] = []
    for ticket_id in best:
        answer = final_answer_of(session, ticket_id)
        if not answer:
            continue  # closed without a reply: nothing to reuse
        found = tickets[ticket_id]
        out.append(
            SimilarTicket(found, question_of(found), answer, round(scores[ticket_id], 3), tuple(shared[ticket_id]))
        )
        if len(out) == limit:
            break
    return out


def for_ticket(session: Session, ticket: Ticket, *, limit: int = 3) -> list[SimilarTicket]:
    """The closed tickets most like this one's question (never itself)."""
    return find(session, f"{ticket.subject}\n{question_of(ticket)}", exclude_id=ticket.id, limit=limit)
