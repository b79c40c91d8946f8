"""The desk's two languages: Thai by default, English when a staff member picks it.

Templates write the English text as the key (`t("Inbox")`); Thai is looked up here, so a
missing Thai entry shows English rather than nothing (tests/test_desk_i18n.py checks every key).
"""

from __future__ import annotations

from flask import session
from flask_login import current_user

LANGUAGES = ("th", "en")

THAI: dict[str, str] = {
    "BMA consultation clinic": "คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์",
    "Inbox": "กล่องเรื่อง",
    "KPI": "ตัวชี้วัด",
    "Admin": "ผู้ดูแลระบบ",
    "Log in": "เข้าสู่ระบบ",
    "Log out": "ออกจากระบบ",
    "Username": "ชื่อผู้ใช้",
    "Password": "รหัสผ่าน",
    "Language": "ภาษา",
    "My LINE": "เชื่อม LINE",
    "Status": "สถานะ",
    "Topic": "หัวข้อ",
    "Agency type": "ประเภทหน่วยงาน",
    "Agency": "หน่วยงาน",
    "Channel": "ช่องทาง",
    "Assignee": "ผู้รับผิดชอบ",
    "Search": "ค้นหา",
    "Search questions and answers": "ค้นหาในคำถามและคำตอบ",
    "Most relevant first": "เรียงจากเรื่องที่ตรงกับคำค้นมากที่สุด",
    "All": "ทั้งหมด",
    "Not closed": "ยังไม่ปิด",
    "open": "รอตอบ",
    "answered": "ตอบแล้ว",
    "closed": "ปิดแล้ว",
    "Unassigned": "ยังไม่มีผู้รับผิดชอบ",
    "Me": "ฉัน",
    "Filter": "กรอง",
    "Clear": "ล้าง",
    "Number": "เลขที่",
    "Question": "คำถาม",
    "Posted": "ส่งเมื่อ",
    "Due": "ครบกำหนด",
    "Time left": "เวลาที่เหลือ",
    "Closed at": "ปิดเมื่อ",
    "No tickets match.": "ไม่มีเรื่องที่ตรงกับเงื่อนไข",
    "Previous": "ก่อนหน้า",
    "Next": "ถัดไป",
    "Page": "หน้า",
    "on time": "ทันเวลา",
    "warning": "ใกล้ครบกำหนด",
    "overdue": "เกินกำหนด",
    "Requester": "ผู้ขอคำปรึกษา",
    "Earlier questions": "คำถามก่อนหน้า",
    "None": "ไม่มี",
    "Reply": "ตอบกลับ",
    "Send reply": "ส่งคำตอบ",
    "Internal note": "บันทึกภายใน",
    "Add note": "เพิ่มบันทึก",
    "Notes are never sent to the requester.": "บันทึกภายในจะไม่ถูกส่งถึงผู้ขอคำปรึกษา",
    "Close with a final answer": "ปิดเรื่องพร้อมคำตอบสุดท้าย",
    "Final answer (optional, sent like a reply)": "คำตอบสุดท้าย (ไม่บังคับ ส่งเหมือนการตอบกลับ)",
    "Close": "ปิดเรื่อง",
    "Reopen": "เปิดเรื่องอีกครั้ง",
    "Claim": "รับเรื่อง",
    "Assign": "มอบหมาย",
    "Change classification": "แก้ไขการจัดประเภท",
    "Save": "บันทึก",
    "Canned answers": "คำตอบสำเร็จรูป",
    "Search canned answers": "ค้นหาคำตอบสำเร็จรูป",
    "Insert": "แทรก",
    "Delivery": "การส่ง",
    "pending": "กำลังส่ง",
    "sent": "ส่งแล้ว",
    "failed": "ส่งไม่สำเร็จ",
    "undeliverable": "ส่งไม่ได้",
    "not_sent": "ไม่ได้ส่ง",
    "Download": "ดาวน์โหลด",
    "The file is still being fetched from the channel.": "กำลังดึงไฟล์จากช่องทาง",
    "Staff": "เจ้าหน้าที่",
    "System": "ระบบ",
    "Note": "บันทึกภายใน",
    "Thread": "ลำดับข้อความ",
    "Ticket": "เรื่อง",
    "Alerts": "การแจ้งเตือน",
    "Staff accounts": "บัญชีเจ้าหน้าที่",
    "Agencies": "หน่วยงาน",
    "Topics": "หัวข้อ",
    "SLA settings": "ตั้งค่าเวลาให้บริการ",
    "Survey wording": "ข้อความแบบสอบถาม",
    "Audit trail": "บันทึกการใช้งาน",
    "Role": "บทบาท",
    "Active": "ใช้งาน",
    "Retired": "เลิกใช้",
    "Retire": "เลิกใช้",
    "Restore": "ใช้งานอีกครั้ง",
    "Add": "เพิ่ม",
    "Display name": "ชื่อที่แสดง",
    "New password": "รหัสผ่านใหม่",
    "Leave empty to keep": "เว้นว่างไว้หากไม่เปลี่ยน",
    "Code": "รหัส",
    "Name (Thai)": "ชื่อ (ไทย)",
    "Name (English)": "ชื่อ (อังกฤษ)",
    "Short label (chat button, 20 characters)": "ชื่อย่อ (ปุ่มในแชต ไม่เกิน 20 ตัวอักษร)",
    "Title": "ชื่อเรื่อง",
    "Answer (Thai)": "คำตอบ (ไทย)",
    "Regulation reference": "อ้างอิงระเบียบ/ข้อ",
    "Hours to complete a consultation": "จำนวนชั่วโมงที่ต้องให้คำปรึกษาแล้วเสร็จ",
    "Warn this many hours before the deadline": "เตือนล่วงหน้ากี่ชั่วโมงก่อนครบกำหนด",
    "Repeat after the deadline every (hours)": "เตือนซ้ำหลังเกินกำหนดทุก (ชั่วโมง)",
    "New values apply to tickets opened or reopened from now on.": "ค่าใหม่มีผลกับเรื่องที่เปิดหรือเปิดใหม่นับจากนี้",
    "Question (Thai)": "คำถาม (ไทย)",
    "Question (English)": "คำถาม (อังกฤษ)",
    "When": "เมื่อ",
    "Who": "ผู้ดำเนินการ",
    "Action": "การดำเนินการ",
    "Target": "เป้าหมาย",
    "Link your LINE account": "เชื่อมบัญชี LINE ของคุณ",
    "Get a code": "ขอรหัส",
    "Send this code to the clinic's LINE bot within 15 minutes:": "ส่งรหัสนี้ให้บอท LINE ของคลินิกภายใน 15 นาที:",
    "Your LINE account is linked; SLA warnings can reach you directly.": "เชื่อมบัญชี LINE แล้ว การแจ้งเตือนจะส่งถึงคุณโดยตรง",
    "Not linked yet.": "ยังไม่ได้เชื่อมบัญชี",
    "new": "ใหม่",
    "Dismiss": "ปิด",
    "Files": "ไฟล์แนบ",
    "Reopened tickets get a new 24-hour clock.": "เรื่องที่เปิดอีกครั้งจะเริ่มนับเวลาใหม่",
    "Deadline": "กำหนดเสร็จ",
    "Requester's agency": "หน่วยงานผู้ขอคำปรึกษา",
}


def current_language() -> str:
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "th"


def translate(text: str) -> str:
    """The Thai text in Thai mode (the default), the English key in English mode."""
    if current_language() == "en":
        return text
    return THAI.get(text, text)


def label(row: object, field: str = "label") -> str:
    """A reference row's label in the current language (`label_th`/`label_en`, `name_th`/`name_en`)."""
    suffix = "en" if current_language() == "en" else "th"
    value = getattr(row, f"{field}_{suffix}", "") or getattr(row, f"{field}_th", "")
    return str(value)
