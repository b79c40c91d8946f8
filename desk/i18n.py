"""The desk's two languages: Thai by default, English when a staff member picks it.

Templates write the English text as the key (`t("Inbox")`); Thai is looked up here, so a
missing Thai entry shows English rather than nothing (tests/test_desk_i18n.py checks every key).
"""

from __future__ import annotations

from flask import session
from flask_login import current_user

from clinic import labels

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
    "withdrawn": "ถอนคำถามแล้ว",
    "Withdrawn at": "ถอนคำถามเมื่อ",
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
    "Name in chat": "ชื่อในแชต",
    "Earlier questions": "คำถามก่อนหน้า",
    "None": "ไม่มี",
    "Reply": "ตอบกลับ",
    "Send reply": "ส่งคำตอบ",
    "Internal note": "บันทึกภายใน",
    "Add note": "เพิ่มบันทึก",
    "Attach files": "แนบไฟล์",
    "Up to 5 files, 20 MB each: images, PDF, Office documents, video, TXT, CSV. Drop files here.": (
        "แนบได้ไม่เกิน 5 ไฟล์ ไฟล์ละไม่เกิน 20 MB: รูปภาพ PDF เอกสาร Office วิดีโอ TXT CSV หรือลากไฟล์มาวางที่นี่"
    ),
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
    "Dismiss": "ซ่อน",
    "Files": "ไฟล์แนบ",
    "Reopened tickets get a new 24-hour clock.": "เรื่องที่เปิดอีกครั้งจะเริ่มนับเวลาใหม่",
    "Deadline": "กำหนดเสร็จ",
    "Requester's agency": "หน่วยงานผู้ขอคำปรึกษา",
    "Views": "มุมมอง",
    "Mine": "เรื่องของฉัน",
    "Sort by": "เรียงตาม",
    "Newest posted": "ส่งล่าสุดก่อน",
    "Latest activity": "เคลื่อนไหวล่าสุดก่อน",
    "selected": "เรื่องที่เลือก",
    "At most": "ไม่เกิน",
    "tickets at a time": "เรื่องต่อครั้ง",
    "Close the selected tickets?": "ปิดเรื่องที่เลือกทั้งหมดหรือไม่",
    "Select all": "เลือกทั้งหมด",
    "Select": "เลือก",
    "New requester message": "มีข้อความใหม่จากผู้ขอคำปรึกษา",
    "Due soon": "ใกล้ครบกำหนด",
    "Overdue": "เกินกำหนด",
    "Tickets": "เรื่อง",
    "Previous ticket": "เรื่องก่อนหน้า",
    "Next ticket": "เรื่องถัดไป",
    "Keyboard shortcuts": "คีย์ลัด",
    "Ctrl+Enter sends": "กด Ctrl+Enter เพื่อส่ง",
    "unread": "ยังไม่อ่าน",
    "Mark all read": "อ่านทั้งหมดแล้ว",
    "Mark read": "อ่านแล้ว",
    "No alerts yet.": "ยังไม่มีการแจ้งเตือน",
    "Choose an assignee": "เลือกผู้รับผิดชอบ",
    # personal data, retention, the LINE quota (issue 16)
    "Admins are warned in the desk at 80% and 95%. Replies are free; pushes (staff answers after a minute, surveys, warnings) count. When the quota runs out, messages wait in the outbox and go out when it allows.": "ผู้ดูแลระบบจะได้รับการเตือนใน desk เมื่อใช้ถึง 80% และ 95% การตอบกลับทันที (reply) ไม่นับโควตา ข้อความแบบ push (คำตอบของเจ้าหน้าที่หลัง 1 นาที แบบสอบถาม การแจ้งเตือน) นับโควตา เมื่อโควตาหมด ข้อความจะรอในคิวและส่งออกเมื่อโควตาเพียงพอ",  # noqa: E501
    "After that, tickets are anonymised as in an erasure: topics, agency types, times and scores stay for the KPI.": "เมื่อครบกำหนด ระบบจะลบข้อมูลที่ระบุตัวบุคคลเช่นเดียวกับการขอลบข้อมูล โดยคงหัวข้อ ประเภทหน่วยงาน เวลา และคะแนนไว้สำหรับตัวชี้วัด",  # noqa: E501
    "Average a day (last 7 days)": "เฉลี่ยต่อวัน (7 วันล่าสุด)",
    "Cancel": "ยกเลิก",
    "Day": "วันที่",
    "Erase personal data": "ลบข้อมูลส่วนบุคคล",
    "Erase personal data…": "ลบข้อมูลส่วนบุคคล…",
    "Erasing removes for good:": "การลบจะลบข้อมูลต่อไปนี้อย่างถาวร:",
    "Export everything (zip)": "ส่งออกข้อมูลทั้งหมด (zip)",
    "Export the data first if the requester asked for a copy. This cannot be undone.": "หากผู้ขอคำปรึกษาขอสำเนาข้อมูล ให้ส่งออกก่อน การลบนี้ย้อนกลับไม่ได้",  # noqa: E501
    "First contact": "ติดต่อครั้งแรก",
    "Forecast by the month's end": "คาดการณ์ ณ สิ้นเดือน",
    "Handled another way": "ดำเนินการทางช่องทางอื่นแล้ว",
    "Keep message texts and files (years after a ticket closes)": "เก็บข้อความและไฟล์ (ปี นับจากปิดเรื่อง)",
    "Keep raw webhook events (days after processing)": "เก็บข้อมูลดิบจากช่องทาง (วัน นับจากประมวลผล)",
    "Kept, without the person: ticket numbers, topics, agency types, times, status and survey scores, so the KPI does not change.": "สิ่งที่คงไว้โดยไม่ระบุตัวบุคคล: เลขที่เรื่อง หัวข้อ ประเภทหน่วยงาน เวลา สถานะ และคะแนนแบบสอบถาม ตัวชี้วัดจึงไม่เปลี่ยน",  # noqa: E501
    "LINE is not configured.": "ยังไม่ได้ตั้งค่า LINE",
    "Last saved": "บันทึกล่าสุด",
    "Last sweep": "ลบตามกำหนดครั้งล่าสุด",
    "Messages": "ข้อความ",
    "Messages sent to the requester": "ข้อความที่ส่งถึงผู้ขอคำปรึกษา",
    "No reading from LINE yet this month; the worker reads it every hour.": "ยังไม่มีข้อมูลจาก LINE ในเดือนนี้ ระบบอ่านค่าทุกชั่วโมง",  # noqa: E501
    "Notice (English)": "ประกาศ (อังกฤษ)",
    "Notice (Thai)": "ประกาศ (ไทย)",
    "Personal data": "ข้อมูลส่วนบุคคล",
    "Raw webhook events": "ข้อมูลดิบจากช่องทาง",
    "Read from LINE": "อ่านจาก LINE เมื่อ",
    "Read from LINE now": "อ่านค่าจาก LINE ตอนนี้",
    "Requesters read this notice at": "ผู้ขอคำปรึกษาอ่านประกาศนี้ได้ที่",
    "Surveys": "แบบสอบถาม",
    "The built-in notice is shown until you save one.": "ระบบแสดงประกาศตั้งต้นจนกว่าจะบันทึกฉบับของหน่วยงาน",
    "The next daily sweep would remove": "รอบลบประจำวันครั้งถัดไปจะลบ",
    "This requester's personal data was erased. The anonymous ticket rows and scores remain for the KPI.": "ลบข้อมูลส่วนบุคคลของผู้ขอคำปรึกษารายนี้แล้ว คงไว้เฉพาะข้อมูลเรื่องและคะแนนที่ไม่ระบุตัวบุคคลสำหรับตัวชี้วัด",  # noqa: E501
    "Type the reference to confirm": "พิมพ์รหัสอ้างอิงเพื่อยืนยัน",
    "Used by day": "การใช้รายวัน",
    "Used this month by then": "ใช้สะสมในเดือน",
    "What we hold": "ข้อมูลที่ระบบเก็บ",
    "it will be sent when the quota allows": "จะส่งเมื่อโควตาเพียงพอ",
    "message texts and files": "ข้อความและไฟล์",
    "messages this month": "ข้อความในเดือนนี้",
    "names, position and the channel's user id": "ชื่อ ตำแหน่ง และรหัสผู้ใช้ของช่องทาง",
    "never": "ยังไม่เคย",
    "no limit": "ไม่จำกัด",
    "survey suggestions, raw webhook events and the texts of messages sent": "ข้อเสนอแนะในแบบสอบถาม ข้อมูลดิบจากช่องทาง และข้อความที่ส่งถึงผู้ขอคำปรึกษา",  # noqa: E501
    "the quota will run out before the month ends": "โควตาจะหมดก่อนสิ้นเดือน",
    "Privacy notice": "ประกาศความเป็นส่วนตัว",
    "Data retention": "ระยะเวลาเก็บข้อมูล",
    "LINE message quota": "โควตาข้อความ LINE",
    "Web chat": "แชตบนเว็บ",
    "Imported history": "ประวัติที่นำเข้า",
    "Webhook events (raw payloads)": "ข้อมูลดิบจากช่องทาง",
    "Tickets anonymised": "เรื่องที่ทำให้ไม่ระบุตัวบุคคล",
    "Message texts": "ข้อความ",
    "Attachments": "ไฟล์แนบ",
    "Survey suggestions": "ข้อเสนอแนะในแบบสอบถาม",
    "Outbox texts": "ข้อความขาออก",
    "Requesters anonymised": "ผู้ขอคำปรึกษาที่ทำให้ไม่ระบุตัวบุคคล",
    "requesters": "คน",
    "What happened": "รายการ",
    "Nothing recorded yet.": "ยังไม่มีรายการ",
    "Clinic KPIs": "ตัวชี้วัดคลินิกให้คำปรึกษา",
    "Printable report": "รายงานสำหรับพิมพ์",
    "Bangkok time": "เวลากรุงเทพฯ",
    "From": "ตั้งแต่วันที่",
    "To": "ถึงวันที่",
    "dd/mm/yyyy (BE)": "วว/ดด/ปปปป (พ.ศ.)",
    "Show": "แสดง",
    "Buddhist Era, e.g.": "ปี พ.ศ. เช่น",
    "KPI 1: completed within 1 day": "ตัวชี้วัดที่ 1: แล้วเสร็จภายใน 1 วัน",
    "KPI 2: satisfied (4-5) overall": "ตัวชี้วัดที่ 2: พึงพอใจระดับมากขึ้นไป",
    "of": "จาก",
    "consultations": "เรื่อง",
    "over 1 day": "เกิน 1 วัน",
    "still within the deadline (not counted)": "รอดำเนินการ (ไม่นับ)",
    "withdrawn (not counted)": "ถอนคำถาม (ไม่นับ)",
    "respondents": "คนที่ตอบ",
    "Consultations": "ผู้ใช้บริการ",
    "Satisfaction by item": "ความพึงพอใจรายข้อ",
    "Item": "ข้อ",
    "Respondents": "ผู้ตอบ",
    "Satisfied": "มากขึ้นไป",
    "Percent": "ร้อยละ",
    "Mean": "ค่าเฉลี่ย",
    "By month": "รายเดือน",
    "within 1 day": "ภายใน 1 วัน",
    "other": "อื่น ๆ",
    "By agency type": "ประเภทหน่วยงาน",
    "By topic": "ด้านที่ขอรับคำปรึกษา",
    "People": "คน",
    "Cases": "เรื่อง",
    "By channel": "ช่องทาง",
    "Suggestions": "ข้อเสนอแนะ",
    "KPI 1 = consultations completed within 1 day × 100 / consultations whose outcome is known": (
        "ตัวชี้วัดที่ 1 = เรื่องที่แล้วเสร็จภายใน 1 วัน × 100 / เรื่องที่ทราบผลแล้ว"
    ),
    "(those still within their deadline are shown apart)": "(เรื่องที่ยังอยู่ในกำหนดแสดงแยก)",
    "KPI 2 = respondents answering 4-5 on item 3.4 × 100 / respondents to item 3.4": (
        "ตัวชี้วัดที่ 2 = ผู้ตอบข้อ 3.4 ระดับ 4-5 × 100 / ผู้ตอบข้อ 3.4"
    ),
    "percentages to one decimal, half up": "ร้อยละปัดทศนิยม 1 ตำแหน่ง (ปัดครึ่งขึ้น)",
    "Invalid period": "ช่วงเวลาไม่ถูกต้อง",
    "Back to the KPI page": "กลับไปหน้าตัวชี้วัด",
    "Quarter": "ไตรมาส",
    "You may not open this page": "คุณไม่มีสิทธิ์เปิดหน้านี้",
    "Your role does not allow this page. Ask an admin if you need it.": (
        "บทบาทของคุณไม่มีสิทธิ์ใช้หน้านี้ หากจำเป็นโปรดติดต่อผู้ดูแลระบบ"
    ),
    "Page not found": "ไม่พบหน้าที่ต้องการ",
    "The address may be mistyped, or the page no longer exists.": "ที่อยู่อาจพิมพ์ผิด หรือหน้านี้ไม่มีแล้ว",
    "Something went wrong": "ระบบขัดข้อง",
    "The error has been logged. Try again in a moment; if it keeps happening, tell an admin.": (
        "ระบบบันทึกข้อผิดพลาดไว้แล้ว โปรดลองใหม่อีกครั้ง หากยังเกิดซ้ำโปรดแจ้งผู้ดูแลระบบ"
    ),
    "Back to the inbox": "กลับไปกล่องเรื่อง",
    "No canned answers yet. Add the first one on the admin page:": ("ยังไม่มีคำตอบสำเร็จรูป เพิ่มคำตอบแรกได้ที่หน้าผู้ดูแลระบบ:"),
    "No canned answers yet. Ask an admin to add them.": "ยังไม่มีคำตอบสำเร็จรูป โปรดขอให้ผู้ดูแลระบบเพิ่ม",
    "No canned answers yet. Fill in the form above to add the first one.": (
        "ยังไม่มีคำตอบสำเร็จรูป กรอกแบบฟอร์มด้านบนเพื่อเพิ่มคำตอบแรก"
    ),
    "Placeholders filled in for the ticket when inserted:": "ตัวแปรที่ระบบเติมให้ตามเรื่องเมื่อแทรกคำตอบ:",
    "name": "ชื่อผู้ขอคำปรึกษา",
    "ticket number": "เลขที่เรื่อง",
    "agency": "หน่วยงาน",
    "deadline": "กำหนดเวลา",
    "Cumulative since 1 Nov 2563": "สะสมตั้งแต่ 1 พ.ย. 2563",
    # The knowledge base's instant answers on the KPI page (desk/templates/kpi/page.html)
    "Answered at once by the knowledge base": "ตอบได้ทันทีจากคลังความรู้",
    "KPI 1 and KPI 2 count staff consultations only; these questions were answered in the chat by the knowledge base and opened no ticket.": (  # noqa: E501
        "ตัวชี้วัดที่ 1 และ 2 นับเฉพาะเรื่องที่เจ้าหน้าที่ให้คำปรึกษา คำถามในส่วนนี้คลังความรู้ตอบในแชตทันทีโดยไม่ได้เปิดเรื่อง"
    ),
    "Self-served": "ได้คำตอบจากคลังความรู้",
    "consultations without a ticket": "เรื่องที่ไม่ต้องส่งถึงเจ้าหน้าที่",
    "Deflection rate": "อัตราที่ตอบได้เอง",
    "self-served ÷ (self-served + staff consultations)": "ตอบได้เอง ÷ (ตอบได้เอง + เรื่องที่เจ้าหน้าที่ให้คำปรึกษา)",
    "Helpful (4-5)": "ช่วยได้ (ระดับ 4-5)",
    "Was this answer helpful? (1-5)": "คำตอบนี้ช่วยได้ไหม (1-5)",
    "mean": "ค่าเฉลี่ย",
    "What became of the answers": "ผลของคำตอบที่เสนอ",
    "Answers offered": "คำตอบที่เสนอทั้งหมด",
    "Articles most used": "บทความที่ตอบได้บ่อยที่สุด",
    "Most often followed by “ask staff” (missing knowledge)": "บทความที่ตามด้วย “ส่งถึงเจ้าหน้าที่” บ่อยที่สุด (ความรู้ที่ยังขาด)",  # noqa: E501
    "Article": "บทความ",
    "Times": "ครั้ง",
    "No answers from the knowledge base in this period.": "ช่วงนี้ยังไม่มีคำตอบจากคลังความรู้",
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


def code_label(group: str, code: str | None) -> str:
    """A stored code (channel, role, status, survey item, ...) as the current language says it."""
    return labels.text(group, code, current_language())


def label(row: object, field: str = "label") -> str:
    """A reference row's label in the current language (`label_th`/`label_en`, `name_th`/`name_en`)."""
    suffix = "en" if current_language() == "en" else "th"
    value = getattr(row, f"{field}_{suffix}", "") or getattr(row, f"{field}_th", "")
    return str(value)
