"""The desk a staff member lives in, in Chromium at 1280 and 390 px: inbox cards without overflow, the
alert centre with a notice showing, a countdown that recolours as the (frozen) server clock passes the
warning lead and the deadline, and the ticket page's keyboard. Screenshots: tests/screenshots/desk-*.png."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clinic import tickets
from clinic.clock import FrozenClock
from clinic.models import StaffAlert, Ticket
from clinic.runtime import Runtime
from tests import factories

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _login(page: Page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("กล่องเรื่อง")


def _seed(runtime: Runtime) -> list[Ticket]:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=now, username="somsri", role="supervisor")
        factories.staff_user(session, now=now, username="wipa", role="agent")
        made = [
            factories.ticket(session, now=now - timedelta(hours=25), topic="letters",
                             body="การเสนอหนังสือถึงปลัดกรุงเทพมหานครต้องผ่านรองปลัดฯ ก่อนหรือไม่"),
            factories.ticket(session, now=now - timedelta(hours=19), topic="ceremony", channel="messenger",
                             agency_code=None, agency_type="other", agency_other="โรงเรียนในสังกัด",
                             body="พิธีถวายพระพรชัยมงคลต้องจัดโต๊ะหมู่บูชาอย่างไร มีขั้นตอนและเครื่องสักการะอะไรบ้าง"),
            factories.ticket(session, now=now - timedelta(hours=3), topic="saraban", channel="web",
                             agency_code="bureau-01", body="การลงทะเบียนหนังสือรับผ่านระบบสารบรรณอิเล็กทรอนิกส์"),
            factories.ticket(session, now=now - timedelta(minutes=30), body="ขอตัวอย่างหนังสือภายนอก"),
        ]  # fmt: skip
        tickets.assign(session, made[2], assignee=boss, now=now)
        return made


def _overflow(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def _boxes_overlap(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])  # fmt: skip


def test_inbox_at_1280_and_as_cards_at_390(page: Page, live_server: str, runtime: Runtime, screenshots: Path) -> None:
    made = _seed(runtime)
    _login(page, live_server, "somsri")
    rows = page.locator("#inbox-rows tr[data-ticket]")
    expect(rows).to_have_count(4)
    expect(page.locator("#inbox-rows tr.unread")).to_have_count(4)  # never opened by this staff member
    expect(page.locator(f'tr[data-ticket="{made[0].number}"] .pill[data-due]')).to_have_class(
        "pill due-overdue", timeout=5_000
    )
    expect(page.locator(f'tr[data-ticket="{made[1].number}"] .due-label')).to_have_text("ใกล้ครบกำหนด")
    page.screenshot(path=str(screenshots / "desk-inbox-live-1280.png"), full_page=True)
    assert _overflow(page) <= 1280

    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 390
    assert page.locator("#inbox-table thead").is_hidden()
    assert page.locator("#inbox-rows tr[data-ticket]").first.evaluate("r => getComputedStyle(r).display") == "grid"
    page.screenshot(path=str(screenshots / "desk-inbox-390.png"), full_page=True)

    # Mine, sorted by posting time: the choice stays in the URL.
    page.set_viewport_size(DESKTOP)
    page.click("#view-mine")
    expect(rows).to_have_count(1)
    page.select_option("select[name=sort]", "posted")
    expect(page).to_have_url(
        f"{live_server}/inbox?q=&status=active&topic=&agency_type=&channel=&assignee=somsri&sort=posted"
    )

    # Bulk: assign two tickets to wipa.
    page.goto(f"{live_server}/inbox")
    page.check(f'input[name=number][value="{made[0].number}"]')
    page.check(f'input[name=number][value="{made[1].number}"]')
    expect(page.locator("#bulk-count")).to_have_text("2")
    page.select_option("#bulk-form select[name=assignee]", "wipa")
    page.click("#bulk-form button[value=assign]")
    expect(page.locator(".flash").first).to_contain_text("มอบหมายแล้ว 2 เรื่อง")
    page.screenshot(path=str(screenshots / "desk-inbox-bulk-1280.png"), full_page=True)
    with runtime.db.transaction() as session:
        assert {tickets.get_by_number(session, t.number).assignee.username for t in made[:2]} == {"wipa"}


def test_alert_centre_with_a_notice_showing(page: Page, live_server: str, runtime: Runtime, screenshots: Path) -> None:
    made = _seed(runtime)
    _login(page, live_server, "somsri")
    expect(page.locator("#alert-count")).to_be_hidden()

    def alert(text: str, level: str = "warning") -> None:
        with runtime.db.transaction() as session:
            session.add(StaffAlert(created_at=runtime.clock.now(), ticket_id=made[1].id, level=level, text=text))

    # Two alerts for one ticket make one notice; the bell counts both.
    alert(f"⏰ ใกล้ครบกำหนด: เรื่อง {made[1].number} เหลือเวลา 5 ชม. / SLA warning")
    alert(f"⏰ ใกล้ครบกำหนด: เรื่อง {made[1].number} เหลือเวลา 4 ชม. 59 นาที / SLA warning")
    toast = page.locator("#alerts .alert")
    expect(toast).to_have_count(1, timeout=15_000)
    expect(toast).to_contain_text("4 ชม. 59 นาที")
    expect(page.locator("#alert-count")).to_have_text("2")
    close = toast.locator("button")
    expect(close).to_have_attribute("aria-label", "ซ่อน / Dismiss")
    assert close.inner_text().strip() != "ปิด"
    # The notice never covers the time-left column.
    for cell in page.locator("#inbox-rows td.due").all():
        assert not _boxes_overlap(toast.bounding_box(), cell.bounding_box())
    page.screenshot(path=str(screenshots / "desk-alerts-toast-1280.png"), full_page=False)

    page.set_viewport_size(PHONE)
    expect(toast).to_be_visible()
    assert _overflow(page) <= 390
    page.screenshot(path=str(screenshots / "desk-alerts-toast-390.png"), full_page=False)
    page.set_viewport_size(DESKTOP)

    # On the ticket page, a new message's notice shows that message and keeps off the side panel.
    page.goto(f"{live_server}/tickets/{made[2].number}")
    with runtime.db.transaction() as session:
        follow_up = "ขอเพิ่มเติม: ต้องลงทะเบียนภายในวันเดียวกันไหมคะ"
        tickets.add_requester_message(session, tickets.get_by_number(session, made[2].number), body=follow_up,
                                      now=runtime.clock.now())  # fmt: skip
    expect(toast).to_contain_text("ต้องลงทะเบียนภายในวันเดียวกันไหมคะ", timeout=15_000)
    for panel in page.locator("aside.side .panel").all():
        assert not _boxes_overlap(toast.bounding_box(), panel.bounding_box())
    page.screenshot(path=str(screenshots / "desk-ticket-toast-1280.png"), full_page=False)
    expect(toast).to_have_count(0, timeout=20_000)  # it dismisses itself

    # The alert centre keeps them, with their time; reading is per staff member.
    page.click("#bell")
    expect(page.locator(".alert-row")).to_have_count(2)
    expect(page.locator(".alert-row").first).to_contain_text("25 พ.ย. 2569 10:00 น.")
    page.screenshot(path=str(screenshots / "desk-alerts-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 390
    page.screenshot(path=str(screenshots / "desk-alerts-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.locator(".alert-row .alert-mark button").first.click()
    expect(page.locator("#alert-count")).to_have_text("1")
    page.click("text=อ่านทั้งหมดแล้ว")
    expect(page.locator(".alert-row.is-unread")).to_have_count(0)
    expect(page.locator("#alert-count")).to_be_hidden()


def test_countdown_recolours_at_the_warning_lead_and_the_deadline(
    page: Page, live_server: str, runtime: Runtime, clock: FrozenClock, screenshots: Path
) -> None:
    now = clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now, username="somsri", role="agent")
        # 6 h 0 min 40 s left: green, 40 s before the 6 h warning lead.
        ticket = factories.ticket(session, now=now - timedelta(hours=17, minutes=59, seconds=20))
    _login(page, live_server, "somsri")
    page.goto(f"{live_server}/tickets/{ticket.number}")
    badge = page.locator("#ticket-due")
    expect(badge).to_have_class("pill due-ok")
    expect(badge.locator(".left")).to_have_text("6 ชม.")
    clock.advance(minutes=5)  # the next poll brings the server's clock: inside the warning lead
    expect(badge).to_have_class("pill due-warning", timeout=15_000)
    expect(badge.locator(".left")).to_have_text("5 ชม. 55 นาที", timeout=5_000)
    clock.advance(hours=5, minutes=55, seconds=20)  # 20 s before the deadline: seconds count down in the page
    expect(badge.locator(".left")).to_contain_text("วินาที", timeout=15_000)
    first = badge.locator(".left").inner_text()
    expect(badge.locator(".left")).not_to_have_text(first, timeout=5_000)
    clock.advance(minutes=2)
    expect(badge).to_have_class("pill due-overdue", timeout=15_000)
    expect(badge.locator(".left")).to_contain_text("เกิน 1 นาที")
    assert "เกิน 0 นาที" not in badge.inner_text()
    page.screenshot(path=str(screenshots / "desk-ticket-overdue-1280.png"), full_page=True)

    # English: the countdown speaks English too.
    page.click("button[name=lang][value=en]")
    expect(badge.locator(".left")).to_have_text(re.compile(r"^1 min \d+ s overdue$"), timeout=5_000)
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_contain_text("Next ticket")
    assert not re.search(r"[\u0E00-\u0E7F]", page.locator("#shortcut-help").inner_text())
    page.keyboard.press("Escape")
    page.goto(f"{live_server}/inbox")
    expect(page.locator(".pill[data-due]").first).to_have_text(re.compile(r"^1 min \d+ s overdue$"))
    expect(page.locator(".due-label").first).to_have_text("Overdue")
    page.screenshot(path=str(screenshots / "desk-inbox-en-1280.png"), full_page=True)


SLOW = 20_000  # ms


def test_ticket_page_keyboard_and_sticky_reply_box(
    page: Page, live_server: str, runtime: Runtime, screenshots: Path
) -> None:
    made = _seed(runtime)
    with runtime.db.transaction() as session:  # a long thread
        long = tickets.get_by_number(session, made[1].number)
        for i in range(12):
            tickets.add_requester_message(session, long, body=f"ข้อความเพิ่มเติมที่ {i + 1} " + "รายละเอียด " * 12,
                                          now=runtime.clock.now())  # fmt: skip
    _login(page, live_server, "somsri")
    page.click(f'a[href="/tickets/{made[0].number}"]')
    expect(page.locator("h1")).to_contain_text(made[0].number)
    page.wait_for_load_state("load")  # the shortcuts are bound by desk.js, which runs after the markup

    # j: the next ticket in the inbox's order; k: back.
    page.keyboard.press("j")
    # Generous waits after a navigation or a post: the first text a process indexes for search loads
    # PyThaiNLP's dictionary (seconds on a busy machine); what is checked is where the page lands.
    expect(page).to_have_url(f"{live_server}/tickets/{made[1].number}", timeout=SLOW)
    page.wait_for_load_state("load")
    composer = page.locator("#composer")
    box = composer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900 + 1  # in view at the bottom of a long thread
    expect(page.locator("#next-ticket")).to_be_visible()
    page.screenshot(path=str(screenshots / "desk-ticket-long-1280.png"), full_page=False)
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 390
    box = composer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844 + 1
    page.screenshot(path=str(screenshots / "desk-ticket-long-390.png"), full_page=False)
    page.set_viewport_size(DESKTOP)

    # ? shows the help in Thai; Esc closes it.
    page.keyboard.press("?")
    help_box = page.locator("#shortcut-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("เรื่องถัดไป")
    page.screenshot(path=str(screenshots / "desk-ticket-help-1280.png"), full_page=False)
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    # n: the note tab, lit and focused; typing a "j" there does not leave the page; Ctrl+Enter adds it.
    page.keyboard.press("n")
    expect(page.locator('.tabs button[data-tab="note-form"]')).to_have_class("on")
    expect(page.locator("#note-form")).to_be_visible()
    expect(page.locator("#reply-form")).to_be_hidden()
    expect(page.locator("#note-form textarea")).to_be_focused()
    page.keyboard.type("jk บันทึกจากคีย์บอร์ด")
    expect(page).to_have_url(f"{live_server}/tickets/{made[1].number}")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash")).to_contain_text("บันทึกแล้ว", timeout=SLOW)
    page.wait_for_load_state("load")
    expect(page.locator("article.msg-note .body").last).to_have_text("jk บันทึกจากคีย์บอร์ด")

    # r: the reply tab; Ctrl+Enter sends.
    page.keyboard.press("r")
    expect(page.locator('.tabs button[data-tab="reply-form"]')).to_have_class("on")
    page.keyboard.type("ตอบผ่านคีย์ลัด")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash")).to_contain_text("ส่งคำตอบแล้ว", timeout=SLOW)
    page.wait_for_load_state("load")
    page.keyboard.press("k")
    expect(page).to_have_url(f"{live_server}/tickets/{made[0].number}", timeout=SLOW)
