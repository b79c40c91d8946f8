"""Reference data: agency types, topics, survey items and the starting list of agencies.

Seeding only inserts what is missing, keyed by stable codes, so it never undoes an
admin's rename and is safe to run on every start.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.models import Agency, AgencyType, SurveyItem, Topic

# Labels from the seed document, section 6.4: item 1.1 (agency types), 1.2 (topics).
AGENCY_TYPES = (
    ("bureau", "สำนักหรือสำนักงาน ก.ก.", "Bureaus / Offices", "สำนัก/สำนักงาน"),
    ("district", "สำนักงานเขต", "District offices", "สำนักงานเขต"),
    (
        "permanent_secretary_office",
        "ส่วนราชการในสังกัดสำนักปลัดกรุงเทพมหานคร",
        "Agencies under the Office of the Permanent Secretary",
        "ส่วนราชการใน สปก.",
    ),
    (
        "council_governor_secretariat",
        "สำนักงานเลขานุการสภากรุงเทพมหานคร / สำนักงานเลขานุการผู้ว่าราชการกรุงเทพมหานคร",
        "Council / Governor secretariats",
        "สนง.เลขาฯ สภา/ผว.",
    ),
    ("other", "อื่น ๆ", "Other", "อื่น ๆ"),
)

TOPICS = (
    ("saraban", "ด้านสารบรรณ", "Official correspondence (saraban)", "สารบรรณ"),
    (
        "letters",
        "ด้านการร่างและเสนอหนังสือต่อปลัดกรุงเทพมหานคร/รองปลัดกรุงเทพมหานคร",
        "Drafting and submitting letters to the Permanent Secretary / Deputies",
        "ร่าง/เสนอหนังสือ",
    ),
    ("ceremony", "ด้านงานพิธีการ", "Ceremonies and royal ceremonies", "พิธีการ"),
    ("other", "อื่น ๆ", "Other", "อื่น ๆ"),
)

# The four survey items of the seed document, section 6.4 item 3.
SURVEY_ITEMS = (
    (
        "convenience",
        "ความสะดวกในการขอรับคำปรึกษาการปฏิบัติงานทางออนไลน์",
        "Convenience of asking for advice online",
    ),
    (
        "timeliness",
        "เจ้าหน้าที่แจ้งข้อมูล ให้ความรู้ คำแนะนำ และแนวทางการปฏิบัติงาน ภายในระยะเวลาที่กำหนด (ภายใน 1 วัน)",
        "Staff gave information and advice within the set time (1 day)",
    ),
    (
        "usefulness",
        "การนำข้อมูลที่ได้รับจากคลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ ไปใช้ประโยชน์ในการปฏิบัติงาน",
        "Usefulness of the advice in your work",
    ),
    (
        "overall",
        "ความพึงพอใจในการให้บริการของคลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์โดยภาพรวม",
        "Overall satisfaction with the clinic",
    ),
)


@dataclass(frozen=True)
class SeedResult:
    agency_types: int
    topics: int
    survey_items: int
    agencies: int


def load_agency_rows() -> list[dict[str, str]]:
    text = resources.files("clinic.data").joinpath("agencies.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def seed(session: Session) -> SeedResult:
    """Insert the reference rows that are missing; return how many were added."""
    existing_types = set(session.scalars(select(AgencyType.code)))
    added_types = 0
    for order, (code, label_th, label_en, short_th) in enumerate(AGENCY_TYPES):
        if code not in existing_types:
            session.add(
                AgencyType(code=code, label_th=label_th, label_en=label_en, short_th=short_th, sort_order=order)
            )
            added_types += 1

    existing_topics = set(session.scalars(select(Topic.code)))
    added_topics = 0
    for order, (code, label_th, label_en, short_th) in enumerate(TOPICS):
        if code not in existing_topics:
            session.add(Topic(code=code, label_th=label_th, label_en=label_en, short_th=short_th, sort_order=order))
            added_topics += 1

    existing_items = set(session.scalars(select(SurveyItem.key)))
    added_items = 0
    for position, (key, text_th, text_en) in enumerate(SURVEY_ITEMS, start=1):
        if key not in existing_items:
            session.add(SurveyItem(key=key, position=position, text_th=text_th, text_en=text_en))
            added_items += 1
    session.flush()

    existing_agencies = set(session.scalars(select(Agency.code).where(Agency.code.is_not(None))))
    added_agencies = 0
    for row in load_agency_rows():
        if row["code"] not in existing_agencies:
            session.add(
                Agency(
                    code=row["code"],
                    agency_type_code=row["agency_type"],
                    name_th=row["name_th"],
                    name_en=row["name_en"],
                    active=True,
                )
            )
            added_agencies += 1
    session.flush()
    return SeedResult(added_types, added_topics, added_items, added_agencies)
