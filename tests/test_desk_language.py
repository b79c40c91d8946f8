"""What a person reads: English mode has no Thai outside requester data and names; Thai mode no raw codes.

The pages are drawn by the Flask test client and their visible text (text nodes, the page
title, placeholders) is read with the standard library's HTML parser. Screenshots of the
KPI page, the audit trail and the 404 page come from Chromium at 1280 and 390 px.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic import audit, canned_answers, staff, tickets
from clinic.models import Agency, AgencyType, CannedAnswer, Message, Requester, StaffUser, SurveyItem, Ticket, Topic
from clinic.runtime import Runtime
from tests import factories
from tests.kpi_quarter import bangkok, replay

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
THAI = re.compile(r"[\u0e00-\u0e7f]+")
TIME_LEFT = re.compile(r"(เกิน )?(\d+ วัน ?)?(\d+ ชม\. ?)?(\d+ นาที)?")
RAW_CODES = {
    "open", "answered", "closed", "line", "messenger", "web", "import", "agent", "supervisor", "admin",
    "pending", "completed", "not_sent", "expired", "cancelled", "sending", "failed", "undeliverable",
    "convenience", "timeliness", "usefulness", "overall", "within_sla", "true", "false", "null",
}  # fmt: skip
PAGES = [
    "/inbox", "/inbox?status=all", "/admin/staff", "/admin/agencies", "/admin/topics", "/admin/canned",
    "/admin/sla", "/admin/survey", "/admin/audit", "/kpi?fy=2570&q=1", "/kpi/report?fy=2570&q=1",
    "/account/line", "/no-such-page",
]  # fmt: skip


class VisibleText(HTMLParser):
    """Text a person sees: text nodes outside script and style, the title, placeholders and titles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("placeholder", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def _login(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def _language(client, lang: str) -> None:  # type: ignore[no-untyped-def]
    token = CSRF.search(client.get("/inbox").get_data(as_text=True)).group(1)
    client.post("/language", data={"lang": lang, "csrf_token": token, "next": "/inbox"})


@pytest.fixture
def desk_day(runtime: Runtime) -> dict[str, str]:
    """A desk after a day's work: tickets in every state, replies, notes, staff changes, an export."""
    replay(runtime)
    runtime.clock.set(bangkok(2027, 1, 10, 9, 0))
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=now, username="boss", role="admin")
        boss.display_name = "บุญมี"
        somsri = factories.staff_user(session, now=now, username="somsri", role="agent")
        answered = factories.ticket(session, now=now, channel="web", user_id="web-1", body="ขอแบบฟอร์มหนังสือภายใน")
        answered.requester.person_name = "สมหญิง รักงาน"
        tickets.reply(session, answered, body="ส่งแบบฟอร์มให้แล้วครับ", now=now, staff=somsri)
        tickets.add_note(session, answered, body="ตรวจสอบกับงานสารบรรณแล้ว", now=now, staff=somsri)
        tickets.assign(session, answered, assignee=somsri, now=now, staff=boss)
        tickets.reclassify(session, answered, now=now, staff=boss, topic_code="letters", agency_type_code="bureau")
        waiting = factories.ticket(session, now=now, channel="messenger", user_id="fb-1", body="ถามเรื่องพิธีการ")
        done = factories.ticket(session, now=now + timedelta(minutes=5), channel="line", user_id="U1" + "0" * 31)
        tickets.close(session, done, final_answer="ตามระเบียบข้อ 11", now=now + timedelta(hours=1), staff=somsri)
        staff.update_user(session, somsri, now=now, by=boss, role="supervisor")
        canned_answers.create(session, title="ตอบรับเรื่อง", body="เรียน {ชื่อ}", now=now, staff=boss)
        audit.record(session, now=now, action="kpi.export", staff=boss, target_type="kpi",
                     target_id="2026-10-01..2026-12-31", format="xlsx")  # fmt: skip
        audit.record(session, now=now, action="staff.login_failed", actor="nobody", address="10.0.0.9")
        return {"answered": answered.number, "waiting": waiting.number, "closed": done.number}


def _data_strings(runtime: Runtime) -> list[str]:
    """Requester data and proper names: what may stay Thai in English mode."""
    with runtime.db.transaction() as session:
        # The language switch names its language in that language; the placeholders are what admins type.
        found: list[str] = ["ไทย", *(f"{{{name}}}" for name in canned_answers.PLACEHOLDERS)]
        found += [row for row in session.scalars(select(Ticket.subject))]
        found += [row for row in session.scalars(select(Message.body))]
        found += [n for r in session.scalars(select(Requester)) for n in (r.person_name, r.display_name, r.position)]
        found += [a.name_th for a in session.scalars(select(Agency))]
        found += [r.agency_other for r in session.scalars(select(Requester))]
        found += [s.display_name for s in session.scalars(select(StaffUser))]
        found += [t for i in session.scalars(select(SurveyItem)) for t in (i.text_th,)]
        found += [t for c in session.scalars(select(CannedAnswer)) for t in (c.title, c.body, c.regulation_ref)]
        found += [t for row in session.scalars(select(Topic)) for t in (row.label_th, row.short_th)]
        found += [t for row in session.scalars(select(AgencyType)) for t in (row.label_th, row.short_th)]
        found += ["คำแนะนำชัดเจน เข้าใจง่าย", "ระยะเวลาในการให้คำแนะนำอาจใช้เวลานานไปนิด แต่ก็พอได้"]  # suggestions
    return sorted({text for text in found if text}, key=len, reverse=True)


def _pages(desk_day: dict[str, str]) -> list[str]:
    return PAGES + [f"/tickets/{number}" for number in desk_day.values()]


def test_english_mode_shows_no_thai_outside_requester_data_and_names(app, runtime: Runtime, desk_day) -> None:  # type: ignore[no-untyped-def]
    client = _login(app, "boss")
    _language(client, "en")
    data = _data_strings(runtime)
    problems = []
    for path in _pages(desk_day):
        if path.startswith("/kpi/report"):
            continue  # the quarterly report is the office's Thai document (seed section 6), in both modes
        response = client.get(path)
        assert response.status_code in (200, 404), path
        for text in visible_text(response.get_data(as_text=True)):
            for known in data:
                text = text.replace(known, "")
            # Time left (`1 วัน 2 ชม.`) is drawn by the live countdown of issue 14 item 1 (another branch).
            text = TIME_LEFT.sub("", text)
            if THAI.search(text):
                problems.append(f"{path}: {text!r}")
    assert problems == [], "\n".join(problems)


def test_thai_mode_shows_no_raw_codes(app, runtime: Runtime, desk_day) -> None:  # type: ignore[no-untyped-def]
    client = _login(app, "boss")
    problems = []
    for path in _pages(desk_day):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        for text in visible_text(response.get_data(as_text=True)):
            words = set(re.findall(r"[a-z_]+(?:\.[a-z_]+)*", text))
            raw = {w for w in words if w in RAW_CODES or re.fullmatch(r"[a-z_]+\.[a-z_]+", w)}
            if raw or "{" in text and '":' in text:
                problems.append(f"{path}: {sorted(raw)} in {text!r}")
    assert problems == [], "\n".join(problems)


def test_audit_trail_reads_as_sentences(app, runtime: Runtime, desk_day) -> None:  # type: ignore[no-untyped-def]
    client = _login(app, "boss")
    thai = visible_text(client.get("/admin/audit").get_data(as_text=True))
    closed = desk_day["closed"]
    assert f"somsri ปิดเรื่อง {closed} (ทันเวลา)" in thai
    assert f"บุญมี มอบหมายเรื่อง {desk_day['answered']} ให้ somsri" in thai
    assert any(
        line.startswith(f"บุญมี แก้ไขการจัดประเภทเรื่อง {desk_day['answered']} — หัวข้อ: ด้านสารบรรณ → ")
        and "ประเภทหน่วยงาน: สำนักงานเขต → สำนักหรือสำนักงาน ก.ก." in line
        for line in thai
    ), thai
    assert "บุญมี แก้ไขบัญชีเจ้าหน้าที่ somsri — บทบาท: เจ้าหน้าที่ → หัวหน้างาน" in thai
    assert "บุญมี ส่งออกตัวชี้วัด ช่วง 1 ต.ค. 2569 - 31 ธ.ค. 2569 เป็นไฟล์ XLSX" in thai
    assert "nobody เข้าสู่ระบบไม่สำเร็จ จาก 10.0.0.9" in thai
    _language(client, "en")
    english = visible_text(client.get("/admin/audit").get_data(as_text=True))
    assert f"somsri closed {closed} (within the deadline)" in english
    assert "บุญมี changed the staff account somsri — role: Agent → Supervisor" in english


def test_error_pages_are_the_desk_s_in_both_languages(app, client, runtime: Runtime, desk_day) -> None:  # type: ignore[no-untyped-def]
    # A first visit: the login form, without the red "please log in" banner.
    first = client.get("/", follow_redirects=True)
    assert first.request.path == "/login" and "flash-error" not in first.get_data(as_text=True)
    assert "กรุณาเข้าสู่ระบบ" not in first.get_data(as_text=True)

    anonymous = client.get("/no-such-page")
    assert anonymous.status_code == 404 and "ไม่พบหน้าที่ต้องการ" in anonymous.get_data(as_text=True)
    agent = _login(app, "somsri")  # a supervisor by now, not an admin
    forbidden = agent.get("/admin/staff")
    assert forbidden.status_code == 403
    assert "คุณไม่มีสิทธิ์เปิดหน้านี้" in forbidden.get_data(as_text=True) and 'class="topbar"' in forbidden.get_data(
        as_text=True
    )
    _language(agent, "en")
    assert "You may not open this page" in agent.get("/admin/staff").get_data(as_text=True)
    missing = agent.get("/tickets/CL-2569-99999")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)

    # The JSON API and the channels keep their own answers.
    api = client.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.json["error"]["status"] == 404
    assert client.get("/api/v1/tickets").json["error"]["status"] == 401
    webhook = client.post("/webhook/line", data=b"{}")  # unsigned: refused with LINE's status, not a desk page
    assert webhook.status_code in (400, 401, 403) and 'class="topbar"' not in webhook.get_data(as_text=True)


def test_a_500_shows_the_desk_s_page_without_a_traceback(app, runtime: Runtime, desk_day) -> None:  # type: ignore[no-untyped-def]
    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("secret detail: password=hunter2")

    app.testing = False  # as in production: the error is handled, not re-raised into the test
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = _login(app, "boss")
    response = client.get("/boom-for-test")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "ระบบขัดข้อง" in html and 'class="topbar"' in html
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html


def _shoot(page: Page, path: str, base: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(path)
        page.evaluate("document.fonts.ready")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} overflows by {overflow}px at {width}px"
        page.screenshot(path=str(base / f"{name}-{width}.png"), full_page=True)


@pytest.mark.browser
def test_kpi_audit_and_404_pages_in_the_browser(
    page: Page, live_server: str, runtime: Runtime, desk_day, screenshots: Path
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/")
    expect(page.locator("form.login")).to_be_visible()
    expect(page.locator(".flash-error")).to_have_count(0)
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    _shoot(page, f"{live_server}/kpi?fy=2570&q=1", screenshots, "desk-kpi")
    _shoot(page, f"{live_server}/admin/audit", screenshots, "desk-audit")
    expect(page.locator("table.audit")).to_contain_text("ปิดเรื่อง")
    _shoot(page, f"{live_server}/no-such-page", screenshots, "desk-404")
    expect(page.locator("#error h1")).to_have_text("ไม่พบหน้าที่ต้องการ")
    with page.expect_navigation():  # (SLA toasts may cover the switch on a small screen; issue 14 item 2)
        page.evaluate("document.querySelector('button[value=en]').click()")
    _shoot(page, f"{live_server}/admin/audit", screenshots, "desk-audit-en")
    expect(page.locator("table.audit")).to_contain_text("closed")
