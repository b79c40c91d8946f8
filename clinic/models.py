"""The clinic's records (SQLAlchemy 2.0 typed models).

All timestamps are `UTCDateTime`: stored as UTC, shown in Asia/Bangkok by `thaidate`.
The schema is released: a change here comes with a new migration in `clinic/migrations/versions/`
(never an edit of a released one); `tests/test_migrations.py` checks that they agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from clinic.db import Base, UTCDateTime

# Channels a requester can reach us on; `import` marks history loaded from a file.
CHANNELS = ("line", "messenger", "web", "import")
TICKET_STATUSES = ("open", "answered", "closed", "withdrawn")
# A finished ticket is out of the SLA queue and takes no more messages; `withdrawn` is the
# requester's own withdrawal (ถอนคำถาม), kept apart from KPI 1 (see clinic/kpi.py). Its `closed_at` is when.
FINISHED_STATUSES = ("closed", "withdrawn")
ROLES = ("agent", "supervisor", "admin")


class AgencyType(Base):
    """The five requester groups of the KPI report (seed section 6.4, item 1.1)."""

    __tablename__ = "agency_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_th: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    short_th: Mapped[str] = mapped_column(String(20))  # fits a 20-character chat button
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    agency_type_code: Mapped[str] = mapped_column(ForeignKey("agency_types.code"), index=True)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency_type: Mapped[AgencyType] = relationship(lazy="joined")


class Topic(Base):
    """What a consultation is about (seed section 6.4, item 1.2)."""

    __tablename__ = "topics"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_th: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    short_th: Mapped[str] = mapped_column(String(20))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Requester(Base):
    """A person at a BMA agency, as known on one channel."""

    __tablename__ = "requesters"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    person_name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    agency_type_code: Mapped[str | None] = mapped_column(ForeignKey("agency_types.code"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    agency_other: Mapped[str] = mapped_column(String(200), default="")  # free text when not in the list
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Messenger allows standard messages only within 24 h of the user's last message.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    following: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency | None] = relationship(lazy="joined")
    agency_type: Mapped[AgencyType | None] = relationship(lazy="joined")

    @property
    def agency_name(self) -> str:
        return self.agency.name_th if self.agency else self.agency_other


class ChatSession(Base):
    """Where a requester is in the conversation (intake, question, survey)."""

    __tablename__ = "chat_sessions"

    requester_id: Mapped[int] = mapped_column(ForeignKey("requesters.id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(40), default="start")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(5), default="th")
    line_user_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    link_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    link_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every alert up to this id is read for this staff member ("mark all read"); later ones by `StaffAlertRead`.
    alerts_read_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TicketCounter(Base):
    """The running number of tickets within one Buddhist Era year."""

    __tablename__ = "ticket_counters"

    year_be: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """One consultation.

    SLA rule: `due_at` is `sla_started_at + SLA_HOURS`, fixed when the clock starts.
    A reopen starts a new clock (`sla_started_at` = reopen time) and records in
    `sla_missed_before` whether the earlier cycle had already missed its deadline.
    The consultation counts as completed within the SLA when it is closed, its last
    closing came by its deadline, and no earlier cycle missed.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_due", "status", "due_at"),
        Index("ix_tickets_posted", "posted_at"),
        Index("ix_tickets_activity", "last_activity_at"),
        Index("ix_tickets_assignee_due", "assignee_id", "due_at"),
        Index("ix_tickets_due", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("requesters.id"), index=True)
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"))
    # A snapshot taken when the ticket opens; staff may correct it, and KPI tables use it.
    agency_type_code: Mapped[str] = mapped_column(ForeignKey("agency_types.code"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    agency_other: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    subject: Mapped[str] = mapped_column(String(200), default="")  # the question's first line, for lists
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_missed_before: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # history import dedupe
    # The newest message of any kind (the inbox's "last activity" order); posting time until then.
    last_activity_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, default=lambda context: context.get_current_parameters().get("posted_at")
    )

    requester: Mapped[Requester] = relationship(lazy="joined")
    topic: Mapped[Topic] = relationship(lazy="joined")
    agency_type: Mapped[AgencyType] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship(lazy="joined")
    assignee: Mapped[StaffUser | None] = relationship(lazy="joined")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )

    @hybrid_property
    def completed_within_sla(self) -> bool:
        return (
            self.status == "closed"
            and self.closed_at is not None
            and self.closed_at <= self.due_at
            and not self.sla_missed_before
        )

    @completed_within_sla.inplace.expression
    @classmethod
    def _completed_within_sla_expression(cls) -> Any:
        return and_(
            cls.status == "closed",
            cls.closed_at.is_not(None),
            cls.closed_at <= cls.due_at,
            cls.sla_missed_before == false(),
        )

    @property
    def agency_name(self) -> str:
        return self.agency.name_th if self.agency else self.agency_other

    @property
    def is_finished(self) -> bool:
        """Closed by staff or withdrawn by the requester (see `FINISHED_STATUSES`)."""
        return self.status in FINISHED_STATUSES


class Message(Base):
    """A line in a ticket's thread.

    kind: `inbound` (from the requester), `outbound` (a reply sent to the requester),
    `note` (internal, never sent), `system` (an event such as closed or reopened).
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel_message_id: Mapped[str | None] = mapped_column(String(128))
    # For outbound messages: pending, sent, failed, undeliverable, not_sent.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_error: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[StaffUser | None] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id", cascade="all, delete-orphan", lazy="selectin"
    )


class TicketSearchDoc(Base):
    """A ticket's searchable text, kept by the ticket service in the same transaction as each message.

    `words`: the number, subject, question, follow-ups, replies and notes segmented into space-separated
    words by `clinic.thai_text` (the full-text index reads it: on PostgreSQL a GIN index over the stored
    `words_tsv` = to_tsvector('simple', words), on SQLite the FTS5 table `ticket_search_fts`; both are
    made by migration 0003 and not declared here). `plain`: the same text normalised (lower case, NFC),
    for substring matches.
    """

    __tablename__ = "ticket_search_docs"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, autoincrement=False)
    words: Mapped[str] = mapped_column(Text, default="")
    plain: Mapped[str] = mapped_column(Text, default="")


class Attachment(Base):
    """An image or file a requester sent; the bytes live in the database so web and worker share them.

    A web-chat upload is stored before its event is processed, so for a moment (or for good, when
    the conversation was not at a step that takes files) it belongs to no message yet.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # image, file, video, audio
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # Where the bytes are still to be fetched from (the channel's content API), if not yet downloaded.
    source_ref: Mapped[str] = mapped_column(String(255), default="")
    # A web-chat upload: the browser (its `clinic_chat` cookie id) that sent it, the only one that may
    # fetch it back, and when it arrived. Empty for files that came from LINE or Messenger.
    uploaded_by: Mapped[str | None] = mapped_column(String(128))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[Message | None] = relationship(back_populates="attachments")


class InboundEvent(Base):
    """Every webhook event, stored before anything else is done with it.

    The unique (channel, event_key) drops redeliveries. status: pending, processing,
    processed, ignored, failed.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel", "event_key"),
        Index("ix_inbound_status", "status", "received_at"),
        # The web chat's poll: this browser's events after its cursor (migration 0006).
        Index("ix_inbound_channel_user", "channel", "channel_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(40), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # Who sent it, where the channel adapter knows it at storing time (the web chat's browser id).
    channel_user_id: Mapped[str | None] = mapped_column(String(128))


class OutboxMessage(Base):
    """A message waiting to be sent to a channel; the worker delivers it.

    `payload` is a channel-neutral list of messages (see `clinic.outbox`).
    status: pending, sending, sent, failed, not_sent, undeliverable.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status", "status", "next_attempt_at"),
        Index("ix_outbox_requester", "requester_id", "id"),  # the web chat's poll (migration 0006)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(128))  # channel user id or LINE group id
    kind: Mapped[str] = mapped_column(String(20))  # reply, auto, survey, sla_warning
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("requesters.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    reply_token: Mapped[str | None] = mapped_column(String(255))
    reply_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)  # X-Line-Retry-Key
    human_agent: Mapped[bool] = mapped_column(Boolean, default=False)  # a staff member wrote it
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Calls already accepted of a message split over several (LINE: pushes of five, Messenger: one
    # message each), so a retry resumes after them and delivers no part twice.
    sent_parts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LineGroup(Base):
    """LINE groups the bot was added to; the latest active one receives staff alerts."""

    __tablename__ = "line_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), unique=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlaNotice(Base):
    """A warning sent about a ticket: unique per ticket, deadline and kind, so it is sent once."""

    __tablename__ = "sla_notices"
    __table_args__ = (UniqueConstraint("ticket_id", "due_at", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. warn-6, warn-2, due, repeat-1
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffAlert(Base):
    """A live alert shown in the desk (SLA warnings and the like)."""

    __tablename__ = "staff_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    level: Mapped[str] = mapped_column(String(20), default="warning")  # info, warning, overdue, error
    text: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))  # None: everyone


class StaffAlertRead(Base):
    """One staff member has read one alert (those above their `alerts_read_through`)."""

    __tablename__ = "staff_alert_reads"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("staff_alerts.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketRead(Base):
    """The newest message of a ticket a staff member has seen; a newer requester message is unread."""

    __tablename__ = "ticket_reads"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    last_message_id: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyItem(Base):
    """A question of the satisfaction survey (seed 3.1-3.4); admins edit the wording, keys stay."""

    __tablename__ = "survey_items"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    text_th: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)


class SurveyResponse(Base):
    """The survey of one closed ticket.

    status: pending (sent, awaiting answers), completed, expired, not_sent
    (the channel forbade an automatic message), cancelled (a new question began).
    """

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("requesters.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    current_item: Mapped[str | None] = mapped_column(String(20))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    convenience: Mapped[int | None] = mapped_column(Integer)
    timeliness: Mapped[int | None] = mapped_column(Integer)
    usefulness: Mapped[int | None] = mapped_column(Integer)
    overall: Mapped[int | None] = mapped_column(Integer)
    suggestion: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[Ticket] = relationship()


class CannedAnswer(Base):
    __tablename__ = "canned_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    regulation_ref: Mapped[str] = mapped_column(String(300), default="")
    topic_code: Mapped[str | None] = mapped_column(ForeignKey("topics.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token of the JSON API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Setting(Base):
    """Settings an admin changes from the desk; they override the environment's defaults."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who did what, and when: every staff action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor: Mapped[str] = mapped_column(String(100), default="")  # username, api:<token>, system
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class KnowledgeArticle(Base):
    """An article of the knowledge base: one question the office answers the same way every time.

    status: draft, published, retired. Only published articles answer in the chat. `starter`
    marks the starter content shipped with the product ("review before use") until a
    supervisor approves the article; `version` grows with every change, so the search index
    knows what to recompute.
    """

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"))
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[str] = mapped_column(Text, default="")  # sample phrasings, one a line
    answer: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(300), default="")
    effective_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    starter: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    topic: Mapped[Topic] = relationship(lazy="joined")
    approved_by: Mapped[StaffUser | None] = relationship(lazy="joined")

    @property
    def sample_questions(self) -> list[str]:
        return [line.strip() for line in (self.questions or "").splitlines() if line.strip()]


class KnowledgeVector(Base):
    """The embeddings of one article's texts (title, sample questions, answer), computed by the worker.

    Kept in the database so the web and the worker share them and no process computes them at start.
    `version` is the article's version they were computed from.
    """

    __tablename__ = "kb_vectors"

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)  # float32, rows x dim, C order
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerOffer(Base):
    """A question the knowledge base answered in the chat before any ticket opened.

    outcome: offered (waiting for the requester), solved (self-served: no ticket), asked_staff
    (a ticket opened, `ticket_id`, with these articles shown to staff), abandoned (the requester
    started something else without saying). `article_keys` are the articles shown, best first;
    `solved_key` the one the requester was reading when they said it solved their question.
    """

    __tablename__ = "kb_offers"
    __table_args__ = (Index("ix_kb_offers_asked", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("requesters.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    agency_type_code: Mapped[str] = mapped_column(ForeignKey("agency_types.code"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    agency_other: Mapped[str] = mapped_column(String(200), default="")
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel_message_id: Mapped[str | None] = mapped_column(String(128))
    article_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    scores: Mapped[list[float]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(20), default="offered")
    solved_key: Mapped[str | None] = mapped_column(String(80))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
