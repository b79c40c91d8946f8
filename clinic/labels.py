"""What a person reads in place of a stored code: Thai first, English second.

The one place for the names of channels, roles, ticket / delivery / survey statuses, survey
item keys, SLA results and audit actions. The desk (through `desk.i18n`), the exports and
the report all read them from here, so a code never reaches a page or a file as is.
"""

from __future__ import annotations

Label = tuple[str, str]  # (Thai, English)

CHANNELS: dict[str, Label] = {
    "line": ("LINE", "LINE"),
    "messenger": ("Facebook Messenger", "Facebook Messenger"),
    "web": ("เว็บแชต", "Web chat"),
    "import": ("นำเข้าจากประวัติ", "Imported history"),
}

ROLES: dict[str, Label] = {
    "agent": ("เจ้าหน้าที่", "Agent"),
    "supervisor": ("หัวหน้างาน", "Supervisor"),
    "admin": ("ผู้ดูแลระบบ", "Administrator"),
}

TICKET_STATUSES: dict[str, Label] = {
    "open": ("รอตอบ", "Awaiting answer"),
    "answered": ("ตอบแล้ว", "Answered"),
    "closed": ("ปิดแล้ว", "Closed"),
    "withdrawn": ("ถอนคำถามแล้ว", "Withdrawn"),
}

DELIVERY_STATUSES: dict[str, Label] = {
    "pending": ("กำลังส่ง", "Sending"),
    "sending": ("กำลังส่ง", "Sending"),
    "sent": ("ส่งแล้ว", "Sent"),
    "failed": ("ส่งไม่สำเร็จ", "Failed"),
    "not_sent": ("ไม่ได้ส่ง", "Not sent"),
    "undeliverable": ("ส่งไม่ได้", "Undeliverable"),
}

SURVEY_STATUSES: dict[str, Label] = {
    "pending": ("รอคำตอบ", "Awaiting answers"),
    "completed": ("ตอบครบ", "Completed"),
    "expired": ("หมดอายุ", "Expired"),
    "cancelled": ("ยกเลิก (เปิดเรื่องอีกครั้ง)", "Cancelled (ticket reopened)"),
    "not_sent": ("ส่งไม่ได้ (ช่องทางไม่อนุญาต)", "Not sent (the channel does not allow it)"),
    "sent": ("ส่งแล้ว", "Sent"),
}

# Short names of the four survey items (seed section 6.4 item 3), for column heads and lists.
SURVEY_ITEMS: dict[str, Label] = {
    "convenience": ("ความสะดวก", "Convenience"),
    "timeliness": ("ภายในเวลาที่กำหนด", "Timeliness"),
    "usefulness": ("การนำไปใช้ประโยชน์", "Usefulness"),
    "overall": ("ความพึงพอใจโดยภาพรวม", "Overall satisfaction"),
}

SLA_RESULTS: dict[str, Label] = {
    "within": ("ภายใน 1 วัน", "Within 1 day"),
    "missed": ("เกิน 1 วัน", "Over 1 day"),
    "pending": ("ยังอยู่ในกำหนด", "Still within the deadline"),
    "withdrawn": ("ถอนคำถาม (ไม่นับ)", "Withdrawn (not counted)"),
}

# What became of an answer the knowledge base gave in the chat (`AnswerOffer.outcome`).
ANSWER_OUTCOMES: dict[str, Label] = {
    "solved": ("ได้คำตอบแล้ว", "Answered (self-served)"),
    "asked_staff": ("ส่งถึงเจ้าหน้าที่", "Sent to staff"),
    "abandoned": ("เลิกกลางคัน", "Abandoned"),
    "offered": ("ยังไม่ตอบ", "No reply yet"),
}

# Audit actions as the verb of a sentence: `<who> <verb> <target>`.
AUDIT_ACTIONS: dict[str, Label] = {
    "ticket.reply": ("ตอบเรื่อง", "replied to"),
    "ticket.note": ("บันทึกภายในเรื่อง", "added a note to"),
    "ticket.close": ("ปิดเรื่อง", "closed"),
    "ticket.reopen": ("เปิดเรื่องอีกครั้ง", "reopened"),
    "ticket.assign": ("มอบหมายเรื่อง", "assigned"),
    "ticket.reclassify": ("แก้ไขการจัดประเภทเรื่อง", "reclassified"),
    "staff.login": ("เข้าสู่ระบบ", "logged in"),
    "staff.login_failed": ("เข้าสู่ระบบไม่สำเร็จ", "failed to log in"),
    "staff.logout": ("ออกจากระบบ", "logged out"),
    "staff.create": ("สร้างบัญชีเจ้าหน้าที่", "created the staff account"),
    "staff.update": ("แก้ไขบัญชีเจ้าหน้าที่", "changed the staff account"),
    "staff.link_code": ("ขอรหัสเชื่อม LINE", "asked for a LINE link code"),
    "staff.link_line": ("เชื่อมบัญชี LINE", "linked a LINE account"),
    "agency.add": ("เพิ่มหน่วยงาน", "added the agency"),
    "agency.update": ("แก้ไขหน่วยงาน", "changed the agency"),
    "topic.add": ("เพิ่มหัวข้อ", "added the topic"),
    "topic.update": ("แก้ไขหัวข้อ", "changed the topic"),
    "survey_item.update": ("แก้ไขข้อความแบบสอบถามข้อ", "changed the wording of survey item"),
    "canned.create": ("เพิ่มคำตอบสำเร็จรูป", "added canned answer"),
    "canned.update": ("แก้ไขคำตอบสำเร็จรูป", "changed canned answer"),
    "canned.seed": ("เพิ่มชุดคำตอบสำเร็จรูปเริ่มต้น", "added the starter canned answers"),
    "settings.sla": ("เปลี่ยนการตั้งค่าเวลาให้บริการ", "changed the SLA settings"),
    "kpi.export": ("ส่งออกตัวชี้วัด", "exported the KPIs"),
    "history.import": ("นำเข้าประวัติการให้คำปรึกษา", "imported consultation history"),
    "token.create": ("สร้างโทเค็น API", "created the API token"),
    "token.revoke": ("ยกเลิกโทเค็น API", "revoked the API token"),
}

# Names of the fields an audit entry records as changed.
AUDIT_FIELDS: dict[str, Label] = {
    "role": ("บทบาท", "role"),
    "active": ("ใช้งาน", "active"),
    "display_name": ("ชื่อที่แสดง", "display name"),
    "password": ("รหัสผ่าน", "password"),
    "username": ("ชื่อผู้ใช้", "username"),
    "topic": ("หัวข้อ", "topic"),
    "agency_type": ("ประเภทหน่วยงาน", "agency type"),
    "name_th": ("ชื่อ", "name"),
    "label_th": ("ชื่อ", "name"),
    "text_th": ("ข้อความ", "wording"),
    "assignee": ("ผู้รับผิดชอบ", "assignee"),
    "due_at": ("กำหนดเสร็จใหม่", "new deadline"),
    "address": ("จากที่อยู่", "from address"),
    "format": ("รูปแบบ", "format"),
    "rows": ("แถว", "rows"),
    "imported": ("นำเข้า", "imported"),
    "already_present": ("มีอยู่แล้ว", "already present"),
    "sla_hours": ("ชั่วโมงให้บริการ", "SLA hours"),
    "sla_warn_hours": ("เตือนล่วงหน้า (ชั่วโมง)", "warning leads (hours)"),
    "sla_repeat_hours": ("เตือนซ้ำทุก (ชั่วโมง)", "repeat every (hours)"),
    "added": ("จำนวนที่เพิ่ม", "added"),
}

GROUPS: dict[str, dict[str, Label]] = {
    "channel": CHANNELS,
    "role": ROLES,
    "ticket_status": TICKET_STATUSES,
    "delivery_status": DELIVERY_STATUSES,
    "survey_status": SURVEY_STATUSES,
    "survey_item": SURVEY_ITEMS,
    "sla_result": SLA_RESULTS,
    "answer_outcome": ANSWER_OUTCOMES,
    "audit_action": AUDIT_ACTIONS,
    "audit_field": AUDIT_FIELDS,
}


def text(group: str, code: str | None, lang: str = "th") -> str:
    """The label of `code` in `group` for `lang` (`th` or `en`); an unknown code is shown as it is."""
    if code is None or code == "":
        return "-"
    found = GROUPS[group].get(code)
    if found is None:
        return code
    return found[1] if lang == "en" else found[0]


def both(group: str, code: str | None) -> str:
    """`Thai / English`, for files read by people of either language (the exports)."""
    if code is None or code == "":
        return ""
    th, en = text(group, code, "th"), text(group, code, "en")
    return th if th == en else f"{th} / {en}"
