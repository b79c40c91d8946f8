"""The satisfaction survey a requester gets in the chat when a ticket closes.

Four items (seed document 3.1-3.4: `convenience`, `timeliness`, `usefulness`, `overall`),
asked one at a time on the 5-point scale as quick-reply buttons, then an optional
suggestion with a skip button. One `SurveyResponse` per ticket: closing a reopened
ticket again does not start a second one (it only re-sends one that never reached the
requester or was cut short before any answer). A typed number counts like a tap; text
that reads as a new question (a question word or mark, or 40 characters and more) ends
the survey and is left to the conversation as the new question; other text gets a
gentle re-ask. One reminder after 24 h, expiry after 7 days.

Where the channel forbids an automatic message (Messenger more than 24 h after the
user's last message, a LINE user who blocked the bot, history imported from a file)
the survey is recorded as `not_sent` so the report can count it apart.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic import outbox
from clinic.models import Requester, SurveyItem, SurveyResponse, Ticket
from clinic.runtime import Runtime

ITEM_KEYS = ("convenience", "timeliness", "usefulness", "overall")
SUGGESTION = "suggestion"
SCALE = ((5, "มากที่สุด"), (4, "มาก"), (3, "ปานกลาง"), (2, "น้อย"), (1, "น้อยที่สุด"))
SCALE_LABELS = {score: f"{score} {word}" for score, word in SCALE}
SKIP_LABEL = "ข้าม / Skip"
SKIP_WORDS = frozenset({"ข้าม", "skip", "ข้าม / skip", "ไม่มี", "-", "no"})
REMIND_AFTER = timedelta(hours=24)
EXPIRE_AFTER = timedelta(days=7)
# Surveys whose earlier sending never reached the requester (or was cut short before any
# answer) are sent again when the ticket is closed again.
RESENDABLE = frozenset({"not_sent", "cancelled"})

# The conversation's new-question command (bot.conversation COMMANDS["new"]), offered on a re-ask.
NEW_QUESTION_BUTTON = {"label": "ถามใหม่ / New", "text": "ถามใหม่"}
# Text that is not a score but reads as a question ends the survey instead of being re-asked:
# a question word, a question mark, or a long message. Short chatter ("ขอบคุณครับ") is re-asked.
QUESTION_MARKERS = ("?", "ไหม", "มั้ย", "อย่างไร", "ยังไง", "หรือไม่", "หรือเปล่า", "เท่าไร", "เท่าไหร่",
                    "อะไร", "ที่ไหน", "เมื่อไร", "ทำไม", "สอบถาม", "ได้หรือ")  # fmt: skip
QUESTION_MIN_CHARS = 40

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_WORD_SCORES = {word: score for score, word in SCALE}


def parse_score(text: str) -> int | None:
    """A score 1-5 from a tap or a typed answer: `5`, `๕`, `5 มากที่สุด` or `มากที่สุด`."""
    cleaned = re.sub(r"\s+", " ", text.translate(_THAI_DIGITS)).strip().strip(".")
    if cleaned in _WORD_SCORES:
        return _WORD_SCORES[cleaned]
    match = re.fullmatch(r"([1-5])(?: (\S+))?", cleaned)
    if match is None:
        return None
    score, word = int(match.group(1)), match.group(2)
    if word is not None and _WORD_SCORES.get(word) != score:
        return None
    return score


def looks_like_question(text: str) -> bool:
    cleaned = text.strip()
    return len(cleaned) >= QUESTION_MIN_CHARS or any(marker in cleaned for marker in QUESTION_MARKERS)


def scale_buttons() -> list[dict[str, str]]:
    return [{"label": SCALE_LABELS[score], "text": str(score)} for score, _ in SCALE]


def _items(session: Session) -> list[SurveyItem]:
    return list(session.scalars(select(SurveyItem).order_by(SurveyItem.position)))


def _item_message(item: SurveyItem, position: int, total: int) -> dict[str, Any]:
    body = (
        f"แบบสอบถามความพึงพอใจ ข้อ {position}/{total} / Satisfaction survey {position} of {total}\n"
        f"{item.text_th}\n({item.text_en})\n"
        "กรุณาเลือกระดับ 5 (มากที่สุด) ถึง 1 (น้อยที่สุด) / Please choose 5 (very much) to 1 (very little)"
    )
    return outbox.text(body, scale_buttons())


def _suggestion_prompt() -> dict[str, Any]:
    return outbox.text(
        "มีข้อเสนอแนะเพิ่มเติมหรือไม่ พิมพ์ได้เลย หรือกด 'ข้าม' / Any suggestion? Type it, or tap 'Skip'.",
        [{"label": SKIP_LABEL, "text": "ข้าม"}],
    )


def _thanks() -> dict[str, Any]:
    return outbox.text(
        "ขอบคุณสำหรับการตอบแบบสอบถาม ความเห็นของท่านช่วยให้เราปรับปรุงบริการ / "
        "Thank you for answering the survey; it helps us improve."
    )


def _current_prompt(session: Session, response: SurveyResponse) -> dict[str, Any]:
    if response.current_item == SUGGESTION:
        return _suggestion_prompt()
    items = _items(session)
    keys = [item.key for item in items]
    position = keys.index(response.current_item) if response.current_item in keys else 0
    return _item_message(items[position], position + 1, len(items))


def _first_unanswered(response: SurveyResponse) -> str:
    for key in ITEM_KEYS:
        if getattr(response, key) is None:
            return key
    return SUGGESTION


def _any_answer(response: SurveyResponse) -> bool:
    return any(getattr(response, key) is not None for key in ITEM_KEYS)


def can_reach(requester: Requester, now: datetime) -> bool:
    """Whether an automatic message may go to this requester now (see module docstring)."""
    if requester.channel == "import" or not requester.following:
        return False
    return outbox.may_send_automatic(requester, now)


def start(session: Session, ticket: Ticket, now: datetime) -> SurveyResponse:
    """Start the survey of a just-closed ticket: queue its first item, or record it as not sent."""
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.ticket_id == ticket.id))
    if response is not None and (response.status not in RESENDABLE or _any_answer(response)):
        return response
    if response is None:
        response = SurveyResponse(ticket_id=ticket.id, requester_id=ticket.requester_id, suggestion="")
        session.add(response)
    requester = ticket.requester
    if not can_reach(requester, now):
        response.status = "not_sent"
        response.current_item = None
        session.flush()
        return response
    # A requester answers one survey at a time: an older unanswered one gives way to this one.
    session.execute(
        update(SurveyResponse)
        .where(
            SurveyResponse.requester_id == requester.id,
            SurveyResponse.status == "pending",
            SurveyResponse.ticket_id != ticket.id,
        )
        .values(status="cancelled", current_item=None)
        .execution_options(synchronize_session="fetch")
    )
    response.status = "pending"
    response.current_item = _first_unanswered(response)
    response.sent_at = now
    response.reminded_at = None
    response.expires_at = now + EXPIRE_AFTER
    session.flush()
    intro = outbox.text(
        f"เรื่อง {ticket.number} ปิดแล้ว ขอบคุณที่ใช้บริการคลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ "
        "ขอความกรุณาตอบแบบสอบถามความพึงพอใจ 4 ข้อ / "
        f"Consultation {ticket.number} is closed. Please answer our 4-question satisfaction survey."
    )
    outbox.to_requester(
        session, requester, [intro, _current_prompt(session, response)], kind="survey", now=now, ticket=ticket
    )
    return response


def active(session: Session, requester: Requester, now: datetime) -> SurveyResponse | None:
    """The requester's survey awaiting an answer, if any (expired ones are not active)."""
    return session.scalar(
        select(SurveyResponse)
        .where(
            SurveyResponse.requester_id == requester.id,
            SurveyResponse.status == "pending",
            SurveyResponse.expires_at > now,
        )
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    )


def handle(session: Session, requester: Requester, text: str, now: datetime) -> list[dict[str, Any]] | None:
    """Take the requester's message as an answer to the active survey.

    Returns the channel-neutral messages to reply with (the next item, a re-ask, the
    suggestion prompt, thanks), or None when there is no active survey.
    """
    response = active(session, requester, now)
    if response is None:
        return None
    if response.current_item == SUGGESTION:
        answer = text.strip()
        if answer.lower() not in SKIP_WORDS:
            response.suggestion = answer[:2000]
        response.status = "completed"
        response.current_item = None
        response.completed_at = now
        session.flush()
        return [_thanks()]
    score = parse_score(text)
    if score is None:
        if looks_like_question(text):
            # A new question typed mid-survey ends the survey; the conversation takes it from here.
            response.status = "cancelled"
            response.current_item = None
            session.flush()
            return None
        reask = outbox.text(
            "ขออภัย กรุณาตอบเป็นตัวเลข 1-5 หรือกดปุ่มด้านล่าง หากต้องการถามเรื่องใหม่ พิมพ์ “ถามใหม่” / "
            "Sorry, please answer with a number 1-5 or tap a button; to ask something new, type “ถามใหม่”."
        )
        prompt = _current_prompt(session, response)
        prompt["quick_replies"] = [*prompt["quick_replies"], NEW_QUESTION_BUTTON]
        return [reask, prompt]
    key = response.current_item if response.current_item in ITEM_KEYS else _first_unanswered(response)
    setattr(response, key, score)
    response.current_item = _first_unanswered(response)
    session.flush()
    return [_current_prompt(session, response)]


def cancel_active(session: Session, requester: Requester, now: datetime) -> bool:
    """End the requester's active survey (they started a new question); True if there was one."""
    response = active(session, requester, now)
    if response is None:
        return False
    response.status = "cancelled"
    response.current_item = None
    session.flush()
    return True


def withdraw(session: Session, ticket: Ticket) -> None:
    """A reopened ticket's unanswered survey stops, so the requester's messages reach the ticket again."""
    session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.ticket_id == ticket.id, SurveyResponse.status == "pending")
        .values(status="cancelled", current_item=None)
        .execution_options(synchronize_session="fetch")
    )


def sweep(runtime: Runtime) -> dict[str, int]:
    """The worker's periodic pass: one reminder after 24 h, expiry after 7 days. Idempotent."""
    now = runtime.clock.now()
    reminded = expired = 0
    with runtime.db.transaction() as session:
        stale = session.scalars(
            select(SurveyResponse).where(SurveyResponse.status == "pending", SurveyResponse.expires_at <= now)
        ).all()
        for response in stale:
            response.status = "expired"
            response.current_item = None
            expired += 1
        due = session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.status == "pending",
                SurveyResponse.reminded_at.is_(None),
                SurveyResponse.sent_at <= now - REMIND_AFTER,
            )
        ).all()
        for response in due:
            # Marked even when the channel now forbids it: there is only ever one reminder.
            response.reminded_at = now
            ticket = response.ticket
            if not can_reach(ticket.requester, now):
                continue
            note = outbox.text(
                f"ขอความกรุณาตอบแบบสอบถามความพึงพอใจของเรื่อง {ticket.number} / "
                f"A gentle reminder: the survey of consultation {ticket.number} is waiting for you."
            )
            outbox.to_requester(
                session, ticket.requester, [note, _current_prompt(session, response)],
                kind="survey", now=now, ticket=ticket,
            )  # fmt: skip
            reminded += 1
    return {"reminded": reminded, "expired": expired}
