"""The library of ready answers (Thai) an admin keeps, each optionally resting on a regulation clause."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import CannedAnswer, StaffUser, Topic
from clinic.ticket_search import like_pattern


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
