"""Answers the knowledge base offers in the chat before a ticket opens, and what became of them.

When the knowledge base is confident, the conversation offers the best article and waits:
- solved: the consultation is self-served; nothing enters the staff queue;
- asked staff (or anything that is not a button): the ticket opens at once, its clock starting at
  the question's time, with the offered articles recorded (`AnswerOffer.ticket_id`) for staff;
- abandoned: the requester started something else (a new question, cancel) without saying.
A self-served answer may be rated once (`คำตอบนี้ช่วยได้ไหม`, 1-5), apart from the four-item survey.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import tickets
from clinic.knowledge_search import Hit
from clinic.models import AnswerOffer, Requester, Ticket
from clinic.tickets import NewAttachment

OUTCOMES = ("offered", "solved", "asked_staff", "abandoned")


class OfferError(ValueError):
    """A step the offer's state does not allow; Thai first."""


def create(
    session: Session,
    *,
    requester: Requester,
    topic_code: str,
    question: str,
    hits: Sequence[Hit],
    now: datetime,
    channel_message_id: str | None = None,
) -> AnswerOffer:
    if requester.agency_type_code is None:
        raise OfferError("ยังไม่ได้ระบุประเภทหน่วยงาน / The requester's agency type is not set")
    offer = AnswerOffer(
        requester_id=requester.id,
        channel=requester.channel,
        agency_type_code=requester.agency_type_code,
        agency_id=requester.agency_id,
        agency_other=requester.agency_other,
        topic_code=topic_code,
        question=question,
        asked_at=now,
        channel_message_id=channel_message_id,
        article_keys=[hit.key for hit in hits],
        scores=[hit.score for hit in hits],
        outcome="offered",
    )
    session.add(offer)
    session.flush()
    return offer


def _pending(offer: AnswerOffer) -> None:
    if offer.outcome != "offered":
        raise OfferError("คำตอบนี้ได้ดำเนินการไปแล้ว / This answer was already acted on")


def solve(session: Session, offer: AnswerOffer, *, key: str | None, now: datetime) -> None:
    """The requester says the article answered them: a self-served consultation."""
    _pending(offer)
    offer.outcome = "solved"
    offer.solved_key = key if key in offer.article_keys else (offer.article_keys[0] if offer.article_keys else None)
    offer.resolved_at = now
    session.flush()


def ask_staff(
    session: Session,
    offer: AnswerOffer,
    requester: Requester,
    *,
    now: datetime,
    follow_up: str = "",
    attachments: Sequence[NewAttachment] = (),
    channel_message_id: str | None = None,
) -> Ticket:
    """Open the ticket for staff, its clock from the question's time; a further message joins it."""
    _pending(offer)
    ticket = tickets.open_ticket(
        session,
        requester=requester,
        topic_code=offer.topic_code,
        body=offer.question,
        now=offer.asked_at,
        channel_message_id=offer.channel_message_id,
    )
    if follow_up.strip() or attachments:
        tickets.add_requester_message(
            session, ticket, body=follow_up.strip(), now=now, attachments=attachments,
            channel_message_id=channel_message_id,
        )  # fmt: skip
    offer.outcome = "asked_staff"
    offer.ticket_id = ticket.id
    offer.resolved_at = now
    session.flush()
    return ticket


def abandon(session: Session, offer: AnswerOffer, *, now: datetime) -> None:
    if offer.outcome == "offered":
        offer.outcome = "abandoned"
        offer.resolved_at = now
        session.flush()


def rate(session: Session, offer: AnswerOffer, score: int, *, now: datetime) -> None:
    if offer.outcome != "solved":
        raise OfferError("ให้คะแนนได้เฉพาะคำตอบที่ช่วยได้แล้ว / Only a solved answer can be rated")
    if not 1 <= score <= 5:
        raise OfferError("คะแนนต้องเป็น 1-5 / The score must be 1-5")
    offer.rating = score
    offer.rated_at = now
    session.flush()


def of_ticket(session: Session, ticket: Ticket) -> list[AnswerOffer]:
    """The answers the requester was shown before this ticket opened (for staff)."""
    return list(session.scalars(select(AnswerOffer).where(AnswerOffer.ticket_id == ticket.id).order_by(AnswerOffer.id)))
