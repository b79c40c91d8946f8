"""The privacy notice, the LINE quota page and the erase confirmation in Chromium, at 1280 and 390 px.

Screenshots go to tests/screenshots/ (privacy-, line-quota-, requester-, erase-, quota-held-*.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot import tasks
from clinic.models import Requester
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


def _login(page: Page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("กล่องเรื่อง")


def _shoot(page: Page, screenshots: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshots / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"


def test_privacy_page(page: Page, live_server: str, runtime: Runtime, screenshots: Path) -> None:
    page.goto(f"{live_server}/privacy")
    expect(page.locator("#notice-th")).to_contain_text("ผู้ควบคุมข้อมูลส่วนบุคคล")
    expect(page.locator("#notice-en")).to_contain_text("Controller")
    _shoot(page, screenshots, "privacy")


def test_quota_page_and_erase_confirmation(  # type: ignore[no-untyped-def]
    page: Page, live_server: str, runtime: Runtime, api_server: FakeApiServer, clock, screenshots: Path
) -> None:
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=clock.now(), username="admin1", role="admin")
        ticket = factories.ticket(session, now=clock.now(), body="ขอสอบถามการลงทะเบียนรับหนังสือ",
                                  display_name="คุณสมชาย ใจดี")  # fmt: skip
        requester_id = ticket.requester_id
    api_server.quota_limit = 14000
    for day, used in ((18, 9100), (19, 9800), (20, 10400), (21, 11000), (22, 11500), (23, 12100), (25, 12480)):
        clock.set(clock.now().replace(day=day))
        api_server.quota_used = used
        tasks.sample_line_quota()
    _login(page, live_server, "admin1")

    page.goto(f"{live_server}/admin/line-quota")
    expect(page.locator(".quota-figure")).to_contain_text("12,480")
    expect(page.locator(".quota-figure .badge")).to_have_text("89%")
    expect(page.locator("text=โควตาจะหมดก่อนสิ้นเดือน")).to_be_visible()
    _shoot(page, screenshots, "line-quota")

    page.goto(f"{live_server}/tickets/{ticket.number}")
    page.click("#personal-data")
    expect(page.locator("h1")).to_contain_text(f"R{requester_id}")
    _shoot(page, screenshots, "requester")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("text=ลบข้อมูลส่วนบุคคล…")
    expect(page.locator("#erase-form")).to_be_visible()
    _shoot(page, screenshots, "erase")
    page.fill("input[name=confirm]", f"R{requester_id}")
    page.click("#erase-form button[type=submit]")
    expect(page.locator(".flash-ok").first).to_contain_text("ลบข้อมูลส่วนบุคคลแล้ว")
    with runtime.db.transaction() as session:
        assert session.scalar(select(Requester.display_name).where(Requester.id == requester_id)) == ""


def test_a_reply_held_by_the_quota_in_the_ticket(  # type: ignore[no-untyped-def]
    page: Page, live_server: str, runtime: Runtime, api_server: FakeApiServer, clock, screenshots: Path
) -> None:
    from bot import delivery
    from clinic import tickets
    from clinic.models import OutboxMessage

    with runtime.db.transaction() as session:
        factories.staff_user(session, now=clock.now(), username="somsri", role="agent")
        ticket = factories.ticket(session, now=clock.now(), body="ขอแบบฟอร์มหนังสือภายนอก")
        tickets.reply(session, ticket, body="แนบแบบฟอร์มตามระเบียบงานสารบรรณ ข้อ 11", now=clock.now())
        outbox_id = session.scalar(select(OutboxMessage.id))
    api_server.quota_limit = api_server.quota_used = 500
    assert delivery.deliver(runtime, outbox_id) == "pending"
    _login(page, live_server, "somsri")
    page.goto(f"{live_server}/tickets/{ticket.number}")
    expect(page.locator(".quota-held")).to_contain_text("โควตาข้อความ LINE หมด")
    _shoot(page, screenshots, "quota-held")
    page.click(".quota-held button")
    expect(page.locator(".flash-ok").first).to_contain_text("ส่งทางอื่นแล้ว")
    expect(page.locator(".quota-held")).to_have_count(0)
