"""What the ticket page offers the agent answering it: articles and earlier answers to reuse.

- the articles the requester was already shown in the chat before asking staff (so the agent
  does not send the same text again, or knows what did not help);
- the best published articles for the question, shown even when the ranker is not confident
  (a person judges), each with a plain strength;
- the most similar closed tickets with their final answers (`similar`, `clinic.similar_tickets`):
  apart, because it searches every closed ticket and the page fetches it after it has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from clinic import knowledge, knowledge_search, similar_tickets
from clinic.knowledge_search import Hit
from clinic.models import KnowledgeArticle, Ticket
from clinic.similar_tickets import SimilarTicket

BEST_ARTICLES = 3
SIMILAR_TICKETS = 3


def strength(score: float, tuning: knowledge_search.Tuning = knowledge_search.TUNING) -> str:
    """`high` (the chat would answer with it), `medium`, or `low`, for a person to read instead of a number."""
    if score >= tuning.threshold:
        return "high"
    if score >= tuning.threshold * 0.6:
        return "medium"
    return "low"


@dataclass(frozen=True)
class Suggestion:
    hit: Hit
    strength: str
    shown_to_requester: bool


@dataclass(frozen=True)
class Assist:
    shown: list[KnowledgeArticle]
    articles: list[Suggestion]


def for_ticket(session: Session, ticket: Ticket) -> Assist:
    shown = knowledge.shown_for_ticket(session, ticket)
    shown_keys = {article.key for article in shown}
    question = similar_tickets.question_of(ticket)
    text = question if question.startswith(ticket.subject) else f"{ticket.subject}\n{question}"
    result = knowledge_search.search(session, text, limit=BEST_ARTICLES, topic_code=ticket.topic_code)
    articles = [Suggestion(hit, strength(hit.score), hit.key in shown_keys) for hit in result.hits]
    return Assist(shown, articles)


def similar(session: Session, ticket: Ticket) -> list[SimilarTicket]:
    return similar_tickets.for_ticket(session, ticket, limit=SIMILAR_TICKETS)
