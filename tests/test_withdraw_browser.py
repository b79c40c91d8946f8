"""In Chromium: a near-miss agency asked about in the web chat, a question withdrawn there, and the withdrawn
ticket as staff see it (ticket page, inbox filter, KPI card). Screenshots at 390 and 1280 px wide."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic.models import Ticket
from clinic.runtime import Runtime
from tests import factories

pytestmark = pytest.mark.browser


def test_a_requester_confirms_a_near_miss_agency_and_withdraws_a_question(
    page: Page, live_server: str, runtime: Runtime, screenshots: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/chat")
    log = page.locator("#log")
    log.get_by_text("เจ้าหน้าที่จะตอบภายใน 1 วัน", exact=False).wait_for()
    page.get_by_role("button", name="สำนักงานเขต").click()
    log.get_by_text("(หน้า 1/5)", exact=False).wait_for()
    page.locator("#text").fill("บางใหญ่")
    page.locator("#text").press("Enter")
    log.get_by_text("หมายถึง สำนักงานเขตบางกอกใหญ่ ใช่ไหม", exact=False).wait_for()
    page.screenshot(path=str(screenshots / "chat-agency-near-miss-390.png"))
    page.get_by_role("button", name="ไม่ใช่ ใช้ที่พิมพ์").click()
    log.get_by_text("บันทึกหน่วยงาน: บางใหญ่", exact=False).wait_for()
    page.get_by_role("button", name="ข้าม / Skip").click()
    log.get_by_text("ตำแหน่งของคุณ", exact=False).wait_for()
    page.get_by_role("button", name="ข้าม / Skip").click()
    page.get_by_role("button", name="สารบรรณ").click()
    log.get_by_text("หัวข้อ: ด้านสารบรรณ", exact=False).wait_for()
    page.locator("#text").fill("ขอยกเลิกหนังสือที่ส่งไปแล้วต้องทำอย่างไร")
    page.locator("#text").press("Enter")
    log.get_by_text("รับเรื่องแล้ว เลขที่ CL-2569-00001", exact=False).wait_for()
    expect(page.get_by_role("button", name="ยกเลิก / Cancel")).to_have_count(0)

    page.get_by_role("button", name="ถอนคำถาม / Withdraw").click()
    log.get_by_text("ถอนคำถาม CL-2569-00001 ใช่ไหม", exact=False).wait_for()
    page.screenshot(path=str(screenshots / "chat-withdraw-confirm-390.png"))
    page.get_by_role("button", name="ยืนยันถอน / Yes").click()
    log.get_by_text("ถอนคำถาม CL-2569-00001 แล้ว", exact=False).wait_for()
    page.screenshot(path=str(screenshots / "chat-withdrawn-390.png"))
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.status, ticket.agency_id, ticket.agency_other) == ("withdrawn", None, "บางใหญ่")


def test_staff_see_a_withdrawn_ticket(page: Page, live_server: str, runtime: Runtime, screenshots: Path) -> None:
    from clinic import tickets

    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now, username="boss", role="supervisor")
        factories.ticket(session, now=now, body="คำถามที่ยังเปิดอยู่ เรื่องการเสนอหนังสือ")
        gone = factories.ticket(session, now=now, user_id="U-gone", body="ขอถอนคำถามเรื่องการลงทะเบียนรับ")
        tickets.withdraw(session, gone, now=now, requester=gone.requester)
        number = gone.number

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("tr[data-ticket]")).to_have_count(1)  # the withdrawn one is not in the inbox
    page.goto(f"{live_server}/inbox?status=withdrawn")
    expect(page.locator("tr[data-ticket]")).to_have_count(1)
    expect(page.locator("tr[data-ticket] .pill.st-withdrawn")).to_have_text("ถอนคำถามแล้ว")
    page.screenshot(path=str(screenshots / "desk-inbox-withdrawn-1280.png"))

    page.goto(f"{live_server}/tickets/{number}")
    expect(page.locator("h1 .pill")).to_have_text("ถอนคำถามแล้ว")
    expect(page.locator("#reply-form")).to_have_count(0)
    expect(page.get_by_text("ผู้ขอคำปรึกษาถอนคำถาม / Withdrawn by the requester")).to_be_visible()
    page.locator('[role=tab][data-tab="close-form"]').click()  # the tab that holds reopen
    expect(page.locator("#close-form button[type=submit]")).to_have_text("เปิดเรื่องอีกครั้ง")
    page.screenshot(path=str(screenshots / "desk-ticket-withdrawn-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshots / "desk-ticket-withdrawn-390.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/kpi?from=2026-11-01&to=2026-11-30")
    expect(page.locator("#kpi1")).to_contain_text("ถอนคำถาม (ไม่นับ) 1")
    page.locator("#kpi1").screenshot(path=str(screenshots / "desk-kpi1-withdrawn-1280.png"))
