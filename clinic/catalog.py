"""What an admin edits from the desk: agencies, topics, and the survey's wording.

Rows are retired, never deleted, so old tickets keep their labels. Codes of seeded rows
stay as they are (seeding matches on them); an agency added here has no code at all.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import Agency, AgencyType, StaffUser, SurveyItem, Topic

_CODE = re.compile(r"^[a-z0-9_-]{1,40}$")
SHORT_LABEL = 20  # a chat quick-reply button's label


class CatalogError(ValueError):
    pass


def _name(value: str, what: str, limit: int = 200, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise CatalogError(f"ต้องระบุ{what} / {what} is required")
    if len(value) > limit:
        raise CatalogError(f"{what}ยาวเกิน {limit} ตัวอักษร / {what} is over {limit} characters")
    return value


def _agency_type(session: Session, code: str) -> str:
    if session.get(AgencyType, code) is None:
        raise CatalogError(f"ไม่รู้จักประเภทหน่วยงาน {code!r} / Unknown agency type {code!r}")
    return code


def add_agency(
    session: Session, *, name_th: str, agency_type_code: str, now: datetime, staff: StaffUser, name_en: str = ""
) -> Agency:
    agency = Agency(
        code=None,
        agency_type_code=_agency_type(session, agency_type_code),
        name_th=_name(name_th, "ชื่อหน่วยงาน"),
        name_en=_name(name_en, "Agency name (English)", required=False),
        active=True,
    )
    session.add(agency)
    session.flush()
    audit.record(session, now=now, action="agency.add", staff=staff, target_type="agency", target_id=agency.id,
                 name_th=agency.name_th, agency_type=agency.agency_type_code)  # fmt: skip
    return agency


def update_agency(
    session: Session,
    agency: Agency,
    *,
    name_th: str,
    name_en: str,
    agency_type_code: str,
    active: bool,
    now: datetime,
    staff: StaffUser,
) -> Agency:
    before = {"name_th": agency.name_th, "agency_type": agency.agency_type_code, "active": agency.active}
    agency.agency_type_code = _agency_type(session, agency_type_code)
    agency.name_th = _name(name_th, "ชื่อหน่วยงาน")
    agency.name_en = _name(name_en, "Agency name (English)", required=False)
    agency.active = active
    session.flush()
    audit.record(session, now=now, action="agency.update", staff=staff, target_type="agency", target_id=agency.id,
                 before=before, name_th=agency.name_th, agency_type=agency_type_code, active=active)  # fmt: skip
    return agency


def add_topic(
    session: Session, *, code: str, label_th: str, label_en: str, short_th: str, now: datetime, staff: StaffUser
) -> Topic:
    code = code.strip().lower()
    if not _CODE.match(code):
        raise CatalogError("รหัสหัวข้อใช้ a-z 0-9 _ - ไม่เกิน 40 ตัว / Topic code: a-z, 0-9, _ or -, up to 40")
    if session.get(Topic, code) is not None:
        raise CatalogError(f"มีหัวข้อรหัส {code} แล้ว / Topic {code} exists")
    order = (session.scalar(select(func.max(Topic.sort_order))) or 0) + 1
    topic = Topic(
        code=code,
        label_th=_name(label_th, "ชื่อหัวข้อ"),
        label_en=_name(label_en, "Topic name (English)"),
        short_th=_name(short_th, "ชื่อย่อ", limit=SHORT_LABEL),
        sort_order=order,
        active=True,
    )
    session.add(topic)
    session.flush()
    audit.record(session, now=now, action="topic.add", staff=staff, target_type="topic", target_id=code)
    return topic


def update_topic(
    session: Session,
    topic: Topic,
    *,
    label_th: str,
    label_en: str,
    short_th: str,
    active: bool,
    now: datetime,
    staff: StaffUser,
) -> Topic:
    topic.label_th = _name(label_th, "ชื่อหัวข้อ")
    topic.label_en = _name(label_en, "Topic name (English)")
    topic.short_th = _name(short_th, "ชื่อย่อ", limit=SHORT_LABEL)
    if not active and topic.active:
        others = session.scalar(select(func.count()).where(Topic.active.is_(True), Topic.code != topic.code))
        if not others:
            raise CatalogError("ต้องมีหัวข้อที่ใช้งานอย่างน้อยหนึ่งหัวข้อ / At least one topic must stay active")
    topic.active = active
    session.flush()
    audit.record(session, now=now, action="topic.update", staff=staff, target_type="topic", target_id=topic.code,
                 label_th=topic.label_th, active=active)  # fmt: skip
    return topic


def update_survey_item(
    session: Session, item: SurveyItem, *, text_th: str, text_en: str, now: datetime, staff: StaffUser
) -> SurveyItem:
    item.text_th = _name(text_th, "ข้อความคำถาม", limit=1000)
    item.text_en = _name(text_en, "Question text (English)", limit=1000)
    session.flush()
    audit.record(session, now=now, action="survey_item.update", staff=staff, target_type="survey_item",
                 target_id=item.key, text_th=item.text_th)  # fmt: skip
    return item
