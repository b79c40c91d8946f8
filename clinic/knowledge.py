"""The knowledge base: articles the office approves, their life cycle, import, export and starter content.

An article answers one question the office answers the same way every time, with its regulation
clause. Only `published` articles answer in the chat; `draft` ones wait for a supervisor; `retired`
ones are kept for the record. Every change is audited and bumps `version`, and once the
transaction commits the worker recomputes the article's embeddings (`REFRESH_JOB`).

Starter content (`clinic/data/knowledge_starter.csv`, `knowledge_drafts.csv`) ships with the
product, marked `starter` ("review before use") until a supervisor approves each article.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.db import on_commit
from clinic.models import AnswerOffer, AuditEntry, KnowledgeArticle, Message, StaffUser, Ticket, Topic

STATUSES = ("draft", "published", "retired")
CSV_HEADER = ("key", "topic", "title", "questions", "answer", "reference")
REFRESH_JOB = "clinic.tasks.refresh_knowledge"
MAX_TITLE = 200
MAX_ANSWER = 5000
MAX_REFERENCE = 300
MAX_QUESTIONS = 4000
# At most 40 characters: the key is the audit trail's target id (`audit_entries.target_id`, 40).
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class KnowledgeError(ValueError):
    """A change refused; the message is Thai first, then English."""


@dataclass(frozen=True)
class ArticleFields:
    """What an editor or an import gives; checked by `check`."""

    key: str
    topic: str
    title: str
    questions: str
    answer: str
    reference: str = ""
    effective_date: date | None = None


def _topics(session: Session) -> dict[str, str]:
    """Topic code by code and by Thai label (an import may use either)."""
    found: dict[str, str] = {}
    for topic in session.scalars(select(Topic)):
        found[topic.code] = topic.code
        found[topic.label_th.strip()] = topic.code
        found[topic.short_th.strip()] = topic.code
    return found


def _questions(text: str) -> str:
    lines = [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def check(session: Session, fields: ArticleFields) -> ArticleFields:
    """The fields cleaned and checked; KnowledgeError names the first problem."""
    key = fields.key.strip().lower()
    if not _KEY.match(key):
        raise KnowledgeError(
            f"รหัสบทความ {key!r} ต้องเป็นอักษรอังกฤษตัวเล็ก ตัวเลข และ - ยาว 2-40 ตัว / "
            "The key must be 2-40 lower-case letters, digits or hyphens"
        )
    topic = _topics(session).get(fields.topic.strip())
    if topic is None:
        raise KnowledgeError(f"ไม่รู้จักหัวข้อ {fields.topic!r} / Unknown topic {fields.topic!r}")
    title, answer, reference = fields.title.strip(), fields.answer.strip(), fields.reference.strip()
    if not title or len(title) > MAX_TITLE:
        raise KnowledgeError(f"ต้องมีชื่อเรื่องไม่เกิน {MAX_TITLE} ตัวอักษร / A title of 1-{MAX_TITLE} characters")
    if not answer or len(answer) > MAX_ANSWER:
        raise KnowledgeError(f"ต้องมีคำตอบไม่เกิน {MAX_ANSWER} ตัวอักษร / An answer of 1-{MAX_ANSWER} characters")
    if len(reference) > MAX_REFERENCE:
        raise KnowledgeError(f"อ้างอิงยาวเกิน {MAX_REFERENCE} ตัวอักษร / The reference is over {MAX_REFERENCE} characters")
    questions = _questions(fields.questions)
    if len(questions) > MAX_QUESTIONS:
        raise KnowledgeError(
            f"ตัวอย่างคำถามยาวเกิน {MAX_QUESTIONS} ตัวอักษร / The sample questions are over {MAX_QUESTIONS} characters"
        )
    for text in (title, answer, reference, questions):
        if "\x00" in text:
            raise KnowledgeError("ข้อความมีอักขระที่ใช้ไม่ได้ / The text holds a NUL character")
    return ArticleFields(key, topic, title, questions, answer, reference, fields.effective_date)


def _changed(session: Session) -> None:
    """Once the change is durable, the worker recomputes what changed (embeddings).

    A session without a runtime (`clinic migrate` seeding the starter articles) queues nothing:
    the worker refreshes every stale article when it starts and on its tick.
    """
    runtime = session.info.get("runtime")
    if runtime is not None:
        on_commit(session, lambda: runtime.enqueue(REFRESH_JOB))


def get(session: Session, key: str) -> KnowledgeArticle | None:
    return session.scalar(select(KnowledgeArticle).where(KnowledgeArticle.key == key))


def create(
    session: Session,
    fields: ArticleFields,
    *,
    now: datetime,
    status: str = "draft",
    staff: StaffUser | None = None,
    actor: str = "",
    starter: bool = False,
    source_ticket: Ticket | None = None,
) -> KnowledgeArticle:
    if status not in STATUSES:
        raise KnowledgeError(f"ไม่รู้จักสถานะ {status!r} / Unknown status {status!r}")
    clean = check(session, fields)
    if get(session, clean.key) is not None:
        raise KnowledgeError(f"มีบทความรหัส {clean.key} แล้ว / An article with key {clean.key} exists")
    article = KnowledgeArticle(
        key=clean.key,
        topic_code=clean.topic,
        title=clean.title,
        questions=clean.questions,
        answer=clean.answer,
        reference=clean.reference,
        effective_date=clean.effective_date,
        status=status,
        starter=starter,
        source_ticket_id=source_ticket.id if source_ticket else None,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    audit.record(session, now=now, action="kb.create", staff=staff, actor=actor, target_type="kb", target_id=clean.key,
                 status=status)  # fmt: skip
    _changed(session)
    return article


_CONTENT = ("topic_code", "title", "questions", "answer", "reference", "effective_date")


def update(
    session: Session,
    article: KnowledgeArticle,
    fields: ArticleFields,
    *,
    now: datetime,
    staff: StaffUser | None = None,
    actor: str = "",
) -> list[str]:
    """Change an article's content; return the names of the fields that changed.

    A changed text is no longer the text a supervisor approved: the approval is cleared.
    """
    clean = check(session, replace(fields, key=article.key))
    wanted = {
        "topic_code": clean.topic,
        "title": clean.title,
        "questions": clean.questions,
        "answer": clean.answer,
        "reference": clean.reference,
        "effective_date": clean.effective_date,
    }
    changed = [name for name in _CONTENT if getattr(article, name) != wanted[name]]
    if not changed:
        return []
    for name in changed:
        setattr(article, name, wanted[name])
    article.version += 1
    article.updated_at = now
    article.approved_by_id, article.approved_at = None, None
    session.flush()
    audit.record(session, now=now, action="kb.update", staff=staff, actor=actor, target_type="kb",
                 target_id=article.key, fields=changed)  # fmt: skip
    _changed(session)
    return changed


def set_status(
    session: Session, article: KnowledgeArticle, status: str, *, now: datetime, staff: StaffUser | None = None,
    actor: str = "",
) -> None:  # fmt: skip
    if status not in STATUSES:
        raise KnowledgeError(f"ไม่รู้จักสถานะ {status!r} / Unknown status {status!r}")
    if status == article.status:
        return
    before = article.status
    article.status = status
    article.version += 1
    article.updated_at = now
    session.flush()
    audit.record(session, now=now, action="kb.status", staff=staff, actor=actor, target_type="kb",
                 target_id=article.key, status=[before, status])  # fmt: skip
    _changed(session)


def approve(session: Session, article: KnowledgeArticle, *, now: datetime, staff: StaffUser) -> None:
    """A supervisor vouches for the text: the starter mark goes, and a draft is published."""
    if staff.role not in ("supervisor", "admin"):
        raise KnowledgeError("เฉพาะหัวหน้างานอนุมัติบทความได้ / Only a supervisor can approve an article")
    article.approved_by_id = staff.id
    article.approved_at = now
    article.starter = False
    if article.status == "draft":
        article.status = "published"
        article.version += 1
    article.updated_at = now
    session.flush()
    audit.record(session, now=now, action="kb.approve", staff=staff, target_type="kb", target_id=article.key)
    _changed(session)


def draft_from_ticket(session: Session, ticket: Ticket, *, now: datetime, staff: StaffUser) -> KnowledgeArticle:
    """A closed ticket's question and final answer as a draft article, for a supervisor to approve."""
    if ticket.status != "closed":
        raise KnowledgeError("ทำบทความได้จากเรื่องที่ปิดแล้วเท่านั้น / Only a closed ticket can become an article")
    messages: list[Message] = list(ticket.messages)
    question = next((m.body for m in messages if m.kind == "inbound" and m.body.strip()), ticket.subject)
    answers = [m.body for m in messages if m.kind == "outbound" and m.body.strip()]
    if not answers:
        raise KnowledgeError("เรื่องนี้ยังไม่มีคำตอบ / This ticket has no answer to turn into an article")
    key = f"ticket-{ticket.number.lower()}"
    existing = get(session, key)
    if existing is not None:
        return existing
    title = (ticket.subject or question.splitlines()[0])[:MAX_TITLE]
    fields = ArticleFields(key, ticket.topic_code, title, question[:MAX_QUESTIONS], answers[-1][:MAX_ANSWER])
    return create(session, fields, now=now, status="draft", staff=staff, source_ticket=ticket)


# --- import and export --------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


_EXTRA = "__extra__"


def _rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), restkey=_EXTRA)
    header = [name.strip() for name in (reader.fieldnames or [])]
    rows: list[tuple[int, dict[str, Any]]] = []
    line = 2
    for row in reader:
        # The line a row starts on: a quoted cell may span several lines.
        rows.append((line, {k.strip(): v if isinstance(v, list) else (v or "") for k, v in row.items()}))
        line = reader.line_num + 1
    return header, rows


def _fields(row: dict[str, Any]) -> ArticleFields:
    return ArticleFields(row["key"], row["topic"], row["title"], row["questions"], row["answer"], row["reference"])


def import_csv(
    session: Session, text: str, *, now: datetime, staff: StaffUser | None = None, actor: str = "",
    status: str = "published", starter: bool = False,
) -> ImportResult:  # fmt: skip
    """Create or update articles from CSV; all or nothing: with any bad row nothing is saved.

    The caller rolls back when `errors` is not empty (the function itself never commits).
    """
    result = ImportResult()
    try:
        header, rows = _rows(text)
    except csv.Error as exc:
        result.errors.append(f"ไฟล์ CSV เสีย / Broken CSV: {exc}")
        return result
    if tuple(header) != CSV_HEADER:
        result.errors.append(f"หัวตารางต้องเป็น / The header must be: {','.join(CSV_HEADER)} (got {','.join(header)})")
        return result
    seen: set[str] = set()
    checked: list[tuple[int, ArticleFields]] = []
    for line, row in rows:
        if row.get(_EXTRA):
            result.errors.append(f"บรรทัด {line} / line {line}: มีคอลัมน์เกิน / too many columns")
            continue
        try:
            clean = check(session, _fields(row))
        except KnowledgeError as exc:
            result.errors.append(f"บรรทัด {line} / line {line}: {exc}")
            continue
        if clean.key in seen:
            result.errors.append(f"บรรทัด {line} / line {line}: รหัส {clean.key} ซ้ำในไฟล์ / duplicate key")
            continue
        seen.add(clean.key)
        checked.append((line, clean))
    if not rows:
        result.errors.append("ไม่มีบทความในไฟล์ / The file has no articles")
    if result.errors:
        return result
    for _line, clean in checked:
        article = get(session, clean.key)
        if article is None:
            create(session, clean, now=now, status=status, staff=staff, actor=actor, starter=starter)
            result.created += 1
            continue
        changed = update(session, article, clean, now=now, staff=staff, actor=actor)
        if article.status != status:
            set_status(session, article, status, now=now, staff=staff, actor=actor)
            changed.append("status")
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def export_csv(session: Session, articles: Iterable[KnowledgeArticle] | None = None) -> str:
    """Articles in the import format (UTF-8 text; the caller adds a byte-order mark for Excel if wanted)."""
    if articles is None:
        articles = session.scalars(select(KnowledgeArticle).order_by(KnowledgeArticle.key))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for a in articles:
        writer.writerow([a.key, a.topic_code, a.title, a.questions, a.answer, a.reference])
    return out.getvalue()


# --- starter content ----------------------------------------------------------------------


def _starter_file(name: str) -> str | None:
    path = resources.files("clinic.data").joinpath(name)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def seed_starter(session: Session, *, now: datetime) -> int:
    """Insert the starter articles whose keys are missing; never touch an existing article.

    Published starter articles answer at once but stay marked "review before use"; the drafts
    (BMA-specific points the office must complete) wait for a supervisor.
    """
    added = 0
    existing = set(session.scalars(select(KnowledgeArticle.key)))
    for name, status in (("knowledge_starter.csv", "published"), ("knowledge_drafts.csv", "draft")):
        text = _starter_file(name)
        if text is None:
            continue
        header, rows = _rows(text)
        if tuple(header) != CSV_HEADER:
            raise KnowledgeError(f"{name}: unexpected header {header}")
        for _line, row in rows:
            if row["key"].strip().lower() in existing:
                continue
            create(session, _fields(row), now=now, status=status, actor="system:starter", starter=True)
            existing.add(row["key"].strip().lower())
            added += 1
    return added


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(KnowledgeArticle.status, func.count()).group_by(KnowledgeArticle.status))
    found: dict[str, Any] = {status: 0 for status in STATUSES}
    found.update({status: count for status, count in rows})
    return found


# --- reading, for the desk -----------------------------------------------------------------

MAX_FILTER_TEXT = 200


def find(
    session: Session, *, status: str = "", topic: str = "", text: str = "", limit: int = 500
) -> list[KnowledgeArticle]:
    """Articles by status and topic, and whose key, title, sample questions or answer contain `text`.

    A plain filter (substring, any status) for the desk's list; ranking questions against the
    published articles is `knowledge_search.search`.
    """
    if status and status not in STATUSES:
        raise KnowledgeError(f"ไม่รู้จักสถานะ {status!r} / Unknown status {status!r}")
    if len(text) > MAX_FILTER_TEXT:
        raise KnowledgeError(
            f"คำค้นยาวเกิน {MAX_FILTER_TEXT} ตัวอักษร / The search text is over {MAX_FILTER_TEXT} characters"
        )
    statement = select(KnowledgeArticle)
    if status:
        statement = statement.where(KnowledgeArticle.status == status)
    if topic:
        statement = statement.where(KnowledgeArticle.topic_code == topic)
    if text.strip():
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        columns = (KnowledgeArticle.key, KnowledgeArticle.title, KnowledgeArticle.questions, KnowledgeArticle.answer)
        statement = statement.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    statement = statement.order_by(KnowledgeArticle.topic_code, KnowledgeArticle.key).limit(limit)
    return list(session.scalars(statement).unique())


def history(session: Session, key: str) -> list[AuditEntry]:
    """The article's audit trail, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "kb", AuditEntry.target_id == key)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def shown_for_ticket(session: Session, ticket: Ticket) -> list[KnowledgeArticle]:
    """The articles the requester was shown in the chat before asking staff, best first, without repeats."""
    keys: list[str] = []
    for offer in session.scalars(
        select(AnswerOffer).where(AnswerOffer.ticket_id == ticket.id).order_by(AnswerOffer.id)
    ):
        keys += [key for key in offer.article_keys or [] if key not in keys]
    if not keys:
        return []
    found = {a.key: a for a in session.scalars(select(KnowledgeArticle).where(KnowledgeArticle.key.in_(keys))).unique()}
    return [found[key] for key in keys if key in found]


FAQ_SIZE = 8  # buttons under the chat's FAQ: LINE shows up to 13, and the menu's own buttons follow
FAQ_DAYS = 90


def frequently_asked(session: Session, *, now: datetime, limit: int = FAQ_SIZE) -> list[KnowledgeArticle]:
    """Published articles for the chat's FAQ: the ones that answered most in the last 90 days, then by title."""
    used = (
        select(AnswerOffer.solved_key.label("key"), func.count().label("uses"))
        .where(AnswerOffer.outcome == "solved", AnswerOffer.asked_at >= now - timedelta(days=FAQ_DAYS))
        .group_by(AnswerOffer.solved_key)
        .subquery()
    )
    statement = (
        select(KnowledgeArticle)
        .outerjoin(used, used.c.key == KnowledgeArticle.key)
        .where(KnowledgeArticle.status == "published")
        .order_by(func.coalesce(used.c.uses, 0).desc(), KnowledgeArticle.title, KnowledgeArticle.key)
        .limit(limit)
    )
    return list(session.scalars(statement).unique())


def published(session: Session, key: str) -> KnowledgeArticle | None:
    article = get(session, key)
    return article if article is not None and article.status == "published" else None


def may_edit(staff: StaffUser, article: KnowledgeArticle | None) -> bool:
    """Supervisors and admins edit any article; an agent proposes: a new draft, or changes to a draft.

    A published text reaches requesters, so only a supervisor changes it (and the change clears
    the approval); publishing, retiring, approving and importing are supervisors' too.
    """
    if staff.role in ("supervisor", "admin"):
        return True
    return article is None or article.status == "draft"
