"""Files on a staff reply in Chromium: the desk's picker (with its count check), the thread after sending,
and the web requester's chat showing the picture and the document. Screenshots at 1280 and 390 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.tasks import deliver_outbox
from clinic.models import OutboxMessage, Ticket
from clinic.runtime import Runtime
from tests import factories
from tests.test_webchat_browser import POLL_MS, png_bytes, to_the_question
from tests.test_webchat_files import PDF

pytestmark = pytest.mark.browser


def test_staff_attach_a_picture_and_a_document_and_the_requester_sees_them(  # type: ignore[no-untyped-def]
    browser, page: Page, live_server: str, runtime: Runtime, screenshots: Path
) -> None:
    # A requester on the web chat, on a phone, asks a question.
    chat_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="th-TH")
    chat = chat_context.new_page()
    chat.clock.install()
    chat.goto(f"{live_server}/chat")
    chat.locator("#log").get_by_text("ยินดีต้อนรับสู่คลินิก", exact=False).wait_for()
    to_the_question(chat)
    chat.locator("#text").fill("ขอแบบฟอร์มและผังขั้นตอนการลงทะเบียนรับหนังสือค่ะ")
    chat.locator("#text").press("Enter")
    chat.locator("#log").get_by_text("รับเรื่องแล้ว", exact=False).wait_for()
    with runtime.db.transaction() as session:
        number = session.scalars(select(Ticket.number)).one()
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "somsri")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/tickets/{number}")

    picture = png_bytes(640, 400)
    picker = page.locator("#reply-file-input")
    # Six files: the page keeps five and says why, before anything is sent.
    picker.set_input_files([{"name": f"ไฟล์{i}.pdf", "mimeType": "application/pdf", "buffer": PDF} for i in range(6)])
    expect(page.locator("#reply-files li")).to_have_count(5)
    expect(page.locator("#reply-files-error")).to_contain_text("แนบได้ครั้งละไม่เกิน 5 ไฟล์")
    for _ in range(5):
        page.locator("#reply-files li button").first.click()
    expect(page.locator("#reply-files li")).to_have_count(0)

    picker.set_input_files([{"name": "ผังขั้นตอน.png", "mimeType": "image/png", "buffer": picture}])
    # A document dropped on the form joins the picture already chosen.
    page.evaluate(
        """pdf => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([pdf], "แบบฟอร์มลงทะเบียน.pdf", {type: "application/pdf"}));
          const form = document.getElementById("reply-form");
          form.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
          form.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        PDF.decode(),
    )
    expect(page.locator("#reply-files li")).to_have_count(2)
    expect(page.locator("#reply-files-error")).to_be_hidden()
    page.get_by_role("button", name="เอาออก แบบฟอร์มลงทะเบียน.pdf").wait_for()
    page.fill("#reply-form textarea", "แนบแบบฟอร์มและผังขั้นตอนให้แล้วค่ะ")
    page.locator("#reply-form textarea").focus()
    page.screenshot(path=str(screenshots / "desk-reply-files-chosen-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshots / "desk-reply-files-chosen-390.png"), full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("#reply-form textarea").press("Control+Enter")
    expect(page.locator(".flash")).to_contain_text("ส่งคำตอบพร้อมไฟล์แนบ 2 ไฟล์แล้ว")
    reply = page.locator("article.msg-outbound").last
    image = reply.get_by_role("img", name="ผังขั้นตอน.png")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=image.element_handle())
    expect(reply.get_by_role("link", name="แบบฟอร์มลงทะเบียน.pdf", exact=False)).to_be_visible()
    expect(page.locator("#reply-files li")).to_have_count(0)

    with runtime.db.transaction() as session:
        row_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "reply")).one()
    assert deliver_outbox(row_id) == "sent"
    expect(reply.locator(".delivery")).to_contain_text("ส่งแล้ว", timeout=15_000)
    document_link = reply.get_by_role("link", name="แบบฟอร์มลงทะเบียน.pdf", exact=False)
    # The composer is sticky: bring the reply's end above it before looking.
    scroll_above_composer = "link => window.scrollBy(0, link.getBoundingClientRect().top - window.innerHeight / 3)"
    page.evaluate(scroll_above_composer, document_link.element_handle())
    page.screenshot(path=str(screenshots / "desk-reply-files-sent-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate(scroll_above_composer, document_link.element_handle())
    page.screenshot(path=str(screenshots / "desk-reply-files-sent-390.png"))

    # The requester's chat shows the reply with the picture and the document by its next poll.
    chat.clock.run_for(POLL_MS + 100)
    staff = chat.locator(".bubble.staff").last
    staff.get_by_text("แนบแบบฟอร์มและผังขั้นตอนให้แล้วค่ะ").wait_for()
    shown = staff.get_by_role("img", name="ผังขั้นตอน.png")
    shown.wait_for()
    chat.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=shown.element_handle())
    assert staff.get_by_role("link", name="แบบฟอร์มลงทะเบียน.pdf", exact=False).get_attribute("download") == (
        "แบบฟอร์มลงทะเบียน.pdf"
    )
    no_thanks = chat.get_by_role("button", name="ไม่ต้อง / No")
    if no_thanks.is_visible():
        no_thanks.click()
    staff.scroll_into_view_if_needed()
    chat.screenshot(path=str(screenshots / "webchat-staff-files-390.png"))
    chat.set_viewport_size({"width": 1280, "height": 900})
    staff.scroll_into_view_if_needed()
    chat.screenshot(path=str(screenshots / "webchat-staff-files-1280.png"))
    chat_context.close()
