"""Ranked Thai search over tickets (question, follow-ups, replies, notes), on SQLite FTS5 and PostgreSQL GIN."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from clinic import api_tokens, ticket_index, ticket_search, tickets
from clinic.models import Ticket, TicketSearchDoc
from clinic.runtime import Runtime
from clinic.ticket_search import SearchError, TicketFilter
from tests import factories
from tests.test_desk_pages import login

REPO = Path(__file__).resolve().parent.parent
LONG_NOTE = (
    "บันทึกภายใน: ผู้ถามโทรมาสอบถามเพิ่มเติมเรื่องการจัดพิธีวางพวงมาลาในวันปิยมหาราช การแต่งกายของผู้ร่วมพิธี "
    "ลำดับการเข้าวางพวงมาลา การเตรียมสถานที่ การเชิญแขกผู้มีเกียรติ การประสานกับสำนักงานเขต และการเก็บรักษา "
    "ภาพถ่ายของงาน รวมถึงการจัดทำหนังสือขอบคุณผู้สนับสนุน การเบิกจ่ายงบประมาณ และการรายงานผลต่อผู้บังคับบัญชา "
    "ได้แนะนำให้ตรวจสอบแนวปฏิบัติล่าสุดของสำนักงานเลขานุการปลัดกรุงเทพมหานครก่อนดำเนินการทุกครั้ง"
)


def _numbers(session, q: str, **filters: str) -> list[str]:  # type: ignore[no-untyped-def]
    found = ticket_search.search(session, TicketFilter(q=q, status=filters.pop("status", "all"), **filters))
    return [t.number for t in found.items]


def test_the_ticket_about_the_word_ranks_above_a_passing_mention_in_a_long_note(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        passing = factories.ticket(session, now=now, topic="ceremony", body="ขอสอบถามการจัดพิธีวางพวงมาลา")
        tickets.add_note(session, passing, body=LONG_NOTE, now=now)
        about = factories.ticket(session, now=now + timedelta(minutes=5),
                                 body="การเก็บรักษาหนังสือราชการต้องเก็บรักษาไว้กี่ปี")  # fmt: skip
        factories.ticket(session, now=now, body="ขอแบบฟอร์มหนังสือภายนอก")
    with runtime.db.transaction() as session:
        assert _numbers(session, "เก็บรักษา") == [about.number, passing.number]
        # The deadline order would put `passing` (earlier deadline) first; relevance wins when searching.
        assert _numbers(session, "เก็บรักษา", status="active") == [about.number, passing.number]


def test_run_on_and_spaced_thai_find_the_same_tickets(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        run_on = factories.ticket(session, now=now, body="ขอตัวอย่างหนังสือภายนอกถึงหน่วยงานอื่น")
        spaced = factories.ticket(session, now=now, body="หนังสือ ภายนอก ต้องลงชื่อใคร")
        factories.ticket(session, now=now, body="หนังสือภายในใช้กระดาษบันทึกข้อความ")
    with runtime.db.transaction() as session:
        joined, apart = _numbers(session, "หนังสือภายนอก"), _numbers(session, "หนังสือ ภายนอก")
    assert sorted(joined) == sorted(apart) == sorted([run_on.number, spaced.number])


def test_all_words_first_else_any_word(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        both = factories.ticket(session, now=now, body="การลงทะเบียนรับหนังสือราชการ")
        one = factories.ticket(session, now=now, body="ระเบียบการจัดพิธีถวายพวงมาลา")
    with runtime.db.transaction() as session:
        assert _numbers(session, "ลงทะเบียน หนังสือ") == [both.number]
        # No ticket has พวงมาลา and ไปรษณีย์ together: the tickets with either word are shown.
        assert _numbers(session, "พวงมาลา ไปรษณีย์") == [one.number]


def test_substring_matches_are_still_found_after_the_ranked_ones(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ranked = factories.ticket(session, now=now, body="ทะเบียน หนังสือส่ง ใช้แบบไหน")
        inside = factories.ticket(session, now=now - timedelta(hours=1), body="ขอสอบถามเรื่องการลงทะเบียนหนังสือรับ")
        english = factories.ticket(session, now=now, body="ระบบ e-Saraban registration ใช้งานไม่ได้")
        factories.ticket(session, now=now, body="งานพิธีถวายพระพรชัยมงคลต้องแต่งกายอย่างไร")
    with runtime.db.transaction() as session:
        # ทะเบียน is a word of `ranked`, but only part of ลงทะเบียน in `inside`: found, ranked after.
        assert _numbers(session, "ทะเบียน") == [ranked.number, inside.number]
        assert _numbers(session, "regist") == [english.number]  # half an English word
        assert _numbers(session, "REGISTRATION") == [english.number]
        assert _numbers(session, "100%_") == []


def test_a_ticket_number_finds_its_ticket_first(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        made = [factories.ticket(session, now=now, body=f"คำถามที่ {i}") for i in range(12)]
    wanted = made[10]
    assert wanted.number.endswith("00011")
    with runtime.db.transaction() as session:
        assert _numbers(session, wanted.number) == [wanted.number]
        assert _numbers(session, wanted.number.lower()) == [wanted.number]
        assert _numbers(session, wanted.number[-5:]) == [wanted.number]
        assert set(_numbers(session, "0001")) == {made[i].number for i in (0, 9, 10, 11)}  # 00001, 00010-00012


def test_filters_work_together_with_the_search(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        saraban = factories.ticket(session, now=now, body="การเก็บรักษาหนังสือ", channel="line")
        ceremony = factories.ticket(session, now=now, topic="ceremony", body="เก็บรักษาธงชาติ", channel="web")
        closed = factories.ticket(session, now=now, body="เก็บรักษาเอกสารลับ")
        tickets.close(session, closed, now=now)
        somsri = factories.staff_user(session, now=now)
        tickets.assign(session, ceremony, assignee=somsri, now=now)
    with runtime.db.transaction() as session:
        assert set(_numbers(session, "เก็บรักษา")) == {saraban.number, ceremony.number, closed.number}
        assert set(_numbers(session, "เก็บรักษา", status="active")) == {saraban.number, ceremony.number}
        assert _numbers(session, "เก็บรักษา", status="closed") == [closed.number]
        assert _numbers(session, "เก็บรักษา", topic="ceremony") == [ceremony.number]
        assert _numbers(session, "เก็บรักษา", channel="line", status="active") == [saraban.number]
        assert _numbers(session, "เก็บรักษา", assignee="somsri") == [ceremony.number]
        assert _numbers(session, "ธงชาติ", topic="saraban") == []


def test_the_index_follows_replies_notes_and_follow_ups(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, body="ขอสอบถามเรื่องหนังสือเวียน")
        number = ticket.number
    with runtime.db.transaction() as session:
        assert _numbers(session, "ประทับตรา") == _numbers(session, "ชั้นความลับ") == []
        assert _numbers(session, "สำเนาคู่ฉบับ") == []
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        tickets.reply(session, ticket, body="ให้ประทับตราตามระเบียบ", now=now)
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        tickets.add_requester_message(session, ticket, body="แล้วหนังสือชั้นความลับล่ะคะ", now=now)
        tickets.add_note(session, ticket, body="ตรวจสำเนาคู่ฉบับแล้ว", now=now)
    with runtime.db.transaction() as session:
        assert _numbers(session, "ประทับตรา") == [number]  # the reply
        assert _numbers(session, "ชั้นความลับ") == [number]  # the follow-up
        assert _numbers(session, "สำเนาคู่ฉบับ") == [number]  # the note
        # A message the service refused leaves the index as it was.
        with pytest.raises(tickets.TicketError):
            tickets.add_note(session, tickets.get_by_number(session, number), body="  ", now=now)
    with runtime.db.transaction() as session:
        doc = session.get(TicketSearchDoc, tickets.get_by_number(session, number).id)
        assert doc is not None and "2569 00001" in doc.words and "ประทับตรา" in doc.words


def test_closing_with_a_final_answer_indexes_the_answer(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, body="คำถามทั่วไป")
        tickets.close(session, ticket, now=now, final_answer="ให้ใช้ครุฑตามแบบที่กำหนด")
        number = ticket.number
    with runtime.db.transaction() as session:
        assert _numbers(session, "ครุฑ") == [number]


def test_rebuild_reindexes_every_ticket_and_only_the_missing_ones(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        first = factories.ticket(session, now=now, body="การเก็บรักษาหนังสือ")
        second = factories.ticket(session, now=now, body="เก็บรักษาธงชาติ")
        tickets.reply(session, second, body="เก็บในที่แห้ง", now=now)
        session.execute(delete(TicketSearchDoc))
    with runtime.db.transaction() as session:
        assert ticket_index.missing(session) == 2 and _numbers(session, "เก็บรักษา") == []
    assert ticket_index.rebuild(runtime.db, only_missing=True, batch=1) == 2
    assert ticket_index.rebuild(runtime.db, only_missing=True) == 0
    with runtime.db.transaction() as session:
        assert ticket_index.missing(session) == 0
        assert set(_numbers(session, "เก็บรักษา")) == {first.number, second.number}
        assert _numbers(session, "แห้ง") == [second.number]
    assert ticket_index.rebuild(runtime.db, batch=1) == 2
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(TicketSearchDoc)) == 2
        assert _numbers(session, "แห้ง") == [second.number]


def test_the_worker_indexes_tickets_without_a_document_on_start(runtime: Runtime) -> None:
    import worker

    with runtime.db.transaction() as session:
        older = factories.ticket(session, now=runtime.clock.now(), body="การเก็บรักษาหนังสือ")
        session.execute(delete(TicketSearchDoc).where(TicketSearchDoc.ticket_id == older.id))
        factories.ticket(session, now=runtime.clock.now(), body="เก็บรักษาธงชาติ")
    worker._index_missing_tickets(runtime)
    with runtime.db.transaction() as session:
        assert ticket_index.missing(session) == 0
        assert older.number in _numbers(session, "เก็บรักษา")


def test_clinic_search_rebuild_command(runtime: Runtime, config_env: dict[str, str]) -> None:
    with runtime.db.transaction() as session:
        for _ in range(3):
            factories.ticket(session, now=runtime.clock.now(), body="การเก็บรักษาหนังสือ")
        session.execute(delete(TicketSearchDoc))
    command = [str(Path(sys.executable).parent / "clinic"), "search", "rebuild"]
    env = {**os.environ, **config_env}
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "สร้างดัชนีค้นหาใหม่แล้ว: 3 เรื่อง / Search index rebuilt: 3 tickets"
    with runtime.db.transaction() as session:
        assert len(_numbers(session, "เก็บรักษา")) == 3


ATTACKS = [
    '"', '""', '"เก็บรักษา', "*", "เก็บ*", "NEAR(", "NEAR(เก็บรักษา หนังสือ, 2)", "OR", "เก็บรักษา OR 1=1", "-",
    "-เก็บรักษา", "AND NOT", "^เก็บรักษา", "words:เก็บรักษา", "{words}: x", "(", ")", "'; DROP TABLE tickets; --",
    "!!", "&|", "เก็บรักษา & !หนังสือ", "<->", "\\", "%", "_", "ticket_search_fts", "\u200b", "ๆๆๆ", "  ",
]  # fmt: skip


def test_search_syntax_typed_by_an_attacker_is_only_text(runtime: Runtime, client) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, body="การเก็บรักษาหนังสือ OR NEAR ตามระเบียบ")
        token = api_tokens.create(session, name="probe", now=now)[1]
    headers = {"Authorization": f"Bearer {token}"}
    for q in ATTACKS:
        answer = client.get("/api/v1/tickets", query_string={"q": q, "status": "all"}, headers=headers)
        assert answer.status_code == 200, (q, answer.get_data(as_text=True))
    assert [i["number"] for i in client.get("/api/v1/tickets", query_string={"q": "OR"}, headers=headers).json[
        "items"]] == [ticket.number]  # fmt: skip
    for q, message in (("ก" * 201, "The search text is over 200 characters"), ("เก็บ\x00รักษา", "NUL")):
        answer = client.get("/api/v1/tickets", query_string={"q": q}, headers=headers)
        assert answer.status_code == 400 and message in answer.json["error"]["message"]
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        with pytest.raises(SearchError):
            ticket_search.search(session, TicketFilter(q="\x00"))


def test_desk_and_api_give_the_same_relevance_order(runtime: Runtime, app, client) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        passing = factories.ticket(session, now=now, topic="ceremony", body="ขอสอบถามการจัดพิธีวางพวงมาลา")
        tickets.add_note(session, passing, body=LONG_NOTE, now=now)
        about = factories.ticket(session, now=now + timedelta(hours=1), body="การเก็บรักษาหนังสือต้องเก็บรักษากี่ปี")
        factories.staff_user(session, now=now)
        token = api_tokens.create(session, name="probe", now=now)[1]
    api = client.get("/api/v1/tickets", query_string={"q": "เก็บรักษา"}, headers={"Authorization": f"Bearer {token}"})
    assert [i["number"] for i in api.json["items"]] == [about.number, passing.number]
    desk = app.test_client()
    assert login(desk).status_code == 302
    page = desk.get("/inbox", query_string={"q": "เก็บรักษา"}).get_data(as_text=True)
    assert re.findall(r'data-ticket="([^"]+)"', page) == [about.number, passing.number]
    plain = desk.get("/inbox").get_data(as_text=True)  # no search: soonest deadline first
    assert re.findall(r'data-ticket="([^"]+)"', plain) == [passing.number, about.number]


@pytest.mark.browser
def test_searching_in_the_inbox_in_the_browser(page, live_server: str, runtime: Runtime, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now)
        passing = factories.ticket(session, now=now - timedelta(hours=2), topic="ceremony",
                                   body="ขอสอบถามการจัดพิธีวางพวงมาลา")  # fmt: skip
        tickets.add_note(session, passing, body=LONG_NOTE, now=now)
        about = factories.ticket(session, now=now, body="การเก็บรักษาหนังสือราชการต้องเก็บรักษาไว้กี่ปีคะ")
        inside = factories.ticket(session, now=now - timedelta(hours=1), body="หนังสือเก็บรักษาไว้ที่ห้องเก็บเอกสาร")
        factories.ticket(session, now=now, body="งานพิธีถวายพระพรชัยมงคลต้องแต่งกายอย่างไร")
    page.goto(f"{live_server}/login?next=%2Finbox")
    page.fill("input[name=username]", "somsri")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("tr[data-ticket]")).to_have_count(4)
    page.fill("input[name=q]", "เก็บรักษา")
    page.click("#filters button[type=submit]")
    expect(page.locator("#search-order")).to_have_text("เรียงจากเรื่องที่ตรงกับคำค้นมากที่สุด")
    rows = page.locator("tr[data-ticket]")
    expect(rows).to_have_count(3)
    order = [rows.nth(i).get_attribute("data-ticket") for i in range(3)]
    assert order[0] == about.number and set(order[1:]) == {inside.number, passing.number}
    page.screenshot(path=str(screenshots / "desk-search-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshots / "desk-search-390.png"), full_page=True)
