"""The web chat page in a real Chromium, on a phone (390 x 844) and a desktop (1280 x 800):
files through the picker, drag and drop and paste; the growing composer and its counter; the
time on each bubble; the title count and notification for a staff reply while the tab is hidden;
keyboard use. Screenshots go to tests/screenshots/webchat-*.png."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from bot.tasks import deliver_outbox
from clinic import tickets
from clinic.models import OutboxMessage, Ticket
from clinic.runtime import Runtime

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
TITLE = "คลินิกให้คำปรึกษา · แชต / Consultation chat"
POLL_MS = 5000

# Records the notifications the page shows, then shows them as the browser would.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  class Recorded extends Real {
    constructor(title, options) { super(title, options); window.__notifications.push({title, body: options.body}); }
  }
  window.Notification = Recorded;
})();
"""

CONTRAST = """
(selector) => {
  // WCAG relative luminance contrast between an element's text colour and the first opaque background behind it.
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const el = document.querySelector(selector);
  let bg = el, colour;
  while (bg) {
    colour = rgb(getComputedStyle(bg).backgroundColor);
    if (colour.length < 4 || colour[3] > 0.9) break;
    bg = bg.parentElement;
  }
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(colour || [255, 255, 255]);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""


@pytest.fixture(params=list(VIEWPORTS))
def chat(request: pytest.FixtureRequest, browser, live_server: str) -> Iterator[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookie: a new requester) at one of the two sizes."""
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="th-TH")
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    page.clock.install()  # the page polls on a timer; the test moves time instead of waiting
    page.goto(f"{live_server}/chat")
    page.locator("#log").get_by_text("ยินดีต้อนรับสู่คลินิก", exact=False).wait_for()
    page.live_server = live_server
    yield page, request.param
    context.close()


def png_bytes(width: int = 320, height: int = 200) -> bytes:
    image = Image.new("RGB", (width, height), "#f4c542")
    for x in range(0, width, 20):
        for y in range(height):
            image.putpixel((x, y), (11, 95, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def to_the_question(page: Any) -> None:
    """Answer the intake the way a person does: buttons, a typed agency name, skips, a topic."""
    log = page.locator("#log")
    page.get_by_role("button", name="สำนักงานเขต").click()
    log.get_by_text("เลือกหน่วยงานของคุณ", exact=False).wait_for()
    page.locator("#text").fill("พระนคร")
    page.locator("#text").press("Enter")
    log.get_by_text("บันทึกหน่วยงาน: สำนักงานเขตพระนคร").wait_for()
    page.get_by_role("button", name="ข้าม / Skip").click()
    log.get_by_text("ตำแหน่งของคุณ", exact=False).wait_for()
    page.get_by_role("button", name="ข้าม / Skip").click()
    page.get_by_role("button", name="สารบรรณ").click()
    log.get_by_text("แนบรูปหรือไฟล์ได้", exact=False).wait_for()


def test_a_picture_goes_through_the_file_picker_into_the_ticket(  # type: ignore[no-untyped-def]
    chat, screenshots: Path, runtime: Runtime
) -> None:
    page, size = chat
    to_the_question(page)
    picture = png_bytes()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="แนบรูปหรือไฟล์ / Attach images or files").click()
    chooser.value.set_files(
        [
            {"name": "หน้าจอระบบสารบรรณ.png", "mimeType": "image/png", "buffer": picture},
            {"name": "ตัวอย่างหนังสือ.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n%%EOF\n"},
        ]
    )
    tray = page.locator("#tray")
    assert tray.locator("li").count() == 2
    page.get_by_role("button", name="เอาออก ตัวอย่างหนังสือ.pdf / Remove ตัวอย่างหนังสือ.pdf").wait_for()
    page.locator("#text").fill("ลงทะเบียนรับหนังสือแบบนี้ถูกต้องไหมคะ")
    page.screenshot(path=str(screenshots / f"webchat-attach-{size}.png"))
    page.locator("#text").press("Enter")

    log = page.locator("#log")
    log.get_by_text("รับเรื่องแล้ว เลขที่ CL-2569-00001", exact=False).wait_for()
    assert tray.is_hidden()
    mine = log.locator(".bubble.user").last
    image = mine.get_by_role("img", name="หน้าจอระบบสารบรรณ.png")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=image.element_handle())
    assert mine.get_by_role("link", name="ตัวอย่างหนังสือ.pdf", exact=False).get_attribute("download") == (
        "ตัวอย่างหนังสือ.pdf"
    )
    assert mine.locator("time").inner_text() == "25 พ.ย. 2569 10:00 น."
    assert mine.locator("time").get_attribute("datetime") == "2026-11-25T03:00:00+00:00"
    page.screenshot(path=str(screenshots / f"webchat-upload-{size}.png"))

    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        files = [(a.filename, a.content) for m in ticket.messages for a in m.attachments]
    assert files[0] == ("หน้าจอระบบสารบรรณ.png", picture)
    assert files[1][0] == "ตัวอย่างหนังสือ.pdf"


def test_drag_and_drop_and_pasted_images_join_the_tray_and_wrong_files_are_named(chat, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    page, size = chat
    page.evaluate(
        "b64 => { window.__png = Uint8Array.from(atob(b64), c => c.charCodeAt(0)); }",
        base64.b64encode(png_bytes(80, 80)).decode(),
    )
    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File([window.__png], "dropped.png", {type: "image/png"}));
          dt.items.add(new File(["MZ"], "setup.exe", {type: "application/x-msdownload"}));
          document.body.dispatchEvent(new DragEvent("dragenter", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    page.locator("#drop").wait_for()
    page.screenshot(path=str(screenshots / f"webchat-drop-{size}.png"))
    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File([window.__png], "dropped.png", {type: "image/png"}));
          dt.items.add(new File(["MZ"], "setup.exe", {type: "application/x-msdownload"}));
          document.body.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    assert "“setup.exe” ไม่ใช่ชนิดที่รับได้" in page.locator("#error").inner_text()
    page.evaluate(
        """() => {
          const pasted = new DataTransfer();
          pasted.items.add(new File([window.__png], "image.png", {type: "image/png"}));
          document.getElementById("text").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: pasted, bubbles: true, cancelable: true}));
        }"""
    )
    assert page.locator("#drop").is_hidden()
    assert page.locator("#tray .name").all_inner_texts() == ["dropped.png", "image.png"]
    page.screenshot(path=str(screenshots / f"webchat-tray-{size}.png"))


def test_the_composer_grows_counts_and_never_cuts_a_paste(chat, screenshots: Path, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    page, size = chat
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.live_server)
    box = page.locator("#text")
    one_line = box.bounding_box()["height"]
    box.press_sequentially("บรรทัดแรก")
    box.press("Shift+Enter")
    box.press_sequentially("บรรทัดที่สอง")
    assert box.input_value() == "บรรทัดแรก\nบรรทัดที่สอง"  # Shift+Enter: a new line, nothing sent
    two_lines = box.bounding_box()["height"]
    assert two_lines > one_line + 15
    box.fill("\n".join(f"บรรทัด {n}" for n in range(1, 13)))
    tallest = box.bounding_box()["height"]
    assert 6 * 24 <= tallest <= 7 * 24 + 20  # about six lines, then it scrolls
    assert page.evaluate("() => getComputedStyle(document.getElementById('text')).overflowY") == "auto"

    counter = page.locator("#counter")
    box.fill("ก" * 1799)
    assert counter.is_hidden()
    box.fill("ก" * 1800)
    assert counter.inner_text() == "1,800 / 2,000"

    # A paste that would go over the limit is refused whole, with a message; nothing is cut.
    page.evaluate("text => navigator.clipboard.writeText(text)", "ข" * 500)
    box.focus()
    page.keyboard.press("End")
    page.keyboard.press("ControlOrMeta+V")
    assert box.input_value() == "ก" * 1800
    error = page.locator("#error")
    assert "ไม่ได้วางข้อความ" in error.inner_text() and "2,300" in error.inner_text()
    page.screenshot(path=str(screenshots / f"webchat-composer-{size}.png"))
    # One that fits goes in whole.
    page.evaluate("text => navigator.clipboard.writeText(text)", "ข" * 150)
    page.keyboard.press("ControlOrMeta+V")
    assert box.input_value() == "ก" * 1800 + "ข" * 150
    assert counter.inner_text() == "1,950 / 2,000"

    # Typed past the limit: shown as too long and not sent.
    box.fill("ค" * 2001)
    assert "2,001 / 2,000" in counter.inner_text() and box.get_attribute("aria-invalid") == "true"
    box.press("Enter")
    error.get_by_text("ส่งได้ครั้งละไม่เกิน 2,000 ตัวอักษร", exact=False).wait_for()
    assert box.input_value() == "ค" * 2001
    page.screenshot(path=str(screenshots / f"webchat-too-long-{size}.png"))


def test_a_staff_reply_while_hidden_counts_in_the_title_and_notifies(  # type: ignore[no-untyped-def]
    chat, screenshots: Path, runtime: Runtime
) -> None:
    page, size = chat
    to_the_question(page)
    notify = page.locator("#notify")
    assert notify.is_hidden()  # never asked on load, nor during the intake
    page.locator("#text").fill("หนังสือภายนอกที่ได้รับทางอีเมล ต้องลงทะเบียนรับอย่างไร")
    page.locator("#text").press("Enter")
    page.locator("#log").get_by_text("รับเรื่องแล้ว", exact=False).wait_for()
    notify.wait_for()  # after the first question
    assert page.evaluate("() => Notification.permission") == "default"
    page.screenshot(path=str(screenshots / f"webchat-notify-offer-{size}.png"))
    page.context.grant_permissions(["notifications"], origin=page.live_server)  # the person says yes
    page.get_by_role("button", name="เปิดแจ้งเตือน / Turn on").click()
    notify.wait_for(state="hidden")
    assert page.evaluate("() => Notification.permission") == "granted"

    # The person switches to another tab.
    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        tickets.reply(session, ticket, body="ลงทะเบียนรับในวันที่ได้รับอีเมลค่ะ", now=runtime.clock.now(), actor="test")
        reply_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "reply")).one()
    assert deliver_outbox(reply_id) == "sent"
    page.clock.run_for(POLL_MS + 100)
    page.wait_for_function("title => document.title === '(1) ' + title", arg=TITLE)
    assert page.evaluate("() => window.__notifications") == [
        {"title": "เจ้าหน้าที่ตอบแล้ว / Staff replied", "body": "ลงทะเบียนรับในวันที่ได้รับอีเมลค่ะ"}
    ]

    # Back on the tab: the count goes.
    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    assert page.title() == TITLE
    staff = page.locator(".bubble.staff").last
    assert staff.locator(".who").inner_text() == "เจ้าหน้าที่ / Staff"
    assert staff.locator("time").inner_text() == "25 พ.ย. 2569 10:00 น."
    page.screenshot(path=str(screenshots / f"webchat-staff-reply-{size}.png"))
    # A reply seen with the tab open is not counted.
    page.clock.run_for(POLL_MS + 100)
    assert page.title() == TITLE


def test_keyboard_order_names_contrast_and_the_shipped_font(chat) -> None:  # type: ignore[no-untyped-def]
    page, _ = chat
    page.locator("body").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # from the message box: the send button
    assert page.evaluate("() => document.activeElement.id") == "send"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.id") == "attach"  # the hidden file input is skipped
    # The choices are reachable and named; the log can be focused to scroll it.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "อื่น ๆ"
    assert page.get_by_role("log", name="ข้อความในการสนทนา / Conversation").get_attribute("tabindex") == "0"
    assert page.get_by_role("textbox", name="ข้อความ / Message").is_visible()
    # Text on its background: 4.5:1 at least (WCAG AA).
    for selector in (".bubble.bot .text", ".bubble.bot time", "#hint", ".chat-header p", ".chat-buttons button"):
        if page.locator(selector).first.is_visible():
            assert page.evaluate(CONTRAST, selector) >= 4.5, selector
    fonts = page.evaluate(
        """async () => { await document.fonts.ready;
          return [...document.fonts].filter(f => f.family.replace(/"/g, "") === "Sarabun").map(f => f.status); }"""
    )
    assert "loaded" in fonts
