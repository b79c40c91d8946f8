"""The privacy notice requesters read (PDPA B.E. 2562, sections 23 and 30-36).

The full notice lives in the `settings` table so an admin can edit it from the desk; until
an admin does, the default below is shown. The chat shows a two-line notice at first contact
with a link to `/privacy` (see `bot.conversation`).
"""

# ruff: noqa: E501 - the default notice is prose, one paragraph a line

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import Setting, StaffUser

KEY_TH = "privacy_notice_th"
KEY_EN = "privacy_notice_en"
MAX_CHARS = 20000

DEFAULT_TH = """\
ประกาศความเป็นส่วนตัว คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง

ผู้ควบคุมข้อมูลส่วนบุคคล
สำนักงานเลขานุการปลัดกรุงเทพมหานคร ศาลาว่าการกรุงเทพมหานคร เป็นผู้ควบคุมข้อมูลส่วนบุคคลตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562

ข้อมูลที่เก็บ
- ชื่อที่แสดงในบัญชี LINE หรือ Facebook และรหัสผู้ใช้ของช่องทางนั้น (หรือรหัสสุ่มของแชตบนเว็บ)
- ชื่อ ตำแหน่ง ประเภทหน่วยงานและหน่วยงานที่ท่านแจ้ง
- ข้อความ รูปภาพ และไฟล์ที่ท่านส่ง คำตอบของเจ้าหน้าที่ และคะแนนกับข้อเสนอแนะในแบบสอบถามความพึงพอใจ
- เวลาที่ส่งและตอบแต่ละเรื่อง

วัตถุประสงค์และฐานทางกฎหมาย
เพื่อให้คำปรึกษาการปฏิบัติงานแก่เจ้าหน้าที่หน่วยงานในสังกัดกรุงเทพมหานคร ติดตามให้ตอบภายใน 1 วัน และจัดทำตัวชี้วัดและรายงานผลการดำเนินงาน ซึ่งเป็นการปฏิบัติหน้าที่ในการดำเนินภารกิจเพื่อประโยชน์สาธารณะและการใช้อำนาจรัฐ (มาตรา 24 (4)) ไม่ใช้เพื่อการตลาดและไม่เปิดเผยแก่บุคคลภายนอก เว้นแต่กฎหมายกำหนด

ระยะเวลาเก็บรักษา
ข้อความและไฟล์เก็บไว้ตามระยะเวลาที่ผู้ดูแลระบบกำหนด (ค่าเริ่มต้น 5 ปี) แล้วลบออก คงไว้เฉพาะข้อมูลที่ไม่ระบุตัวบุคคล (หัวข้อ ประเภทหน่วยงาน เวลา และคะแนน) เพื่อใช้ทำสถิติ ข้อมูลดิบจากช่องทางเก็บไว้ไม่เกิน 30 วัน

สิทธิของท่าน
ท่านมีสิทธิขอเข้าถึงและขอรับสำเนาข้อมูล ขอแก้ไขให้ถูกต้อง ขอให้ลบหรือทำให้ไม่สามารถระบุตัวตนได้ ขอระงับหรือคัดค้านการใช้ข้อมูล และร้องเรียนต่อสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล

ติดต่อ
สำนักงานเลขานุการปลัดกรุงเทพมหานคร ศาลาว่าการกรุงเทพมหานคร หรือพิมพ์แจ้งในแชตนี้ว่า "ขอข้อมูลของฉัน" หรือ "ขอลบข้อมูลของฉัน" เจ้าหน้าที่จะดำเนินการภายใน 30 วัน
"""

DEFAULT_EN = """\
Privacy notice of the BMA 24-hour online consultation clinic

Controller: the Office of the Secretary to the Permanent Secretary of Bangkok, Bangkok City Hall, under the Personal Data Protection Act B.E. 2562 (2019).

Data we keep: your LINE or Facebook display name and user id (or the web chat's random id); the name, position and agency you tell us; the messages, images and files you send, staff answers, and your survey scores and suggestions; the times of each consultation.

Purposes and legal basis: to advise staff of BMA agencies on their work, to answer within one day, and to report on the service; a task carried out in the public interest and in the exercise of official authority (section 24 (4)). Never for marketing; not disclosed to others unless the law requires it.

Retention: messages and files are kept for the period an administrator sets (5 years by default), then deleted; only anonymous figures (topic, agency type, times, scores) remain for statistics. Raw channel data is kept at most 30 days.

Your rights: access and a copy of your data, correction, erasure or anonymisation, restriction and objection, and a complaint to the Personal Data Protection Committee office.

Contact: the Office of the Secretary to the Permanent Secretary of Bangkok, Bangkok City Hall, or write "my data" or "erase my data" in this chat; staff act within 30 days.
"""


class PrivacyNoticeError(ValueError):
    pass


@dataclass(frozen=True)
class Notice:
    text_th: str
    text_en: str
    updated_at: datetime | None  # None: the built-in default


def notice(session: Session) -> Notice:
    th, en = session.get(Setting, KEY_TH), session.get(Setting, KEY_EN)
    updated = max((row.updated_at for row in (th, en) if row is not None), default=None)
    return Notice(th.value if th else DEFAULT_TH, en.value if en else DEFAULT_EN, updated)


def set_notice(session: Session, *, text_th: str, text_en: str, now: datetime, staff: StaffUser) -> Notice:
    text_th, text_en = text_th.strip(), text_en.strip()
    if not text_th:
        raise PrivacyNoticeError("ต้องมีประกาศภาษาไทย / The Thai notice is required")
    if len(text_th) > MAX_CHARS or len(text_en) > MAX_CHARS:
        raise PrivacyNoticeError(f"ยาวเกิน {MAX_CHARS} ตัวอักษร / Longer than {MAX_CHARS} characters")
    for key, value in ((KEY_TH, text_th), (KEY_EN, text_en)):
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
    audit.record(session, now=now, action="settings.privacy_notice", staff=staff, target_type="settings",
                 chars_th=len(text_th), chars_en=len(text_en))  # fmt: skip
    session.flush()
    return Notice(text_th, text_en, now)


def first_contact_text(base_url: str) -> str:
    """The two lines at first contact on every channel."""
    return (
        "ข้อมูลที่ท่านให้ใช้เพื่อให้คำปรึกษาและจัดทำสถิติเท่านั้น อ่านประกาศความเป็นส่วนตัวและสิทธิของท่าน: "
        f"{base_url}/privacy\n"
        f"We use what you tell us only to advise you and for statistics. Privacy notice: {base_url}/privacy"
    )
