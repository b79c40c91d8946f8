"""Long texts go out as several messages, split at natural boundaries, in order, each part once.

`bot.message_split` on its own, then the requests the fake LINE and Graph APIs receive for a
5,000-character Thai staff reply (Messenger: three messages) and a twelve-message payload
(LINE: three calls), and retries after a failure midway.
"""

from __future__ import annotations

import re
import uuid

import pytest
from pythainlp.tokenize import word_tokenize
from sqlalchemy import select

from bot.line_api import call_retry_key
from bot.message_split import split_messages, split_text
from bot.tasks import deliver_outbox
from clinic import outbox, tickets
from clinic.clock import FrozenClock
from clinic.models import Message, OutboxMessage
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer

SENTENCES = [
    "หนังสือราชการภายนอกให้ลงทะเบียนรับในวันที่ได้รับ",
    "การเสนอหนังสือถึงปลัดกรุงเทพมหานครให้เสนอผ่านผู้อำนวยการสำนักงานเขตตามลำดับชั้น",
    "งานพิธีการให้ประสานสำนักงานเลขานุการปลัดกรุงเทพมหานครล่วงหน้าอย่างน้อยเจ็ดวัน",
    "หากมีข้อสงสัยเพิ่มเติมสอบถามได้ตลอด 24 ชั่วโมง",
]


def thai_text(length: int, *, separator: str = " ") -> str:
    """Thai sentences separated by `separator`, exactly `length` characters long."""
    out, n = "", 0
    while len(out) < length:
        out += SENTENCES[n % len(SENTENCES)] + separator
        n += 1
    return out[:length].rstrip() + "ฯ" * (length - len(out[:length].rstrip()))


def non_space(text: str) -> str:
    return re.sub(r"\s", "", text)


def word_ends(text: str) -> set[int]:
    offsets, at = {0, len(text)}, 0
    for word in word_tokenize(text, engine="newmm", keep_whitespace=True):
        at += len(word)
        offsets.add(at)
    return offsets


def assert_lossless(text: str, parts: list[str], limit: int) -> None:
    assert all(0 < len(part) <= limit for part in parts), [len(p) for p in parts]
    assert non_space("".join(parts)) == non_space(text)  # only whitespace at a cut is dropped
    # Each part is the text from where the previous one ended, in order.
    at = 0
    for part in parts:
        found = text.index(part, at)
        assert text[at:found].strip() == ""
        at = found + len(part)
    assert text[at:].strip() == ""


def test_short_text_is_one_part_and_empty_text_stays_one_message() -> None:
    assert split_text("สวัสดีค่ะ", 2000) == ["สวัสดีค่ะ"]
    assert split_text("", 2000) == [""]
    assert split_text("x" * 2000, 2000) == ["x" * 2000]
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_paragraphs_come_before_lines_sentences_and_spaces() -> None:
    first = "ย่อหน้าแรก " + "ก" * 30
    second = "บรรทัดหนึ่ง\nบรรทัดสอง. ประโยคถัดไป คำ"
    text = f"{first}\n\n{second}"
    assert split_text(text, 60) == [first, second]
    assert split_text("บรรทัดหนึ่งยาวพอสมควร\nบรรทัดสอง. ประโยคสาม", 30) == ["บรรทัดหนึ่งยาวพอสมควร", "บรรทัดสอง. ประโยคสาม"]
    english = "One sentence here. Another one follows here"
    assert split_text(english, 30) == ["One sentence here.", "Another one follows here"]
    assert split_text("abc def ghi jkl", 9) == ["abc def", "ghi jkl"]


def test_a_boundary_in_the_first_half_is_used_only_when_nothing_later_fits() -> None:
    # A paragraph break at 10 would make a tiny message; the space near the limit is better.
    text = "สั้น ๆ ครับ\n\n" + "คำ " * 40
    parts = split_text(text, 60)
    assert len(parts[0]) > 30
    assert_lossless(text, parts, 60)


def test_thai_without_spaces_is_cut_between_words_never_inside_one() -> None:
    text = "".join(SENTENCES).replace(" ", "") * 30  # no space at all
    parts = split_text(text, 500)
    assert len(parts) == -(-len(text) // 500) or len(parts) == -(-len(text) // 500) + 1
    assert "".join(parts) == text  # nothing dropped: there was no whitespace to drop
    ends = word_ends(text)
    at = 0
    for part in parts[:-1]:
        at += len(part)
        assert at in ends, f"cut inside a word at {at}: …{text[at - 10 : at]}|{text[at : at + 10]}…"


def test_one_word_longer_than_the_limit_is_cut_between_characters_not_inside_a_mark() -> None:
    url = "https://example.go.th/" + "a" * 70
    parts = split_text(url, 40)
    assert "".join(parts) == url and len(parts) == 3 and all(20 <= len(p) <= 40 for p in parts[:-1])
    marks = "กิ่" * 20  # every letter carries a vowel and a tone mark
    parts = split_text(marks, 10)
    assert "".join(parts) == marks
    assert all(unicodedata_ok(part) for part in parts)


def unicodedata_ok(part: str) -> bool:
    import unicodedata

    return unicodedata.category(part[0])[0] != "M"


def test_quick_replies_go_on_the_last_part_of_their_message() -> None:
    buttons = [{"label": "ถามใหม่ / New", "text": "ถามใหม่"}]
    out = split_messages([{"text": "ก " * 30}, {"text": "ข " * 30, "quick_replies": buttons}], 40)
    assert [bool(m.get("quick_replies")) for m in out] == [False, False, False, True]


@pytest.mark.parametrize("length", [2001, 4999, 5000, 12345])
def test_every_long_thai_text_is_lossless(length: int) -> None:
    text = thai_text(length, separator=" ")
    assert_lossless(text, split_text(text, 2000), 2000)
    paragraphs = thai_text(length, separator="\n\n")
    assert_lossless(paragraphs, split_text(paragraphs, 2000), 2000)


# --- at the fake APIs -------------------------------------------------------------------------


def staff_reply(runtime: Runtime, channel: str, body: str) -> int:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, channel=channel, user_id=f"{channel}-user-1")
        tickets.reply(session, ticket, body=body, now=now, actor="test")
        return session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "reply")).one()


def outbox_row(runtime: Runtime, outbox_id: int) -> tuple[OutboxMessage, Message | None]:
    with runtime.db.transaction() as session:
        item = session.get(OutboxMessage, outbox_id)
        assert item is not None
        message = session.get(Message, item.message_id) if item.message_id else None
        session.expunge_all()
        return item, message


def test_a_5000_character_thai_reply_goes_to_messenger_as_three_messages_in_order(
    runtime: Runtime, api_server: FakeApiServer
) -> None:
    body = thai_text(5000)
    outbox_id = staff_reply(runtime, "messenger", body)
    assert deliver_outbox(outbox_id) == "sent"
    sent = api_server.matching("POST", r"^/v21\.0/me/messages$")
    assert len(sent) == 3
    for request in sent:
        assert request.query == {"access_token": ["messenger-test-token"]}
        assert request.headers["content-type"] == "application/json"
        assert set(request.json) == {"recipient", "messaging_type", "message"}
        assert request.json["recipient"] == {"id": "messenger-user-1"}
        assert request.json["messaging_type"] == "RESPONSE"
        assert set(request.json["message"]) == {"text"}
    texts = [r.json["message"]["text"] for r in sent]
    assert texts == split_text(body, 2000)
    assert_lossless(body, texts, 2000)
    item, message = outbox_row(runtime, outbox_id)
    assert (item.status, item.sent_parts, item.attempts) == ("sent", 3, 1)
    assert message is not None and message.delivery_status == "sent"
    assert message.body == body  # the desk keeps the whole reply


def test_a_messenger_retry_after_a_failure_midway_sends_each_part_once(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    body = thai_text(5000)
    outbox_id = staff_reply(runtime, "messenger", body)
    api_server.fail("POST", r"/me/messages$", 500, {"error": {"message": "temporary", "code": 2}}, skip=1)
    assert deliver_outbox(outbox_id) == "pending"
    item, message = outbox_row(runtime, outbox_id)
    assert (item.status, item.sent_parts) == ("pending", 1)
    assert message is not None and message.delivery_status == "pending"
    clock.advance(seconds=5)
    assert deliver_outbox(outbox_id) == "sent"
    delivered = [r.json["message"]["text"] for r in api_server.matching("POST", r"/me/messages$", status=200)]
    assert delivered == split_text(body, 2000)  # each part once, in order
    failed = api_server.matching("POST", r"/me/messages$", status=500)
    assert [r.json["message"]["text"] for r in failed] == [delivered[1]]
    assert outbox_row(runtime, outbox_id)[0].sent_parts == 3


def twelve_messages() -> list[dict[str, object]]:
    buttons = [{"label": "ถามใหม่ / New", "text": "ถามใหม่"}, {"label": "สถานะ / Status", "text": "สถานะ"}]
    messages = [outbox.text(f"ข้อความที่ {n}") for n in range(1, 12)]
    return [*messages, outbox.text("ข้อความที่ 12", buttons)]


def test_twelve_messages_go_to_line_in_three_calls_reply_first_then_pushes(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=clock.now(), user_id="Utwelve")
        item = outbox.to_requester(session, person, twelve_messages(), kind="auto", now=clock.now(), reply_token="tok")
        outbox_id, retry_key = item.id, item.retry_key
    assert deliver_outbox(outbox_id) == "sent"
    calls = [r for r in api_server.requests if r.path.startswith("/v2/bot/message/")]
    assert [r.path for r in calls] == ["/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/message/push"]
    assert all(r.headers["authorization"] == "Bearer line-test-token" for r in calls)
    assert calls[0].json["replyToken"] == "tok" and "x-line-retry-key" not in calls[0].headers
    assert [r.headers["x-line-retry-key"] for r in calls[1:]] == [
        call_retry_key(retry_key, 1),
        call_retry_key(retry_key, 2),
    ]
    assert all(str(uuid.UUID(r.headers["x-line-retry-key"])) == r.headers["x-line-retry-key"] for r in calls[1:])
    texts = [[m["text"] for m in r.json["messages"]] for r in calls]
    assert texts == [
        [f"ข้อความที่ {n}" for n in range(1, 6)],
        [f"ข้อความที่ {n}" for n in range(6, 11)],
        ["ข้อความที่ 11", "ข้อความที่ 12"],
    ]
    assert calls[2].json == {
        "to": "Utwelve",
        "messages": [
            {"type": "text", "text": "ข้อความที่ 11"},
            {
                "type": "text",
                "text": "ข้อความที่ 12",
                "quickReply": {
                    "items": [
                        {"type": "action", "action": {"type": "message", "label": "ถามใหม่ / New", "text": "ถามใหม่"}},
                        {"type": "action", "action": {"type": "message", "label": "สถานะ / Status", "text": "สถานะ"}},
                    ]
                },
            },
        ],
        "notificationDisabled": False,
    }
    assert outbox_row(runtime, outbox_id)[0].sent_parts == 3


def test_a_line_retry_after_a_failure_midway_delivers_each_call_once(
    runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=clock.now(), user_id="Uretry")
        item = outbox.to_requester(session, person, twelve_messages(), kind="auto", now=clock.now(), reply_token="tok")
        outbox_id, retry_key = item.id, item.retry_key
    api_server.fail("POST", r"^/v2/bot/message/push$", 500, {"message": "Internal error"}, skip=1)
    assert deliver_outbox(outbox_id) == "pending"
    assert outbox_row(runtime, outbox_id)[0].sent_parts == 2
    clock.advance(seconds=5)
    # The worker died after LINE accepted the third call but before the row recorded it.
    api_server._accepted_retry_keys[call_retry_key(retry_key, 2)] = "req-lost"
    assert deliver_outbox(outbox_id) == "sent"
    delivered = [
        m["text"]
        for r in api_server.requests
        if r.path.startswith("/v2/bot/message/") and r.status == 200
        for m in r.json["messages"]
    ]
    assert delivered == [f"ข้อความที่ {n}" for n in range(1, 11)]  # the third call went before: 409, not again
    pushes = api_server.matching("POST", r"^/v2/bot/message/push$")
    assert [(r.status, r.headers["x-line-retry-key"]) for r in pushes] == [
        (200, call_retry_key(retry_key, 1)),
        (500, call_retry_key(retry_key, 2)),
        (409, call_retry_key(retry_key, 2)),
    ]
    assert len(api_server.matching("POST", r"^/v2/bot/message/reply$")) == 1  # the token is used once only
    item_after, _ = outbox_row(runtime, outbox_id)
    assert (item_after.status, item_after.sent_parts, item_after.attempts) == ("sent", 3, 2)


def test_a_5000_character_staff_reply_fits_one_line_message_and_5001_makes_two(
    runtime: Runtime, api_server: FakeApiServer
) -> None:
    body, longer = thai_text(5000), thai_text(5001)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, channel="line", user_id="line-user-1")
        replies = [tickets.reply(session, ticket, body=text, now=now, actor="test") for text in (body, longer)]
        ids = [session.scalars(select(OutboxMessage.id).where(OutboxMessage.message_id == m.id)).one() for m in replies]
    assert [deliver_outbox(outbox_id) for outbox_id in ids] == ["sent", "sent"]
    first, second = api_server.matching("POST", r"^/v2/bot/message/push$")
    assert first.json["messages"] == [{"type": "text", "text": body}]
    assert [m["text"] for m in second.json["messages"]] == split_text(longer, 5000)
    assert len(second.json["messages"]) == 2
