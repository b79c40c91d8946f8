"""The conversation with a requester, the same on LINE, Messenger and the web chat.

`respond(session, requester, incoming, now)` takes one thing the user sent and returns the
bot's answer as channel-neutral messages (see `clinic.outbox`); it may open a ticket or add
to one. It never sends anything itself and never commits: the caller queues the answer in
the outbox within the same transaction.

Order of handling, the same for every input:
1. a staff member's LINE linking code;
2. global commands (menu, status, new question, cancel, change agency);
3. a side flow that may consume the input (the satisfaction survey, `clinic.survey`);
4. the step the requester is at: intake (agency type, agency, name, position), topic,
   question, an answer the knowledge base offered (solved / ask staff / another article),
   its one-question rating, or idle (a message joins the open ticket, or starts a new question).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.choices import Choice, NameMatch, agency_label, by_name, by_number_or_label, normalize, short_label
from clinic import answer_offers, knowledge, knowledge_search, outbox, privacy, settings, staff_link, survey, tickets
from clinic.knowledge_search import Hit
from clinic.models import Agency, AgencyType, AnswerOffer, ChatSession, KnowledgeArticle, Requester, Ticket, Topic
from clinic.runtime import runtime_of
from clinic.thaidate import format_datetime, format_datetime_en, hours_in_words
from clinic.tickets import NewAttachment

PAGE_SIZE = 10  # agencies per page: 10 + previous + next stays under the 13-button limit
MAX_TEXT = 4000

Message = dict[str, Any]

COMMANDS: dict[str, tuple[str, ...]] = {
    "menu": ("เมนู", "เมนูหลัก", "ช่วยเหลือ", "menu", "help", "?"),
    "status": ("สถานะ", "ติดตาม", "ติดตามเรื่อง", "เรื่องของฉัน", "สถานะคำถาม", "status"),
    "new": ("ถามใหม่", "คำถามใหม่", "ถามคำถามใหม่", "new", "new question", "ask"),
    "cancel": ("ยกเลิก", "cancel", "stop"),
    "agency": ("เปลี่ยนหน่วยงาน", "แก้ไขหน่วยงาน", "แก้ไขข้อมูล", "change agency", "agency", "profile"),
    "withdraw": ("ถอนคำถาม", "ถอนเรื่อง", "withdraw"),
    # The rich menu (LINE) and the persistent menu (Messenger) send these two as well.
    "faq": ("คำถามที่พบบ่อย", "faq"),
    "contact": ("ติดต่อเจ้าหน้าที่", "ติดต่อ", "contact", "contact staff"),
}
_COMMAND_OF = {normalize(word): name for name, words in COMMANDS.items() for word in words}

NEXT_WORDS = {normalize(w) for w in ("ถัดไป", "หน้าถัดไป", "next", "more", "▶ ถัดไป")}
PREV_WORDS = {normalize(w) for w in ("ก่อนหน้า", "ย้อนกลับ", "previous", "prev", "back", "◀ ก่อนหน้า")}
SKIP_WORDS = {normalize(w) for w in ("ข้าม", "skip", "ไม่ระบุ", "-")}
YES_WORDS = {normalize(w) for w in ("ใช้ชื่อนี้", "ใช่", "ตกลง", "yes", "ok")}
LIST_WORDS = {normalize(w) for w in ("เลือกจากรายการ", "รายการ", "list", "no", "ไม่ใช่")}
# Yes to `หมายถึง … ใช่ไหม` (not `ใช้ชื่อนี้`, which could mean the typed name as well).
CONFIRM_WORDS = {normalize(w) for w in ("ใช่", "ใช่ค่ะ", "ใช่ครับ", "ถูกต้อง", "ตกลง", "yes", "ok")}
USE_TYPED = "ไม่ใช่ ใช้ชื่อที่พิมพ์"
USE_TYPED_WORDS = {normalize(w) for w in (USE_TYPED, "ใช้ชื่อที่พิมพ์", "ไม่ใช่ ใช้ที่พิมพ์", "keep as typed")}
USE_TYPED_BUTTON = {"label": "ไม่ใช่ ใช้ที่พิมพ์", "text": USE_TYPED}  # the full words are 22 characters

MENU_BUTTONS = [
    {"label": "ถามใหม่ / New", "text": "ถามใหม่"},
    {"label": "สถานะ / Status", "text": "สถานะ"},
    {"label": "หน่วยงาน / Agency", "text": "เปลี่ยนหน่วยงาน"},
    {"label": "ยกเลิก / Cancel", "text": "ยกเลิก"},
]
SKIP_BUTTON = {"label": "ข้าม / Skip", "text": "ข้าม"}
CANCEL_BUTTON = {"label": "ยกเลิก / Cancel", "text": "ยกเลิก"}
WITHDRAW_BUTTON = {"label": "ถอนคำถาม / Withdraw", "text": "ถอนคำถาม"}
# After a ticket opens there is no step to cancel: offer withdrawing the question instead.
TICKET_BUTTONS = [MENU_BUTTONS[0], MENU_BUTTONS[1], WITHDRAW_BUTTON]
WITHDRAW_YES = {normalize(w) for w in ("ยืนยันถอนคำถาม", "ยืนยัน", "ถอน", "withdraw it")} | CONFIRM_WORDS
WITHDRAW_NO = {normalize(w) for w in ("ไม่ถอน", "ไม่", "ไม่ใช่", "no", "keep it")}

STATUS_LABELS = {
    "open": "รอเจ้าหน้าที่ตอบ / Waiting for staff",
    "answered": "ตอบแล้ว / Answered",
    "closed": "ปิดแล้ว / Closed",
    "withdrawn": "ถอนคำถามแล้ว / Withdrawn",
}


@dataclass(frozen=True)
class Incoming:
    """One thing a user sent, already translated from the channel's format.

    kind: `text` (typed, a tapped button or a postback), `attachment` (images or files,
    with an optional caption in `text`), `sticker`, `location`, `follow` (first contact:
    LINE follow, Messenger get-started, web chat opened).
    `rejected` names files that could not be kept (too large), so the user is told.
    """

    kind: str
    text: str = ""
    attachments: tuple[NewAttachment, ...] = ()
    rejected: tuple[str, ...] = ()
    channel_message_id: str | None = None


@dataclass
class _Turn:
    session: Session
    requester: Requester
    chat: ChatSession
    incoming: Incoming
    now: datetime
    replies: list[Message] = field(default_factory=list)

    def say(self, body: str, buttons: list[dict[str, str]] | None = None) -> None:
        self.replies.append(outbox.text(body[:MAX_TEXT], buttons))

    def go(self, step: str, **data: Any) -> None:
        self.chat.step = step
        self.chat.data = data
        self.chat.updated_at = self.now

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.chat.data or {})

    def update(self, **changes: Any) -> None:
        self.chat.data = {**self.data, **changes}
        self.chat.updated_at = self.now


def chat_session(session: Session, requester: Requester, now: datetime) -> ChatSession:
    chat = session.get(ChatSession, requester.id)
    if chat is None:
        chat = ChatSession(requester_id=requester.id, step="start", data={}, updated_at=now)
        session.add(chat)
        session.flush()
    return chat


def respond(session: Session, requester: Requester, incoming: Incoming, now: datetime) -> list[Message]:
    """Handle one input and return the replies (at most five, the most LINE accepts in one reply)."""
    turn = _Turn(session, requester, chat_session(session, requester, now), incoming, now)
    # Every input is the user's own action; Messenger's 24-hour window counts from the last one.
    requester.last_inbound_at = now
    for name in incoming.rejected:
        turn.say(f"ไฟล์ “{name}” ใหญ่เกินไป (เกิน 20 MB) จึงรับไว้ไม่ได้\nThe file is too large (over 20 MB).")
    _dispatch(turn)
    if not turn.replies:
        _prompt_current(turn)  # never leave the user in silence
    return turn.replies[:5]


def _dispatch(turn: _Turn) -> None:
    incoming = turn.incoming
    if incoming.kind == "follow":
        _first_contact(turn)
        return
    if incoming.kind == "text" and _staff_link(turn):
        return
    if incoming.kind == "text":
        command = _COMMAND_OF.get(normalize(incoming.text))
        if command is not None:
            _COMMAND_HANDLERS[command](turn)
            return
        side_replies = _side_flow(turn)
        if side_replies is not None:
            turn.replies.extend(side_replies)
            return
    if incoming.kind in ("sticker", "location"):
        _polite_reply(turn)
        return
    if not _profile_complete(turn.requester) and turn.chat.step in ("start", "idle", "topic", "question"):
        _first_contact(turn)
        return
    _STEP_HANDLERS.get(turn.chat.step, _idle)(turn)


# --- the side flow (survey) ----------------------------------------------------------------


def _side_flow(turn: _Turn) -> list[Message] | None:
    """The one place where a flow outside the intake may take the input: a pending survey's answer."""
    return survey.handle(turn.session, turn.requester, turn.incoming.text, turn.now)


# --- staff linking -----------------------------------------------------------------------


def _staff_link(turn: _Turn) -> bool:
    if turn.requester.channel != "line":
        return False
    code = staff_link.parse_code(turn.incoming.text)
    if code is None:
        return False
    staff = staff_link.redeem(turn.session, code=code, line_user_id=turn.requester.channel_user_id, now=turn.now)
    if staff is None:
        if turn.incoming.text.strip().isdigit():
            return False  # a bare number may be an answer to a question; let the steps see it
        turn.say("รหัสเชื่อมบัญชีไม่ถูกต้องหรือหมดอายุ ขอรหัสใหม่จากหน้า desk\nThe link code is wrong or expired.")
        return True
    name = staff.display_name or staff.username
    turn.say(
        f"เชื่อมบัญชี LINE กับบัญชีเจ้าหน้าที่ “{name}” แล้ว จะได้รับการแจ้งเตือนเรื่องใกล้ครบกำหนดทาง LINE นี้\n"
        f"Your LINE account is now linked to staff account “{name}”."
    )
    return True


# --- commands ----------------------------------------------------------------------------


def _menu(turn: _Turn) -> None:
    turn.say(
        "เมนู / Menu\n"
        "• ถามใหม่ — เริ่มคำถามใหม่ (new question)\n"
        "• สถานะ — ดูเรื่องที่ถามไว้ (status)\n"
        "• เปลี่ยนหน่วยงาน — แก้ไขหน่วยงานและชื่อ (change agency)\n"
        "• ยกเลิก — ยกเลิกขั้นตอนที่ทำอยู่ (cancel)\n"
        "• ถอนคำถาม — ถอนเรื่องที่ถามไว้และยังเปิดอยู่ (withdraw)",
        MENU_BUTTONS,
    )


def _status(turn: _Turn) -> None:
    rows = turn.session.scalars(
        select(Ticket).where(Ticket.requester_id == turn.requester.id).order_by(Ticket.id.desc()).limit(5)
    ).all()
    if not rows:
        turn.say("ยังไม่มีเรื่องที่ถามไว้ พิมพ์ “ถามใหม่” เพื่อเริ่ม\nYou have no questions yet.", MENU_BUTTONS)
        return
    lines = ["เรื่องล่าสุดของคุณ / Your latest questions:"]
    for ticket in rows:
        lines.append(f"\n{ticket.number} · {ticket.topic.short_th}\n{STATUS_LABELS.get(ticket.status, ticket.status)}")
        if ticket.is_finished:
            verb = "ถอนเมื่อ" if ticket.status == "withdrawn" else "ปิดเมื่อ"
            lines.append(f"{verb} {format_datetime(ticket.closed_at)}")
        else:
            lines.append(f"กำหนดตอบ {format_datetime(ticket.due_at)} (due {format_datetime_en(ticket.due_at)})")
    turn.say("\n".join(lines), MENU_BUTTONS)


def _new_question(turn: _Turn) -> None:
    _drop_offer(turn)
    survey.cancel_active(turn.session, turn.requester, turn.now)
    if not _profile_complete(turn.requester):
        _first_contact(turn)
        return
    _ask_topic(turn, intro="เริ่มคำถามใหม่ / New question")


def _cancel(turn: _Turn) -> None:
    _drop_offer(turn)
    if not _profile_complete(turn.requester):
        turn.go("start")
        turn.say("ยกเลิกแล้ว เมื่อพร้อม พิมพ์ข้อความใดก็ได้เพื่อเริ่มใหม่\nCancelled. Send any message to start again.")
        return
    step = turn.chat.step
    turn.go("idle")
    open_ticket = tickets.open_ticket_of(turn.session, turn.requester)
    still_open = (
        f"\nเรื่อง {open_ticket.number} ยังเปิดอยู่ เจ้าหน้าที่จะตอบตามกำหนด\nTicket {open_ticket.number} stays open."
        if open_ticket
        else ""
    )
    if step == "withdraw_confirm":
        turn.say(f"ไม่ได้ถอนคำถาม / Not withdrawn.{still_open}", MENU_BUTTONS)
    elif step not in ("idle", "start"):
        turn.say(f"ยกเลิกแล้ว / Cancelled.{still_open}", MENU_BUTTONS)
    elif open_ticket is None:
        turn.say("ไม่มีขั้นตอนที่ต้องยกเลิก / There is nothing to cancel.", MENU_BUTTONS)
    else:
        # Saying "cancelled" here would claim what did not happen: the question stays with staff.
        turn.say(
            f"ไม่ได้ยกเลิกอะไร{still_open[1:]}\n"
            "หากไม่ต้องการคำตอบแล้ว กด “ถอนคำถาม”\n"
            "Nothing was cancelled. To withdraw the question, tap “ถอนคำถาม”.",
            [WITHDRAW_BUTTON, MENU_BUTTONS[1], {"label": "เมนู / Menu", "text": "เมนู"}],
        )


def _withdraw(turn: _Turn) -> None:
    open_ticket = tickets.open_ticket_of(turn.session, turn.requester) if _profile_complete(turn.requester) else None
    if open_ticket is None:
        turn.say("ไม่มีเรื่องที่เปิดอยู่ให้ถอน / You have no open question to withdraw.")
        _prompt_current(turn)
        return
    turn.go("withdraw_confirm", ticket=open_ticket.number)
    turn.say(
        f"ถอนคำถาม {open_ticket.number} ใช่ไหม\n“{open_ticket.subject}”\n"
        "เมื่อถอนแล้ว เจ้าหน้าที่จะไม่ตอบเรื่องนี้\n"
        f"Withdraw question {open_ticket.number}? Staff will not answer it.",
        [{"label": "ยืนยันถอน / Yes", "text": "ยืนยันถอนคำถาม"}, {"label": "ไม่ถอน / No", "text": "ไม่ถอน"}],
    )


def _on_withdraw_confirm(turn: _Turn) -> None:
    number = str(turn.data.get("ticket", ""))
    typed = normalize(turn.incoming.text) if turn.incoming.kind == "text" else ""
    ticket = tickets.get_by_number(turn.session, number)
    turn.go("idle")
    if ticket is None or ticket.requester_id != turn.requester.id:
        _menu(turn)
        return
    if typed in WITHDRAW_YES:
        if ticket.is_finished:
            turn.say(f"เรื่อง {number} ปิดไปแล้ว จึงไม่ต้องถอน\nTicket {number} is already finished.", MENU_BUTTONS)
            return
        tickets.withdraw(turn.session, ticket, now=turn.now, requester=turn.requester)
        turn.say(
            f"ถอนคำถาม {number} แล้ว เจ้าหน้าที่จะไม่ตอบเรื่องนี้ ถามใหม่ได้ทุกเมื่อ\n"
            f"Question {number} is withdrawn. You can ask a new one at any time.",
            MENU_BUTTONS,
        )
        return
    if typed in WITHDRAW_NO:
        turn.say(f"ไม่ได้ถอนคำถาม เรื่อง {number} ยังเปิดอยู่\nNot withdrawn: ticket {number} stays open.", MENU_BUTTONS)
        return
    # Something else: not a yes, so nothing is withdrawn; a message joins the ticket as usual.
    turn.say(f"ยังไม่ได้ถอนคำถาม {number}\nQuestion {number} was not withdrawn.")
    _idle(turn)


def _change_agency(turn: _Turn) -> None:
    _drop_offer(turn)
    turn.go("agency_type", editing=True)
    _ask_agency_type(turn, intro="แก้ไขหน่วยงาน / Change your agency")


def _faq(turn: _Turn) -> None:
    articles = knowledge.frequently_asked(turn.session, now=turn.now)
    if not articles:
        # No published article yet: a short guide to asking.
        topics = "\n".join(f"• {choice.name}" for choice in _topics(turn.session))
        turn.say(
            "คำถามที่พบบ่อย / FAQ\n"
            f"คลินิกให้คำปรึกษาเรื่อง\n{topics}\n"
            "วิธีถาม: พิมพ์ “ถามใหม่” เลือกหัวข้อ แล้วพิมพ์คำถาม แนบรูปหรือไฟล์ได้ เจ้าหน้าที่จะตอบในแชตนี้\n"
            "How to ask: type “ถามใหม่” (new question), choose the topic, then type your question.",
            MENU_BUTTONS,
        )
        return
    # The FAQ is a step of its own so a tapped title is not read as the answer to the step the
    # requester was at; anything else returns them there (`back`).
    back = turn.data.get("back") if turn.chat.step == "faq" else {"step": turn.chat.step, "data": turn.data}
    turn.go("faq", back=back, articles=[article.key for article in articles])
    lines = ["คำถามที่พบบ่อย / FAQ", "กดเลือกเรื่องเพื่ออ่านคำตอบ (หรือพิมพ์หมายเลข)\nTap a title to read its answer:"]
    lines += [f"{number}. {article.title}" for number, article in enumerate(articles, start=1)]
    lines.append("ไม่พบเรื่องที่ต้องการ พิมพ์ “ถามใหม่” เพื่อถามเจ้าหน้าที่\nNot there? Type “ถามใหม่” to ask our staff.")
    turn.say("\n".join(lines), [{"label": short_label(a.title), "text": a.title} for a in articles] + [MENU_BUTTONS[0]])


def _on_faq(turn: _Turn) -> None:
    """A title from the FAQ shows its article; anything else goes back to the step the requester was at."""
    keys = [str(key) for key in turn.data.get("articles", [])]
    articles = [a for a in (knowledge.published(turn.session, key) for key in keys) if a is not None]
    choices = [Choice(a.key, a.title, short_label(a.title)) for a in articles]
    chosen = by_number_or_label(turn.incoming.text, choices) if turn.incoming.kind == "text" else None
    if chosen is not None:
        article = next(a for a in articles if a.key == chosen.key)
        # Reading the FAQ is not a consultation: no AnswerOffer, so the KPI's self-served count is unchanged.
        turn.say(_article_text(article.title, article.answer, article.reference))
        turn.say(
            "คำตอบนี้มาจากคลังความรู้ของสำนักงานเลขานุการฯ หากยังไม่ได้คำตอบ พิมพ์ “ถามใหม่” ให้เจ้าหน้าที่ตอบ\n"
            "An answer from the office's knowledge base. Not answered? Tap “ถามใหม่” to ask our staff.",
            [{"label": "คำถามที่พบบ่อย / FAQ", "text": "คำถามที่พบบ่อย"}, MENU_BUTTONS[0],
             {"label": "เมนู / Menu", "text": "เมนู"}],
        )  # fmt: skip
        return
    back = turn.data.get("back") or {}
    turn.go(str(back.get("step") or "idle"), **dict(back.get("data") or {}))
    if not _profile_complete(turn.requester) and turn.chat.step in ("start", "idle", "topic", "question"):
        _first_contact(turn)
        return
    _STEP_HANDLERS.get(turn.chat.step, _idle)(turn)


def _contact(turn: _Turn) -> None:
    open_ticket = tickets.open_ticket_of(turn.session, turn.requester)
    if open_ticket is not None:
        turn.say(
            f"เรื่อง {open_ticket.number} ของคุณอยู่กับเจ้าหน้าที่แล้ว พิมพ์ข้อความหรือส่งไฟล์เพิ่มได้ในแชตนี้\n"
            f"Your ticket {open_ticket.number} is with our staff; anything you send here joins it.",
            MENU_BUTTONS,
        )
        return
    turn.say(
        "ติดต่อเจ้าหน้าที่ / Contact staff\n"
        "พิมพ์คำถามในแชตนี้ได้ตลอด 24 ชั่วโมง ระบบจะเปิดเรื่องให้เจ้าหน้าที่สำนักงานเลขานุการปลัดกรุงเทพมหานคร"
        "ตอบในแชตนี้ พร้อมแจ้งเลขที่เรื่องและกำหนดตอบ\n"
        "Type your question here at any time, day or night: a ticket opens and staff answer in this chat.",
        MENU_BUTTONS,
    )


_COMMAND_HANDLERS = {
    "menu": _menu,
    "status": _status,
    "new": _new_question,
    "cancel": _cancel,
    "agency": _change_agency,
    "withdraw": _withdraw,
    "faq": _faq,
    "contact": _contact,
}


# --- intake ------------------------------------------------------------------------------


def _profile_complete(requester: Requester) -> bool:
    return requester.agency_type_code is not None and bool(requester.agency_id or requester.agency_other)


def _first_contact(turn: _Turn) -> None:
    if _profile_complete(turn.requester):
        turn.say(
            f"ยินดีต้อนรับกลับสู่คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง ({turn.requester.agency_name})\n"
            "Welcome back to the 24-hour online consultation clinic.",
        )
        _ask_topic(turn)
        return
    within_th, within_en = _answer_time(turn.session)
    turn.say(
        "สวัสดีค่ะ ยินดีต้อนรับสู่คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง "
        "สำนักงานเลขานุการปลัดกรุงเทพมหานคร\n"
        f"ถามเรื่องงานสารบรรณ การร่างและเสนอหนังสือ หรืองานพิธีการได้ เจ้าหน้าที่จะตอบภายใน {within_th}\n"
        f"Welcome to the BMA 24-hour online consultation clinic. Staff answer within {within_en}."
    )
    turn.say(privacy.first_contact_text(runtime_of(turn.session).config.base_url))
    turn.go("agency_type")
    _ask_agency_type(turn)


def _agency_types(session: Session) -> list[Choice]:
    rows = session.scalars(select(AgencyType).order_by(AgencyType.sort_order)).all()
    return [Choice(row.code, row.label_th, short_label(row.short_th), (row.label_en,)) for row in rows]


def _ask_agency_type(turn: _Turn, intro: str = "") -> None:
    choices = _agency_types(turn.session)
    lines = [intro] if intro else []
    lines.append("คุณสังกัดหน่วยงานประเภทใด (กดเลือก หรือพิมพ์หมายเลข)\nWhich type of agency do you work for?")
    lines += [f"{number}. {choice.name}" for number, choice in enumerate(choices, start=1)]
    turn.say("\n".join(lines), [{"label": c.label, "text": c.label} for c in choices])


def _on_agency_type(turn: _Turn) -> None:
    if turn.incoming.kind != "text":
        _prompt_current(turn)
        return
    choice = by_number_or_label(turn.incoming.text, _agency_types(turn.session))
    if choice is None:
        turn.say("ขออภัย ไม่พบประเภทหน่วยงานนี้ กรุณาเลือกจากปุ่มหรือพิมพ์หมายเลข 1-5\nPlease pick one of the types.")
        _ask_agency_type(turn)
        return
    editing = turn.data.get("editing", False)
    if _agencies(turn.session, choice.key):
        turn.go("agency", agency_type=choice.key, page=0, editing=editing)
        _ask_agency(turn)
    else:
        turn.go("agency_text", agency_type=choice.key, editing=editing)
        turn.say("กรุณาพิมพ์ชื่อหน่วยงานของคุณ\nPlease type the name of your agency.", [CANCEL_BUTTON])


def _agencies(session: Session, agency_type: str) -> list[Choice]:
    rows = session.scalars(
        select(Agency).where(Agency.agency_type_code == agency_type, Agency.active.is_(True)).order_by(Agency.id)
    ).all()
    return [Choice(str(row.id), row.name_th, agency_label(row.name_th), (row.name_en,)) for row in rows]


def _ask_agency(turn: _Turn, intro: str = "") -> None:
    data = turn.data
    choices = _agencies(turn.session, data["agency_type"])
    pages = max(1, -(-len(choices) // PAGE_SIZE))
    page = min(max(int(data.get("page", 0)), 0), pages - 1)
    shown = choices[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [intro] if intro else []
    lines.append("เลือกหน่วยงานของคุณ หรือพิมพ์ชื่อ/หมายเลข\nChoose your agency, or type its name or number.")
    if pages > 1:
        lines.append(f"(หน้า {page + 1}/{pages})")
    lines += [f"{page * PAGE_SIZE + n}. {choice.name}" for n, choice in enumerate(shown, start=1)]
    buttons = [{"label": choice.label, "text": choice.name} for choice in shown]
    if page > 0:
        buttons.append({"label": "◀ ก่อนหน้า", "text": "ก่อนหน้า"})
    if page < pages - 1:
        buttons.append({"label": "ถัดไป ▶", "text": "ถัดไป"})
    turn.say("\n".join(lines), buttons)


def _on_agency(turn: _Turn) -> None:
    if turn.incoming.kind != "text":
        _prompt_current(turn)
        return
    text = turn.incoming.text.strip()
    typed = normalize(text)
    if typed in NEXT_WORDS or typed in PREV_WORDS:
        turn.update(page=int(turn.data.get("page", 0)) + (1 if typed in NEXT_WORDS else -1))
        _ask_agency(turn)
        return
    choices = _agencies(turn.session, turn.data["agency_type"])
    listed = by_number_or_label(text, choices)
    match = NameMatch(exact=listed) if listed else by_name(text, choices)
    if match.exact is not None:  # only an exact or normalised name is saved without asking
        agency = turn.session.get(Agency, int(match.exact.key))
        assert agency is not None
        _save_agency(turn, agency=agency, other="")
        return
    if not text:
        _ask_agency(turn)
        return
    turn.update(candidate=text[:200], suggestions=[choice.key for choice in match.candidates])
    turn.go("agency_confirm", **turn.data)
    if match.candidates:
        _ask_which_agency(turn, match.candidates)
        return
    turn.say(
        f"ไม่พบ “{text[:200]}” ในรายการ ใช้ชื่อนี้เป็นหน่วยงานของคุณหรือไม่\nNot in the list. Use this name as your agency?",
        [{"label": "ใช้ชื่อนี้ / Use it", "text": "ใช้ชื่อนี้"}, {"label": "เลือกจากรายการ", "text": "เลือกจากรายการ"}],
    )


def _ask_which_agency(turn: _Turn, candidates: list[Choice]) -> None:
    """A near miss is never saved silently: `หมายถึง … ใช่ไหม`, or keep the name as typed."""
    typed = turn.data.get("candidate", "")
    if len(candidates) == 1:
        question = f"หมายถึง {candidates[0].name} ใช่ไหม\nDid you mean {candidates[0].name}?"
    else:
        listed = "\n".join(f"{number}. {choice.name}" for number, choice in enumerate(candidates, start=1))
        question = f"หมายถึงหน่วยงานใดต่อไปนี้ ใช่ไหม\n{listed}\nDid you mean one of these?"
    turn.say(
        f"{question}\nถ้าไม่ใช่ กด “{USE_TYPED}” เพื่อบันทึก “{typed}” ตามที่พิมพ์\nIf not, keep the name as you typed it.",
        [{"label": choice.label, "text": choice.name} for choice in candidates] + [USE_TYPED_BUTTON],
    )


def _on_agency_confirm(turn: _Turn) -> None:
    if turn.incoming.kind != "text":
        _prompt_current(turn)
        return
    text = turn.incoming.text.strip()
    typed = normalize(text)
    by_key = {choice.key: choice for choice in _agencies(turn.session, turn.data["agency_type"])}
    suggestions = [by_key[key] for key in turn.data.get("suggestions", []) if key in by_key]
    picked = by_number_or_label(text, suggestions) if suggestions else None
    if picked is None and len(suggestions) == 1 and typed in CONFIRM_WORDS:
        picked = suggestions[0]  # `ใช่` to `หมายถึง … ใช่ไหม`
    if picked is not None:
        agency = turn.session.get(Agency, int(picked.key))
        assert agency is not None
        _save_agency(turn, agency=agency, other="")
        return
    if typed in USE_TYPED_WORDS or (typed in YES_WORDS and not suggestions):
        _save_agency(turn, agency=None, other=turn.data.get("candidate", ""))
        return
    if typed in YES_WORDS | CONFIRM_WORDS:
        _ask_which_agency(turn, suggestions)  # `ใช่` to several candidates, or `ใช้ชื่อนี้`: which one?
        return
    data = {k: v for k, v in turn.data.items() if k not in ("candidate", "suggestions")}
    turn.go("agency", **data)
    if typed in LIST_WORDS:
        _ask_agency(turn)
    else:
        _on_agency(turn)  # they typed another name instead


def _on_agency_text(turn: _Turn) -> None:
    text = turn.incoming.text.strip() if turn.incoming.kind == "text" else ""
    if not text:
        turn.say("กรุณาพิมพ์ชื่อหน่วยงานของคุณ\nPlease type the name of your agency.", [CANCEL_BUTTON])
        return
    _save_agency(turn, agency=None, other=text[:200])


def _save_agency(turn: _Turn, *, agency: Agency | None, other: str) -> None:
    requester = turn.requester
    requester.agency_type_code = agency.agency_type_code if agency else turn.data["agency_type"]
    requester.agency_id = agency.id if agency else None
    requester.agency_other = other
    turn.session.flush()
    turn.session.refresh(requester, ["agency", "agency_type"])
    turn.say(f"บันทึกหน่วยงาน: {requester.agency_name}\nAgency saved.")
    turn.go("name", editing=turn.data.get("editing", False))
    _ask_name(turn)


def _ask_name(turn: _Turn) -> None:
    current = f"\n(ปัจจุบัน / now: {turn.requester.person_name})" if turn.requester.person_name else ""
    turn.say(f"ชื่อ-นามสกุลของคุณ (ไม่บังคับ) พิมพ์ชื่อ หรือกด ข้าม\nYour name (optional).{current}", [SKIP_BUTTON])


def _on_name(turn: _Turn) -> None:
    text = turn.incoming.text.strip() if turn.incoming.kind == "text" else ""
    if text and normalize(text) not in SKIP_WORDS:
        turn.requester.person_name = text[:200]
    turn.go("position", editing=turn.data.get("editing", False))
    current = f"\n(ปัจจุบัน / now: {turn.requester.position})" if turn.requester.position else ""
    turn.say(f"ตำแหน่งของคุณ (ไม่บังคับ) พิมพ์ตำแหน่ง หรือกด ข้าม\nYour position (optional).{current}", [SKIP_BUTTON])


def _on_position(turn: _Turn) -> None:
    text = turn.incoming.text.strip() if turn.incoming.kind == "text" else ""
    if text and normalize(text) not in SKIP_WORDS:
        turn.requester.position = text[:200]
    editing = turn.data.get("editing", False)
    summary = _profile_summary(turn.requester)
    if editing:
        turn.go("idle")
        turn.say(f"บันทึกข้อมูลแล้ว / Saved.\n{summary}", MENU_BUTTONS)
        return
    turn.say(f"ขอบคุณค่ะ บันทึกข้อมูลแล้ว / Thank you.\n{summary}")
    _ask_topic(turn)


def _profile_summary(requester: Requester) -> str:
    lines = [f"หน่วยงาน: {requester.agency_name}"]
    if requester.person_name:
        lines.append(f"ชื่อ: {requester.person_name}")
    if requester.position:
        lines.append(f"ตำแหน่ง: {requester.position}")
    return "\n".join(lines)


# --- the question ----------------------------------------------------------------------------


def _topics(session: Session) -> list[Choice]:
    rows = session.scalars(select(Topic).where(Topic.active.is_(True)).order_by(Topic.sort_order)).all()
    return [Choice(row.code, row.label_th, short_label(row.short_th), (row.label_en,)) for row in rows]


def _ask_topic(turn: _Turn, intro: str = "", **data: Any) -> None:
    turn.go("topic", **data)
    choices = _topics(turn.session)
    lines = [intro] if intro else []
    lines.append("คำถามของคุณเกี่ยวกับเรื่องใด (กดเลือก หรือพิมพ์หมายเลข)\nWhat is your question about?")
    lines += [f"{number}. {choice.name}" for number, choice in enumerate(choices, start=1)]
    turn.say("\n".join(lines), [{"label": c.label, "text": c.label} for c in choices] + [CANCEL_BUTTON])


def _on_topic(turn: _Turn) -> None:
    draft = turn.data.get("draft", "")
    choice = by_number_or_label(turn.incoming.text, _topics(turn.session)) if turn.incoming.kind == "text" else None
    if choice is None:
        if turn.incoming.kind == "text" and turn.incoming.text.strip():
            # Probably the question itself, typed before choosing a topic: keep it for the ticket.
            turn.update(draft=(draft + "\n" + turn.incoming.text.strip()).strip())
            turn.say("รับข้อความไว้แล้ว กรุณาเลือกหัวข้อของคำถามก่อน\nNoted. Please choose the topic first.")
        elif turn.incoming.kind == "attachment":
            turn.say("กรุณาเลือกหัวข้อก่อน แล้วส่งรูปหรือไฟล์อีกครั้ง\nPlease choose the topic, then send the file again.")
        _ask_topic(turn, draft=turn.data.get("draft", ""))
        return
    if draft:
        _open(turn, choice.key, body=draft, attachments=())
        return
    turn.go("question", topic=choice.key)
    turn.say(
        f"หัวข้อ: {choice.name}\nพิมพ์คำถามของคุณได้เลย แนบรูปหรือไฟล์ได้\n"
        "Please type your question; images and files are welcome.",
        [CANCEL_BUTTON],
    )


def _on_question(turn: _Turn) -> None:
    incoming = turn.incoming
    body = incoming.text.strip()
    if not body and not incoming.attachments:
        if not incoming.rejected:
            turn.say("กรุณาพิมพ์คำถามของคุณ\nPlease type your question.", [CANCEL_BUTTON])
        return
    _open(turn, turn.data["topic"], body=body, attachments=incoming.attachments)


def _open(turn: _Turn, topic_code: str, *, body: str, attachments: tuple[NewAttachment, ...]) -> None:
    if not attachments and _offer_answer(turn, topic_code, body):
        return
    ticket = tickets.open_ticket(
        turn.session,
        requester=turn.requester,
        topic_code=topic_code,
        body=body,
        now=turn.now,
        attachments=attachments,
        channel_message_id=turn.incoming.channel_message_id,
    )
    _confirm_ticket(turn, ticket)


def _confirm_ticket(turn: _Turn, ticket: Ticket) -> None:
    turn.go("idle")
    within_th, within_en = _answer_time(turn.session)
    turn.say(
        f"รับเรื่องแล้ว เลขที่ {ticket.number}\n"
        f"หัวข้อ: {ticket.topic.label_th}\n"
        f"เจ้าหน้าที่จะตอบภายใน {within_th} คือภายใน {format_datetime(ticket.due_at)}\n"
        "ส่งข้อความหรือไฟล์เพิ่มเติมได้ในแชตนี้ จะรวมไว้ในเรื่องเดียวกัน\n"
        f"Received: ticket {ticket.number}. Staff answer within {within_en}, "
        f"by {format_datetime_en(ticket.due_at)} (Bangkok time).",
        TICKET_BUTTONS,
    )


def _answer_time(session: Session) -> tuple[str, str]:
    """The SLA in force (an admin's setting, else the environment's) in words: `1 วัน` / `1 day`."""
    return hours_in_words(settings.sla(session, runtime_of(session).config).hours)


# --- an answer from the knowledge base -------------------------------------------------------

SOLVED_BUTTON = {"label": "ได้คำตอบแล้ว", "text": "ได้คำตอบแล้ว"}
ASK_STAFF_BUTTON = {"label": "ส่งถึงเจ้าหน้าที่", "text": "ส่งถึงเจ้าหน้าที่"}
# Short thanks after an answer mean it helped; opening a ticket for them would waste staff time.
SOLVED_WORDS = {
    normalize(w)
    for w in (
        "ได้คำตอบแล้ว",
        "ได้แล้ว",
        "ได้คำตอบ",
        "solved",
        "ขอบคุณ",
        "ขอบคุณค่ะ",
        "ขอบคุณครับ",
        "ขอบคุณมาก",
        "thanks",
        "thank you",
        "thx",
        "👍",
        "ok thanks",
    )
}
ASK_STAFF_WORDS = {normalize(w) for w in ("ส่งถึงเจ้าหน้าที่", "ถามเจ้าหน้าที่", "ขอคุยกับเจ้าหน้าที่", "ask staff",
                                          "staff")}  # fmt: skip


def _offer_answer(turn: _Turn, topic_code: str, body: str) -> bool:
    """Answer at once from the knowledge base when it is confident; otherwise the ticket opens as always."""
    if not body.strip():
        return False
    result = knowledge_search.search(turn.session, body, limit=3, topic_code=topic_code)
    if not result.confident or result.best is None:
        return False
    offer = answer_offers.create(
        turn.session, requester=turn.requester, topic_code=topic_code, question=body, hits=result.hits,
        now=turn.now, channel_message_id=turn.incoming.channel_message_id,
    )  # fmt: skip
    turn.go("kb_offer", offer=offer.id, showing=result.best.key)
    _show_article(turn, result.best, offer)
    return True


def _article_text(title: str, answer: str, reference: str) -> str:
    return f"{title}\n\n{answer}" + (f"\nอ้างอิง: {reference}" if reference else "")


def _show_article(turn: _Turn, hit: Hit, offer: AnswerOffer) -> None:
    turn.say(_article_text(hit.title, hit.answer, hit.reference))
    others = [key for key in offer.article_keys if key != hit.key][:2]
    titles = _titles(turn.session, others)
    buttons = [{"label": short_label(titles[key]), "text": titles[key]} for key in others if key in titles]
    turn.say(
        "คำตอบนี้มาจากคลังความรู้ของสำนักงานเลขานุการฯ ตอบคำถามของคุณหรือไม่\n"
        "• กด “ได้คำตอบแล้ว” หากได้คำตอบแล้ว\n"
        "• กด “ส่งถึงเจ้าหน้าที่” ให้เจ้าหน้าที่ตอบ (นับเวลาจากตอนที่คุณถาม)\n"
        "An answer from the office's knowledge base. Solved? Or ask staff to answer.",
        [*buttons, SOLVED_BUTTON, ASK_STAFF_BUTTON],
    )


def _titles(session: Session, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    rows = session.execute(select(KnowledgeArticle.key, KnowledgeArticle.title).where(KnowledgeArticle.key.in_(keys)))
    return {key: title for key, title in rows}


def _current_offer(turn: _Turn) -> AnswerOffer | None:
    offer_id = turn.data.get("offer")
    offer = turn.session.get(AnswerOffer, offer_id) if offer_id else None
    return offer if offer is not None and offer.requester_id == turn.requester.id else None


def _drop_offer(turn: _Turn) -> None:
    """A command that moves away from a pending answer: it was neither solved nor sent to staff."""
    if turn.chat.step == "kb_offer":
        offer = _current_offer(turn)
        if offer is not None:
            answer_offers.abandon(turn.session, offer, now=turn.now)
    if turn.chat.step == "faq" and (turn.data.get("back") or {}).get("step") == "kb_offer":
        # The FAQ was opened over a pending answer: leaving the FAQ this way leaves that answer too.
        offer_id = (turn.data["back"].get("data") or {}).get("offer")
        offer = turn.session.get(AnswerOffer, offer_id) if offer_id else None
        if offer is not None and offer.requester_id == turn.requester.id:
            answer_offers.abandon(turn.session, offer, now=turn.now)
    if turn.chat.step in ("kb_offer", "kb_rating"):
        turn.go("idle")


def _on_offer(turn: _Turn) -> None:
    offer = _current_offer(turn)
    if offer is None or offer.outcome != "offered":
        turn.go("idle")
        _idle(turn)
        return
    incoming = turn.incoming
    typed = normalize(incoming.text) if incoming.kind == "text" else ""
    if typed and typed in SOLVED_WORDS:
        answer_offers.solve(turn.session, offer, key=turn.data.get("showing"), now=turn.now)
        turn.go("kb_rating", offer=offer.id)
        turn.say(
            "ยินดีที่ช่วยได้ค่ะ 🙏\nคำตอบนี้ช่วยได้ไหม ให้คะแนน 1-5 (5 = ช่วยได้มากที่สุด)\n"
            "Glad it helped. How helpful was this answer (1-5)?",
            [*survey.scale_buttons(), SKIP_BUTTON],
        )
        return
    titles = _titles(turn.session, list(offer.article_keys))
    chosen = next((key for key, title in titles.items() if typed and normalize(title) == typed), None)
    article = knowledge.get(turn.session, chosen) if chosen is not None else None
    if article is not None and article.status == "published":
        turn.update(showing=article.key)
        _show_article(turn, Hit(article.key, article.title, article.topic_code, article.answer, article.reference,
                                score=0.0, bm25=0.0, similarity=0.0), offer)  # fmt: skip
        return
    # Ask staff, or anything else that is not a button: the ticket opens now, nothing the user sent is lost.
    follow_up = "" if typed in ASK_STAFF_WORDS else incoming.text
    ticket = answer_offers.ask_staff(
        turn.session, offer, turn.requester, now=turn.now, follow_up=follow_up, attachments=incoming.attachments,
        channel_message_id=incoming.channel_message_id,
    )  # fmt: skip
    _confirm_ticket(turn, ticket)


def _on_rating(turn: _Turn) -> None:
    offer = _current_offer(turn)
    text = turn.incoming.text if turn.incoming.kind == "text" else ""
    score = survey.parse_score(text) if text else None
    if offer is not None and score is not None:
        answer_offers.rate(turn.session, offer, score, now=turn.now)
        turn.go("idle")
        turn.say("ขอบคุณสำหรับคะแนนค่ะ / Thank you for rating.", MENU_BUTTONS)
        return
    turn.go("idle")
    if normalize(text) in SKIP_WORDS:
        turn.say("ขอบคุณค่ะ / Thank you.", MENU_BUTTONS)
        return
    _idle(turn)  # not a score: whatever they sent is handled as usual (a new question, a file ...)


def _idle(turn: _Turn) -> None:
    incoming = turn.incoming
    open_ticket = tickets.open_ticket_of(turn.session, turn.requester)
    if open_ticket is not None:
        if not incoming.text.strip() and not incoming.attachments:
            return
        tickets.add_requester_message(
            turn.session,
            open_ticket,
            body=incoming.text.strip(),
            now=turn.now,
            attachments=incoming.attachments,
            channel_message_id=incoming.channel_message_id,
        )
        turn.say(f"เพิ่มข้อความในเรื่อง {open_ticket.number} แล้ว\nAdded to ticket {open_ticket.number}.")
        return
    if incoming.kind == "attachment" and not incoming.text.strip():
        turn.say("เริ่มคำถามใหม่: เลือกหัวข้อก่อน แล้วส่งรูปหรือไฟล์อีกครั้ง\nNew question: choose the topic first.")
        _ask_topic(turn)
        return
    # The previous question is closed: this message is a new question, asked after a topic.
    _ask_topic(turn, intro="เริ่มคำถามใหม่ / New question", draft=incoming.text.strip())


def _polite_reply(turn: _Turn) -> None:
    what = "สติกเกอร์" if turn.incoming.kind == "sticker" else "ตำแหน่งที่ตั้ง"
    english = "sticker" if turn.incoming.kind == "sticker" else "location"
    turn.say(f"ขอบคุณสำหรับ{what}ค่ะ 🙏 หากมีคำถาม พิมพ์เป็นข้อความได้เลย\nThanks for the {english}! Please type your question.")


def _prompt_current(turn: _Turn) -> None:
    step = turn.chat.step
    if step == "agency_type":
        _ask_agency_type(turn)
    elif step in ("agency", "agency_confirm"):
        turn.go("agency", **{k: v for k, v in turn.data.items() if k not in ("candidate", "suggestions")})
        _ask_agency(turn)
    elif step == "agency_text":
        turn.say("กรุณาพิมพ์ชื่อหน่วยงานของคุณ\nPlease type the name of your agency.", [CANCEL_BUTTON])
    elif step == "name":
        _ask_name(turn)
    elif step == "position":
        turn.say("ตำแหน่งของคุณ (ไม่บังคับ) พิมพ์ตำแหน่ง หรือกด ข้าม\nYour position (optional).", [SKIP_BUTTON])
    elif step == "topic":
        _ask_topic(turn, draft=turn.data.get("draft", ""))
    elif step == "question":
        turn.say("กรุณาพิมพ์คำถามของคุณ\nPlease type your question.", [CANCEL_BUTTON])
    elif step == "kb_offer":
        turn.say("ได้คำตอบแล้วหรือยังคะ / Solved, or ask staff?", [SOLVED_BUTTON, ASK_STAFF_BUTTON])
    elif step == "kb_rating":
        turn.say("คำตอบนี้ช่วยได้ไหม (1-5) / How helpful was the answer?", [*survey.scale_buttons(), SKIP_BUTTON])
    else:
        _menu(turn)


_STEP_HANDLERS = {
    "start": _first_contact,
    "agency_type": _on_agency_type,
    "agency": _on_agency,
    "agency_confirm": _on_agency_confirm,
    "agency_text": _on_agency_text,
    "name": _on_name,
    "position": _on_position,
    "topic": _on_topic,
    "question": _on_question,
    "kb_offer": _on_offer,
    "kb_rating": _on_rating,
    "idle": _idle,
    "withdraw_confirm": _on_withdraw_confirm,
    "faq": _on_faq,
}
