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
    # The knowledge base (desk/knowledge.py, desk/templates/kb/)
    "Knowledge base": "คลังความรู้",
    "Draft": "ร่าง",
    "Published": "เผยแพร่",
    "High": "สูง",
    "Medium": "กลาง",
    "Low": "ต่ำ",
    "Match": "ความตรงกับคำถาม",
    "Sample questions": "ตัวอย่างคำถาม",
    "Answer": "คำตอบ",
    "Reference": "อ้างอิง",
    "Effective date": "วันที่มีผล",
    "Key": "รหัสบทความ",
    "Starter, review before use": "ตั้งต้น ตรวจก่อนใช้",
    "Starter content shipped with the product: check it against the regulation, then approve it.": (
        "เนื้อหาตั้งต้นที่มากับระบบ ตรวจกับตัวระเบียบก่อนแล้วจึงอนุมัติ"
    ),
    "Approved by": "อนุมัติโดย",
    "Not approved": "ยังไม่อนุมัติ",
    "Approved": "อนุมัติ",
    "Approve": "อนุมัติ",
    "and publish": "และเผยแพร่",
    "Publish": "เผยแพร่",
    "Back to draft": "กลับเป็นร่าง",
    "Created": "สร้างบทความ",
    "Edited": "แก้ไข",
    "Edit": "แก้ไข",
    "Edit article": "แก้ไขบทความ",
    "New article": "เพิ่มบทความ",
    "Save draft": "บันทึกร่าง",
    "Cancel": "ยกเลิก",
    "Actions": "การดำเนินการ",
    "History": "ประวัติการแก้ไข",
    "Updated": "แก้ไขล่าสุด",
    "version": "ฉบับที่",
    "From ticket": "จากเรื่อง",
    "Import": "นำเข้า",
    "Import CSV": "นำเข้า CSV",
    "Export CSV": "ส่งออก CSV",
    "CSV file": "ไฟล์ CSV",
    "No articles match.": "ไม่มีบทความที่ตรงกับเงื่อนไข",
    "Search by question, as a requester would ask": "ค้นด้วยคำถาม แบบที่ผู้ขอคำปรึกษาถาม",
    "e.g. how tall is the Garuda on a letter": "เช่น ตราครุฑบนหนังสือสูงกี่เซนติเมตร",
    "Ranked published articles first, then every article containing the words.": (
        "บทความที่เผยแพร่แล้วเรียงตามความตรงกับคำถามก่อน ตามด้วยบทความทุกสถานะที่มีคำค้นนี้"
    ),
    "A new article is a draft until a supervisor approves it.": "บทความใหม่เป็นร่างจนกว่าหัวหน้างานจะอนุมัติ",
    "Saving a change clears the approval; a supervisor approves the new text.": (
        "เมื่อบันทึกการแก้ไข การอนุมัติเดิมจะถูกยกเลิก หัวหน้างานต้องอนุมัติข้อความใหม่"
    ),
    "Lower-case English letters, digits and -; cannot be changed later": ("อักษรอังกฤษตัวเล็ก ตัวเลข และ - แก้ภายหลังไม่ได้"),
    "dd/mm/yyyy (B.E.)": "วว/ดด/ปปปป (พ.ศ.)",
    "Buddhist Era, e.g. 25/05/2564; may be empty": "ปี พ.ศ. เช่น 25/05/2564 เว้นว่างได้",
    "one per line, in the words staff would type": "บรรทัดละหนึ่งคำถาม ใช้ถ้อยคำแบบที่เจ้าหน้าที่พิมพ์",
    "plain text, the answer first; sent as it is in the chat": "ข้อความธรรมดา ขึ้นต้นด้วยคำตอบ ส่งในแชตตามนี้",
    "regulation, year and clause": "ระเบียบ ปี และข้อ",
    "Only published articles answer in the chat. Editing the text clears the approval.": (
        "เฉพาะบทความที่เผยแพร่แล้วจึงตอบในแชต การแก้ไขข้อความจะยกเลิกการอนุมัติ"
    ),
    "Supervisors edit, publish and approve articles.": "หัวหน้างานเป็นผู้แก้ไข เผยแพร่ และอนุมัติบทความ",
    "Nothing was imported. Fix these lines and upload the file again:": (
        "ยังไม่ได้นำเข้าข้อมูลใด ๆ แก้บรรทัดต่อไปนี้แล้วอัปโหลดอีกครั้ง:"
    ),
    "UTF-8 CSV (in Excel: CSV UTF-8), at most 2 MB, with the header:": (
        "ไฟล์ CSV แบบ UTF-8 (ใน Excel เลือก CSV UTF-8) ไม่เกิน 2 MB หัวตารางเป็น:"
    ),
    "An existing key is updated; imported articles are published. One bad line and nothing is saved.": (
        "รหัสที่มีอยู่แล้วจะถูกแก้ไข บทความที่นำเข้าจะเผยแพร่ทันที หากมีบรรทัดผิดแม้บรรทัดเดียวจะไม่บันทึกอะไรเลย"
    ),
    "Help from the knowledge base": "ตัวช่วยตอบจากคลังความรู้",
    "Shown to the requester in the chat": "บทความที่ผู้ขอได้อ่านในแชตแล้ว",
    "The requester was shown this": "ผู้ขอได้อ่านบทความนี้แล้ว",
    "Articles for this question": "บทความที่ตรงกับคำถามนี้",
    "No published article matches this question.": "ไม่มีบทความที่เผยแพร่ตรงกับคำถามนี้",
    "Similar closed tickets": "เรื่องที่ปิดแล้วที่คล้ายกัน",
    "No similar closed ticket yet.": "ยังไม่มีเรื่องที่ปิดแล้วที่คล้ายกัน",
    "Final answer": "คำตอบสุดท้าย",
    "Insert into reply": "แทรกในคำตอบ",
    "Make a draft article": "ทำเป็นร่างบทความ",
    "The question and the final answer become a draft for a supervisor to approve.": (
        "คำถามและคำตอบสุดท้ายจะเป็นร่างบทความให้หัวหน้างานอนุมัติ"
    ),
    "Looking for similar closed tickets…": "กำลังค้นหาเรื่องที่ปิดแล้วที่คล้ายกัน…",
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
