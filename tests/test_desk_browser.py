"""The desk in Chromium: log in, a new ticket appears without reload, reply reaches LINE, a note does not,
close; a requester's `<script>` is shown as text. Screenshots at 1280 and 800 px go to tests/screenshots/."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import rq
from playwright.sync_api import Page, expect

from clinic import tickets
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer

pytestmark = pytest.mark.browser
SCRIPT = "<script>window.__pwned = 1</script> ขอสอบถามการส่งหนังสือเวียน"


def _run_jobs(runtime: Runtime) -> None:
    rq.SimpleWorker([runtime.queue], connection=runtime.redis).work(burst=True)


def _line_texts(api_server: FakeApiServer) -> list[str]:
    texts = []
    for request in api_server.matching("POST", r"^/v2/bot/message/(push|reply)$"):
        texts += [message.get("text", "") for message in json.loads(request.body)["messages"]]
    return texts


def _seed_inbox(runtime: Runtime) -> str:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.ticket(session, now=now - timedelta(hours=26), topic="letters",
                         body="การเสนอหนังสือถึงปลัดกรุงเทพมหานครต้องผ่านรองปลัดฯ ก่อนหรือไม่")  # fmt: skip
        factories.ticket(session, now=now - timedelta(hours=20), topic="ceremony", channel="messenger",
                         agency_code=None, agency_type="other", agency_other="โรงเรียนในสังกัด",
                         body="พิธีถวายพระพรชัยมงคลต้องจัดโต๊ะหมู่บูชาอย่างไร")  # fmt: skip
        factories.ticket(session, now=now - timedelta(hours=3), topic="saraban", channel="web",
                         agency_code="bureau-01", body="การลงทะเบียนหนังสือรับผ่านระบบสารบรรณอิเล็กทรอนิกส์")  # fmt: skip
        return factories.ticket(session, now=now - timedelta(hours=1), body=SCRIPT).number


def test_staff_answer_a_ticket_in_the_browser(
    page: Page, live_server: str, runtime: Runtime, api_server: FakeApiServer, screenshots: Path
) -> None:
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="supervisor")
    script_number = _seed_inbox(runtime)

    page.goto(f"{live_server}/inbox")
    expect(page).to_have_url(f"{live_server}/login?next=%2Finbox")
    page.fill("input[name=username]", "somsri")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("กล่องเรื่อง")
    expect(page.locator("tr[data-ticket]")).to_have_count(4)

    # A ticket opened by the bot while the page is open appears without a reload.
    with runtime.db.transaction() as session:
        who = factories.requester(session, now=runtime.clock.now(), display_name="คุณวิภา")
        fresh = tickets.open_ticket(session, requester=who, topic_code="saraban", now=runtime.clock.now(),
                                    body="ขอตัวอย่างหนังสือภายนอกที่ถูกต้องตามระเบียบ")  # fmt: skip
        number = fresh.number
    expect(page.locator(f'tr[data-ticket="{number}"]')).to_be_visible(timeout=15_000)
    expect(page).to_have_title("(5) กล่องเรื่อง — คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์", timeout=15_000)
    expect(page.locator(".alert").first).to_contain_text(number)
    page.locator(".alert button").first.click()
    page.screenshot(path=str(screenshots / "desk-inbox-1280.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 1000})
    page.screenshot(path=str(screenshots / "desk-inbox-800.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # A requester's HTML is text, never markup.
    page.click(f'a[href="/tickets/{script_number}"]')
    expect(page.locator("article.msg-inbound .body")).to_have_text(SCRIPT)
    assert page.evaluate("window.__pwned") is None

    # Reply: it reaches the LINE API server of the tests and shows as sent.
    page.goto(f"{live_server}/tickets/{number}")
    page.fill("#reply-form textarea", "ใช้แบบหนังสือภายนอกตามระเบียบงานสารบรรณ ข้อ 11 ค่ะ")
    page.click("#reply-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("ส่งคำตอบแล้ว")
    _run_jobs(runtime)
    assert "ใช้แบบหนังสือภายนอกตามระเบียบงานสารบรรณ ข้อ 11 ค่ะ" in _line_texts(api_server)
    expect(page.locator("article.msg-outbound .delivery")).to_contain_text("ส่งแล้ว", timeout=15_000)

    # An internal note stays inside.
    page.click("button[data-tab=note-form]")
    page.fill("#note-form textarea", "บันทึกภายใน: โทรยืนยันกับเขตแล้ว")
    page.click("#note-form button[type=submit]")
    expect(page.locator("article.msg-note .body")).to_have_text("บันทึกภายใน: โทรยืนยันกับเขตแล้ว")
    _run_jobs(runtime)
    assert not any("โทรยืนยัน" in text for text in _line_texts(api_server))

    page.screenshot(path=str(screenshots / "desk-ticket-1280.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 1000})
    page.screenshot(path=str(screenshots / "desk-ticket-800.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Close with a final answer, sent like a reply.
    page.click("button[data-tab=close-form]")
    page.fill("#close-form textarea", "สรุป: ใช้แบบหนังสือภายนอกตามข้อ 11")
    page.click("#close-form button[type=submit]")
    expect(page.locator("h1 .pill")).to_have_text("ปิดแล้ว")
    _run_jobs(runtime)
    assert "สรุป: ใช้แบบหนังสือภายนอกตามข้อ 11" in _line_texts(api_server)
    with runtime.db.transaction() as session:
        closed = tickets.get_by_number(session, number)
        assert closed.status == "closed" and closed.closed_at == runtime.clock.now()
