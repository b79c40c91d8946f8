"""The knowledge base in Chromium: the list, an article's edit page, and agent assist on a ticket page
(insert an answer with its reference into the reply; a closed ticket becomes a draft). Screenshots at
1280 and 390 px go to tests/screenshots/kb-*.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clinic import knowledge, tickets
from clinic.models import AnswerOffer
from clinic.runtime import Runtime
from tests import factories
from tests.test_knowledge import load_sample

pytestmark = pytest.mark.browser


def _log_in(page: Page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("กล่องเรื่อง")


def _shoot(page: Page, screenshots: Path, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshots / f"{name}-390.png"), full_page=True)
    # Nothing may stick out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 900})


def test_supervisor_manages_articles_in_the_browser(
    page: Page, live_server: str, runtime: Runtime, screenshots: Path
) -> None:
    load_sample(runtime)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=now, username="boss", role="supervisor")
        knowledge.approve(session, knowledge.get(session, "saraban-kinds"), now=now, staff=boss)  # type: ignore[arg-type]
        for key in ("saraban-urgency", "ceremony-flag-time"):
            knowledge.get(session, key).starter = True  # type: ignore[union-attr]
        knowledge.set_status(session, knowledge.get(session, "ceremony-half-mast"), "retired", now=now, staff=boss)  # type: ignore[arg-type]
    _log_in(page, live_server, "boss")

    page.click("nav.mainnav >> text=คลังความรู้")
    expect(page.locator("h1")).to_have_text("คลังความรู้")
    expect(page.locator("article.kb-item")).to_have_count(6)
    page.fill("input[name=q]", "ตราครุฑสูงกี่ซม")
    page.click("#kb-filters button[type=submit]")
    expect(page.locator("article.kb-item").first).to_have_attribute("data-key", "saraban-garuda")
    expect(page.locator("article.kb-item").first.locator(".kb-strength-high")).to_be_visible()
    page.goto(f"{live_server}/kb")
    _shoot(page, screenshots, "kb-list")

    # Edit: a Buddhist Era date is accepted and shown back; the approval goes with the old text.
    page.goto(f"{live_server}/kb/article/saraban-kinds/edit")
    page.fill("input[name=effective_date]", "31/02/2569")
    page.click("form.kb-form button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("There is no such date")
    expect(page.locator("input[name=effective_date]")).to_have_value("31/02/2569")
    _shoot(page, screenshots, "kb-edit")
    page.fill("input[name=effective_date]", "25/05/2564")
    page.click("form.kb-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("บันทึกแล้ว")
    expect(page.locator(".kb-facts")).to_contain_text("25 พ.ค. 2564")
    expect(page.locator(".kb-unapproved")).to_be_visible()
    page.click("form[action$='/approve'] button")
    expect(page.locator(".kb-approved")).to_contain_text("อนุมัติโดย boss")
    expect(page.locator(".kb-history li")).to_have_count(4)  # created, approved, edited, approved
    _shoot(page, screenshots, "kb-article")


def test_agent_assist_on_the_ticket_page(page: Page, live_server: str, runtime: Runtime, screenshots: Path) -> None:
    load_sample(runtime)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now, username="somsri", role="agent")
        earlier = factories.ticket(session, now=now - timedelta(days=3), body="ตราครุฑบนหนังสือภายนอกต้องใหญ่แค่ไหนคะ")
        tickets.close(session, earlier, now=now - timedelta(days=2), final_answer="ครุฑสูง 3 ซม. ตามระเบียบข้อ 71 ค่ะ")
        ticket = factories.ticket(session, now=now, body="ตราครุฑบนหนังสือภายนอกสูงกี่เซนติเมตรคะ ต้องส่งด่วน")
        session.add(AnswerOffer(requester_id=ticket.requester_id, channel="line", agency_type_code="district",
                                topic_code="saraban", question=ticket.subject, asked_at=now,
                                article_keys=["saraban-garuda", "saraban-urgency"], scores=[0.45, 0.3],
                                outcome="asked_staff", ticket_id=ticket.id))  # fmt: skip
        number, earlier_number = ticket.number, earlier.number
    _log_in(page, live_server, "somsri")
    page.goto(f"{live_server}/tickets/{number}")
    panel = page.locator("#kb-assist")
    expect(panel.locator(".kb-shown")).to_have_count(2)
    expect(panel.locator(".kb-shown").first).to_contain_text("ผู้ขอได้อ่านบทความนี้แล้ว")
    best = panel.locator('.kb-card[data-key="saraban-garuda"]').last
    expect(best).to_contain_text("ความตรงกับคำถาม")
    expect(panel.locator(f'.kb-similar[data-ticket="{earlier_number}"]')).to_contain_text("ครุฑสูง 3 ซม.")
    page.locator("#kb-assist details").first.click()  # one answer opened in full
    _shoot(page, screenshots, "kb-assist")

    # One click: the article's answer and its reference land in the reply box.
    page.fill("#reply-form textarea", "เรียน คุณสมชาย")
    best.locator(".kb-insert").click()
    with runtime.db.transaction() as session:
        article = knowledge.get(session, "saraban-garuda")
        assert article is not None
        expected = f"เรียน คุณสมชาย\n\n{article.answer}\nอ้างอิง: {article.reference}"
    expect(page.locator("#reply-form textarea")).to_have_value(expected)
    page.locator(f'.kb-similar[data-ticket="{earlier_number}"] .kb-insert').click()
    expect(page.locator("#reply-form textarea")).to_have_value(expected + "\n\nครุฑสูง 3 ซม. ตามระเบียบข้อ 71 ค่ะ")

    # A closed ticket: one click makes a draft article and opens it for editing.
    page.goto(f"{live_server}/tickets/{earlier_number}")
    expect(page.locator("#kb-assist .kb-insert")).to_have_count(0)
    page.click("text=ทำเป็นร่างบทความ")
    expect(page.locator("h1")).to_have_text("แก้ไขบทความ")
    expect(page.locator("textarea[name=answer]")).to_have_value("ครุฑสูง 3 ซม. ตามระเบียบข้อ 71 ค่ะ")
    with runtime.db.transaction() as session:
        draft = knowledge.get(session, f"ticket-{earlier_number.lower()}")
        assert draft is not None and draft.status == "draft"
        assert draft.source_ticket_id is not None
