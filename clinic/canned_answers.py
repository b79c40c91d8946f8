"""The library of ready answers (Thai) an admin keeps, each optionally resting on a regulation clause.

A starter set (clinic/data/canned_starter.csv) is inserted once, the first time the
database is prepared with the file present; a settings flag remembers it, so answers an
admin deleted or retired never come back. Answers may carry placeholders that the desk
fills for the ticket being answered (`fill`).
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clinic import audit, thaidate
from clinic.models import CannedAnswer, Setting, StaffUser, Ticket, Topic
from clinic.ticket_search import like_pattern

SEEDED_FLAG = "canned_starter_seeded"
STARTER_FILE = "canned_starter.csv"
PLACEHOLDERS = ("ชื่อ", "เลขเรื่อง", "หน่วยงาน", "กำหนดเวลา")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
WEEKDAYS_TH = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")


class CannedAnswerError(ValueError):
    pass


def _checked(session: Session, title: str, body: str, regulation_ref: str, topic_code: str | None) -> tuple:
    title, body, regulation_ref = title.strip(), body.strip(), regulation_ref.strip()
    if not title or len(title) > 200:
        raise CannedAnswerError("ต้องมีชื่อเรื่องไม่เกิน 200 ตัวอักษร / A title of 1-200 characters is required")
    if not body:
        raise CannedAnswerError("ต้องมีข้อความคำตอบ / The answer text is required")
    if len(regulation_ref) > 300:
        raise CannedAnswerError("อ้างอิงระเบียบยาวเกิน 300 ตัวอักษร / The regulation reference is over 300 characters")
    if topic_code and session.get(Topic, topic_code) is None:
        raise CannedAnswerError(f"ไม่รู้จักหัวข้อ {topic_code!r} / Unknown topic {topic_code!r}")
    return title, body, regulation_ref, topic_code or None


def create(
    session: Session,
    *,
    title: str,
    body: str,
    now: datetime,
    staff: StaffUser,
    regulation_ref: str = "",
    topic_code: str | None = None,
) -> CannedAnswer:
    title, body, regulation_ref, topic_code = _checked(session, title, body, regulation_ref, topic_code)
    answer = CannedAnswer(title=title, body=body, regulation_ref=regulation_ref, topic_code=topic_code,
                          active=True, created_at=now, updated_at=now)  # fmt: skip
    session.add(answer)
    session.flush()
    audit.record(session, now=now, action="canned.create", staff=staff, target_type="canned", target_id=answer.id)
    return answer


def update(
    session: Session,
    answer: CannedAnswer,
    *,
    title: str,
    body: str,
    now: datetime,
    staff: StaffUser,
    regulation_ref: str = "",
    topic_code: str | None = None,
    active: bool = True,
) -> CannedAnswer:
    title, body, regulation_ref, topic_code = _checked(session, title, body, regulation_ref, topic_code)
    answer.title, answer.body, answer.regulation_ref, answer.topic_code = title, body, regulation_ref, topic_code
    answer.active, answer.updated_at = active, now
    audit.record(session, now=now, action="canned.update", staff=staff, target_type="canned", target_id=answer.id,
                 active=active)  # fmt: skip
    session.flush()
    return answer


def search(session: Session, text: str = "", *, limit: int = 20) -> list[CannedAnswer]:
    """Active answers whose title, body or regulation reference contains `text` (substring: works for Thai)."""
    statement = select(CannedAnswer).where(CannedAnswer.active.is_(True))
    if text.strip():
        pattern = like_pattern(text.strip()[:200])
        statement = statement.where(
            or_(
                CannedAnswer.title.ilike(pattern, escape="\\"),
                CannedAnswer.body.ilike(pattern, escape="\\"),
                CannedAnswer.regulation_ref.ilike(pattern, escape="\\"),
            )
        )
    return list(session.scalars(statement.order_by(CannedAnswer.title).limit(limit)))


def has_any(session: Session) -> bool:
    """Whether there is at least one active answer (else the desk explains how to add one)."""
    return session.scalar(select(CannedAnswer.id).where(CannedAnswer.active.is_(True)).limit(1)) is not None


def _starter_rows(path: Path | None) -> list[dict[str, str]] | None:
    try:
        if path is not None:
            text = path.read_text(encoding="utf-8-sig")
        else:
            text = resources.files("clinic.data").joinpath(STARTER_FILE).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    return list(csv.DictReader(text.splitlines()))


def seed_starter(session: Session, *, now: datetime, path: Path | None = None) -> int:
    """Insert the starter answers once; return how many were added (0 when already seeded or no file).

    Without the file nothing is flagged, so a later release that ships it still seeds.
    A row that would be refused (no title, no body, unknown topic) is skipped, not fatal:
    start-up must not fail over one line of a data file.
    """
    if session.get(Setting, SEEDED_FLAG) is not None:
        return 0
    rows = _starter_rows(path)
    if rows is None:
        return 0
    topics = set(session.scalars(select(Topic.code)))
    added = 0
    for row in rows:
        title, body = (row.get("title") or "").strip(), (row.get("body") or "").strip()
        reference = (row.get("reference") or "").strip()
        topic = (row.get("topic") or "").strip() or None
        if not title or not body or len(title) > 200 or len(reference) > 300:
            continue
        session.add(CannedAnswer(title=title, body=body, regulation_ref=reference,
                                 topic_code=topic if topic in topics else None, active=True,
                                 created_at=now, updated_at=now))  # fmt: skip
        added += 1
    session.add(Setting(key=SEEDED_FLAG, value=now.isoformat(), updated_at=now))
    audit.record(session, now=now, action="canned.seed", target_type="canned", added=added)
    session.flush()
    return added


def fill(body: str, ticket: Ticket, now: datetime) -> str:
    """The answer with `{ชื่อ}`, `{เลขเรื่อง}`, `{หน่วยงาน}` and `{กำหนดเวลา}` filled in for `ticket`.

    A placeholder whose value is unknown (no name given) stays as typed, so the staff
    member sees what is left to fill; any other `{...}` is left alone.
    """
    requester = ticket.requester
    values = {
        "ชื่อ": (requester.person_name or requester.display_name or "").strip() if requester else "",
        "เลขเรื่อง": ticket.number,
        "หน่วยงาน": ticket.agency_name or "",
        "กำหนดเวลา": deadline_words(ticket.due_at, now) if ticket.due_at else "",
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)] or match.group(0), body)


def deadline_words(due: datetime, now: datetime) -> str:
    """`วันนี้ เวลา 14:05 น.`, `พรุ่งนี้ (ศุกร์ที่ 27 พฤศจิกายน 2569) เวลา 09:00 น.`, or the full day."""
    local_due, today = thaidate.to_local(due), thaidate.to_local(now).date()
    clock = f"เวลา {local_due:%H:%M} น."
    full = f"วัน{WEEKDAYS_TH[local_due.weekday()]}ที่ {thaidate.format_date(local_due.date(), full=True)}"
    if local_due.date() == today:
        return f"วันนี้ ({full}) {clock}"
    if local_due.date() == today + timedelta(days=1):
        return f"พรุ่งนี้ ({full}) {clock}"
    return f"{full} {clock}"
