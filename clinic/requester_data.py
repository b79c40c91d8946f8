"""A requester's rights under the PDPA: a copy of everything we hold about them, and erasure.

Erasure removes what identifies a person or what they wrote: names, the channel user id,
message texts (theirs and staff answers, which quote them), attachments, survey
suggestions, the question's first line on the ticket, their webhook payloads and the
texts of outbox rows. What stays is the anonymous ticket row (number, topic, agency type
and agency, channel, times, status) and the survey scores, so the KPI of any period,
closed quarters included, is the same before and after.

The channel user id becomes `erased:<random>`: the unique (channel, channel_user_id) still
holds, and a new message from the same person finds no requester and starts afresh.
Retention (`clinic.retention`) anonymises old tickets and requesters the same way.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from clinic import audit, ticket_index, uploads, webchat_changes
from clinic.models import (
    AnswerOffer,
    Attachment,
    ChatSession,
    InboundEvent,
    Message,
    OutboxMessage,
    Requester,
    StaffUser,
    SurveyResponse,
    Ticket,
)

ERASED_PREFIX = "erased:"
ERASED_TEXT = "[ลบแล้ว / erased]"
# Messages whose body a person wrote; `system` lines are the product's own ("closed", "reopened").
WRITTEN_KINDS = ("inbound", "outbound", "note")
CONTROLLER = "สำนักงานเลขานุการปลัดกรุงเทพมหานคร / Office of the Secretary to the Permanent Secretary of Bangkok"


@dataclass
class Removed:
    """How many of each kind an erasure or a retention pass removed (or would remove)."""

    requesters: int = 0
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    survey_suggestions: int = 0
    outbox: int = 0
    webhook_events: int = 0

    def add(self, other: Removed) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def is_erased(requester: Requester) -> bool:
    return requester.channel_user_id.startswith(ERASED_PREFIX)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def events_of(requester: Requester) -> Any:
    """Webhook events that carry this requester's channel id (their payloads hold it verbatim)."""
    return (InboundEvent.channel == requester.channel) & cast(InboundEvent.payload, Text).contains(
        requester.channel_user_id, autoescape=True
    )


# --- export -----------------------------------------------------------------------------------


_UNSAFE = re.compile(r"[^\w.\-ก-๙]+")


def _zip_name(attachment: Attachment) -> str:
    """A flat, harmless file name inside the zip: no folders, no `..`, the attachment id first."""
    name = _UNSAFE.sub("_", attachment.filename or attachment.kind).strip("._") or attachment.kind
    return f"attachments/{attachment.id}-{name[:80]}"


def export(session: Session, requester: Requester, *, now: datetime, staff: StaffUser) -> bytes:
    """A zip of `data.json` (everything we hold about the requester) and their attachments; audited."""
    tickets = list(
        session.scalars(select(Ticket).where(Ticket.requester_id == requester.id).order_by(Ticket.id)).unique()
    )
    surveys = {s.ticket_id: s for s in session.scalars(select(SurveyResponse).where(
        SurveyResponse.requester_id == requester.id))}  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ticket_rows = []
        for ticket in tickets:
            messages = []
            for message in ticket.messages:
                files = []
                for attachment in message.attachments:
                    path = _zip_name(attachment)
                    if attachment.content:
                        archive.writestr(path, attachment.content)
                    files.append({"filename": attachment.filename, "content_type": attachment.content_type,
                                  "size": attachment.size, "path": path if attachment.content else None})  # fmt: skip
                messages.append({"kind": message.kind, "created_at": _iso(message.created_at), "body": message.body,
                                 "delivery_status": message.delivery_status, "attachments": files})  # fmt: skip
            survey = surveys.get(ticket.id)
            ticket_rows.append({
                "number": ticket.number, "status": ticket.status, "channel": ticket.channel,
                "topic": ticket.topic.label_th, "agency_type": ticket.agency_type.label_th,
                "agency": ticket.agency_name, "subject": ticket.subject, "posted_at": _iso(ticket.posted_at),
                "first_response_at": _iso(ticket.first_response_at), "closed_at": _iso(ticket.closed_at),
                "due_at": _iso(ticket.due_at), "messages": messages,
                "survey": None if survey is None else {
                    "status": survey.status, "convenience": survey.convenience, "timeliness": survey.timeliness,
                    "usefulness": survey.usefulness, "overall": survey.overall, "suggestion": survey.suggestion,
                    "completed_at": _iso(survey.completed_at)},
            })  # fmt: skip
        chat = session.get(ChatSession, requester.id)
        outbox_rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.requester_id == requester.id).order_by(OutboxMessage.id)
        )
        events = session.scalars(select(InboundEvent).where(events_of(requester)).order_by(InboundEvent.id))
        data = {
            "exported_at": _iso(now),
            "controller": CONTROLLER,
            "requester": {
                "channel": requester.channel, "channel_user_id": requester.channel_user_id,
                "display_name": requester.display_name, "person_name": requester.person_name,
                "position": requester.position, "agency_type": requester.agency_type.label_th
                if requester.agency_type else None, "agency": requester.agency_name,
                "created_at": _iso(requester.created_at), "last_inbound_at": _iso(requester.last_inbound_at),
            },
            "tickets": ticket_rows,
            "conversation_state": None if chat is None else {"step": chat.step, "data": chat.data},
            "messages_sent_to_you": [{"created_at": _iso(o.created_at), "kind": o.kind, "status": o.status,
                                      "messages": o.payload} for o in outbox_rows],
            "webhook_events": [{"received_at": _iso(e.received_at), "type": e.event_type, "payload": e.payload}
                               for e in events],
        }  # fmt: skip
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
    audit.record(session, now=now, action="requester.export", staff=staff, target_type="requester",
                 target_id=requester.id, tickets=len(tickets))  # fmt: skip
    return buffer.getvalue()


# --- erasure ----------------------------------------------------------------------------------


def anonymise_tickets(session: Session, ticket_ids: Sequence[int], *, dry_run: bool = False) -> Removed:
    """Remove the texts and files of these tickets; keep their anonymous rows and survey scores."""
    removed = Removed()
    if not ticket_ids:
        return removed
    ids = list(ticket_ids)
    written = (Message.ticket_id.in_(ids)) & Message.kind.in_(WRITTEN_KINDS) & (Message.body != ERASED_TEXT)
    in_tickets = select(Message.id).where(Message.ticket_id.in_(ids)).scalar_subquery()
    suggestions = SurveyResponse.ticket_id.in_(ids) & (SurveyResponse.suggestion != "")
    outbox_rows = OutboxMessage.ticket_id.in_(ids) & (cast(OutboxMessage.payload, Text) != "[]")
    removed.tickets = len(ids)
    removed.messages = session.scalar(select(func.count()).where(written)) or 0
    removed.attachments = session.scalar(select(func.count()).where(Attachment.message_id.in_(in_tickets))) or 0
    removed.survey_suggestions = session.scalar(select(func.count()).where(suggestions)) or 0
    removed.outbox = session.scalar(select(func.count()).where(outbox_rows)) or 0
    if dry_run:
        return removed
    session.execute(delete(Attachment).where(Attachment.message_id.in_(in_tickets)))
    session.execute(update(Message).where(written).values(body=ERASED_TEXT, channel_message_id=None))
    session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(subject=""))
    session.execute(update(SurveyResponse).where(suggestions).values(suggestion=""))
    # The question the knowledge base answered before the ticket opened is the requester's text too.
    session.execute(update(AnswerOffer).where(AnswerOffer.ticket_id.in_(ids)).values(question=ERASED_TEXT))
    _blank_outbox(session, OutboxMessage.ticket_id.in_(ids))
    # The search index holds the same texts: rebuilt from the erased thread (the number still finds the ticket).
    ticket_index.reindex(session, ids)
    session.expire_all()
    return removed


def _blank_outbox(session: Session, where: Any, new_recipient: tuple[str, str] | None = None) -> None:
    """Empty outbox texts; a message not yet sent is not sent any more (its recipient is gone)."""
    session.execute(
        update(OutboxMessage).where(where, OutboxMessage.status.in_(("pending", "sending")))
        .values(status="not_sent", last_error="ลบข้อมูลแล้ว / erased", next_attempt_at=None)
    )  # fmt: skip
    session.execute(update(OutboxMessage).where(where).values(payload=[], reply_token=None))
    if new_recipient is not None:
        old, new = new_recipient
        session.execute(update(OutboxMessage).where(where, OutboxMessage.recipient == old).values(recipient=new))


def anonymise_requester(session: Session, requester: Requester, *, dry_run: bool = False) -> Removed:
    """Names, channel id, conversation state, webhook payloads and outbox texts of one requester."""
    removed = Removed(requesters=0 if is_erased(requester) else 1)
    if is_erased(requester):
        return removed
    own_outbox = or_(
        OutboxMessage.requester_id == requester.id,
        (OutboxMessage.channel == requester.channel) & (OutboxMessage.recipient == requester.channel_user_id),
    )
    events = events_of(requester)
    with_text = cast(OutboxMessage.payload, Text) != "[]"
    # Rows of a ticket are counted by `anonymise_tickets`; here only the rest (the intake's replies).
    intake = OutboxMessage.ticket_id.is_(None)
    removed.outbox = session.scalar(select(func.count()).where(own_outbox, with_text, intake)) or 0
    removed.webhook_events = session.scalar(select(func.count()).where(events)) or 0
    if dry_run:
        return removed
    new_id = f"{ERASED_PREFIX}{secrets.token_hex(12)}"
    # Events are deleted, not blanked: their (channel, event_key) only guards against LINE's
    # redeliveries within minutes, and a payload without its text is worth nothing.
    session.execute(delete(InboundEvent).where(events))
    _blank_outbox(session, own_outbox, (requester.channel_user_id, new_id))
    session.execute(delete(ChatSession).where(ChatSession.requester_id == requester.id))
    # Questions answered by the knowledge base alone (no ticket) are kept as counts, without their text.
    session.execute(update(AnswerOffer).where(AnswerOffer.requester_id == requester.id).values(question=ERASED_TEXT))
    requester.channel_user_id = new_id
    requester.display_name = requester.person_name = requester.position = ""
    requester.following = False
    session.flush()
    return removed


def erase(session: Session, requester: Requester, *, now: datetime, staff: StaffUser) -> Removed:
    """Erase one requester (their right to erasure); audited without any of the erased data."""
    ticket_ids = session.scalars(select(Ticket.id).where(Ticket.requester_id == requester.id)).all()
    removed = Removed()
    if requester.channel == "web":
        webchat_changes.touch(session, requester.channel_user_id)  # its open chat tab forgets what it showed
        # Files the web chat kept that never reached a ticket are found by their owner, not through messages.
        removed.attachments += uploads.purge_unclaimed(session, before=now + timedelta(seconds=1),
                                                       owner=requester.channel_user_id)  # fmt: skip
    removed.add(anonymise_tickets(session, ticket_ids))
    removed.add(anonymise_requester(session, requester))
    audit.record(session, now=now, action="requester.erase", staff=staff, target_type="requester",
                 target_id=requester.id, removed=removed.as_dict())  # fmt: skip
    return removed
