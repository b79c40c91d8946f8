"""The desk's KPI page, printable report, exports and GET /api/v1/kpi, on the replayed quarter."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic import api_tokens, kpi
from clinic.models import AuditEntry
from clinic.runtime import Runtime
from desk.kpi import period_from
from tests import factories
from tests.kpi_quarter import bangkok, replay

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
Q1 = "fy=2570&q=1"
SARABUN_LOADED = """async () => {
    await document.fonts.ready;
    return [...document.fonts].some(f => f.family.replace(/"/g, "") === "Sarabun" && f.status === "loaded");
}"""


@pytest.fixture
def staff_client(app, runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "somsri", "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


@pytest.fixture
def quarter(runtime: Runtime) -> None:
    replay(runtime)
    runtime.clock.set(bangkok(2027, 1, 10, 9, 0))


@pytest.fixture
def bearer(runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as session:
        return {"Authorization": f"Bearer {api_tokens.create(session, name='reports', now=runtime.clock.now())[1]}"}


def test_period_from_the_query_string() -> None:
    today = date(2026, 11, 25)
    assert period_from({}, today) == kpi.Period(date(2026, 10, 1), today, "quarter", 2570, 1)
    assert period_from({"fy": "2569", "q": "4"}, today) == kpi.Period.fiscal_quarter(2569, 4)
    assert period_from({"from": "2026-10-01", "to": "2026-10-31"}, today) == kpi.Period.between(
        date(2026, 10, 1), date(2026, 10, 31)
    )
    cumulative = period_from({"cumulative": "2020-11-01"}, today)
    assert (cumulative.kind, cumulative.first, cumulative.last) == ("cumulative", date(2020, 11, 1), today)
    for bad in ({"fy": "x", "q": "1"}, {"fy": "2026", "q": "1"}, {"fy": "2570", "q": "5"}, {"from": "2026-10-01"}):
        with pytest.raises(kpi.KpiError):
            period_from(bad, today)


def test_the_page_s_dates_are_buddhist_era_both_ways(staff_client, quarter) -> None:  # type: ignore[no-untyped-def]
    html = staff_client.get(f"/kpi?{Q1}").get_data(as_text=True)
    assert 'name="from" value="01/10/2569"' in html and 'name="to" value="31/12/2569"' in html
    assert 'type="date"' not in html  # the browser's own field shows 10/01/2026
    december = staff_client.get("/kpi?from=01/12/2569&to=31/12/2569").get_data(as_text=True)
    assert 'name="from" value="01/12/2569"' in december and "1 ธันวาคม 2569" in december
    refusals = (
        ("from=01/12/2026&to=31/12/2569", "พ.ศ."), ("from=31/02/2569&to=31/12/2569", "31/02/2569"),
        ("from=1-12-2569&to=31/12/2569", "YYYY-MM-DD"), ("from=aa/bb/cccc&to=31/12/2569", "วว/ดด/ปปปป"),
    )  # fmt: skip
    for bad, says in refusals:
        refused = staff_client.get(f"/kpi?{bad}")
        assert refused.status_code == 400 and says in refused.get_data(as_text=True), bad


def test_exports_cover_the_period_the_page_shows(staff_client, quarter, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.clock.set(bangkok(2026, 11, 26, 9, 0))  # mid-quarter: the page shows the quarter so far
    html = staff_client.get("/kpi").get_data(as_text=True)
    assert "ถึงวันที่ 26 พฤศจิกายน 2569" in html
    link = re.search(r'id="export-xlsx"|href="([^"]+)" id="export-xlsx"', html)
    assert link and link.group(1) and "to=2026-11-26" in link.group(1)
    response = staff_client.get(link.group(1).replace("&amp;", "&"))
    name = "clinic-kpi-q1-2570-1.10.2569-26.11.2569.xlsx"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    heading = load_workbook(io.BytesIO(response.get_data()))["สรุป Summary"]["A1"].value
    assert "26 พฤศจิกายน 2569" in heading and "31 ธันวาคม" not in heading
    report_link = re.search(r'href="([^"]+)" id="open-report"', html)
    assert report_link and "to=2026-11-26" in report_link.group(1)
    report_html = staff_client.get(report_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "26 พฤศจิกายน 2569" in report_html


def test_kpi_pages_need_a_login(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/kpi", "/kpi/report", "/kpi/export.csv", "/kpi/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_kpi_page_shows_the_quarter(staff_client, quarter) -> None:  # type: ignore[no-untyped-def]
    html = staff_client.get(f"/kpi?{Q1}").get_data(as_text=True)
    assert "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570" in html
    assert "81.3" in html and "93.8" in html and "31.3" in html and "56.3" in html
    assert "คำแนะนำชัดเจน เข้าใจง่าย" in html
    assert "https://" not in html.split("<body", 1)[1]  # nothing from a CDN


def test_a_bad_period_is_a_clear_error(staff_client) -> None:  # type: ignore[no-untyped-def]
    response = staff_client.get("/kpi?from=2026-12-31&to=2026-10-01")
    assert response.status_code == 400
    assert "วันสิ้นสุดอยู่ก่อนวันเริ่มต้น" in response.get_data(as_text=True)
    assert staff_client.get("/kpi/export.pdf").status_code == 400


def test_exports_download_and_are_audited(staff_client, quarter, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    csv_response = staff_client.get(f"/kpi/export.csv?{Q1}")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Disposition"] == (
        'attachment; filename="clinic-kpi-q1-2570-1.10.2569-31.12.2569.csv"'
    )
    assert len(csv_response.get_data().decode("utf-8-sig").splitlines()) == 17
    xlsx_response = staff_client.get(f"/kpi/export.xlsx?{Q1}")
    book = load_workbook(io.BytesIO(xlsx_response.get_data()))
    summary = {row[0]: row[1] for row in book["สรุป Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["ตัวชี้วัดที่ 1 ร้อยละ / KPI 1 percent"] == 81.3
    assert book["รายเรื่อง Tickets"].max_row == 17
    with runtime.db.transaction() as session:
        actions = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "kpi.export")).all()
        assert [detail["format"] for detail in actions] == ["csv", "xlsx"]


def test_api_kpi_requires_the_bearer_token_and_gives_the_figures(client, quarter, bearer) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/kpi?from=2026-10-01&to=2026-12-31").status_code == 401
    response = client.get("/api/v1/kpi?from=2026-10-01&to=2026-12-31", headers=bearer)
    assert response.status_code == 200
    data = response.json
    assert (data["consultations"], data["requesters"], data["completed_within_sla"]) == (16, 7, 13)
    assert (data["sla_percent"], data["respondents"], data["satisfied"], data["satisfaction_percent"]) == (
        81.3, 16, 13, 81.3,
    )  # fmt: skip
    assert [row["percent"] for row in data["by_agency_type"]] == [31.3, 37.5, 18.8, 6.3, 6.3]
    assert [(item["key"], item["mean"]) for item in data["items"]][0] == ("convenience", 4.63)
    assert data["suggestions"][0] == "คำแนะนำชัดเจน เข้าใจง่าย"
    for bad in ("from=2026-10-01", "from=2026-10-01&to=31/12/2569", "from=2026-12-31&to=2026-10-01",
                "from=2026-10-01&to=2026-12-31&fy=2570"):  # fmt: skip
        refused = client.get(f"/api/v1/kpi?{bad}", headers=bearer)
        assert refused.status_code == 400 and refused.json["error"]["message"]
    assert "/kpi" in client.get("/api/v1/openapi.json").json["paths"]


@pytest.mark.browser
def test_kpi_page_and_printable_report_in_the_browser(  # type: ignore[no-untyped-def]
    page: Page, live_server: str, runtime: Runtime, quarter, screenshots: Path
) -> None:
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    page.goto(f"{live_server}/kpi?{Q1}")
    page.fill("input[name=username]", "somsri")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/kpi\?fy=2570&q=1$"))
    expect(page.locator("#period")).to_contain_text("ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570")
    expect(page.locator("#kpi1 .big")).to_have_text("81.3%")
    expect(page.locator("#kpi2 .big")).to_have_text("81.3%")
    expect(page.locator('#by-agency-type tr[data-code="bureau"]')).to_contain_text("31.3")
    expect(page.locator('#items tr[data-key="timeliness"]')).to_contain_text("68.8")
    expect(page.locator("#months .col")).to_have_count(3)
    # The shipped Sarabun, not a system fallback, is what the page uses.
    assert page.evaluate(SARABUN_LOADED)
    page.screenshot(path=str(screenshots / "kpi-page-1280.png"), full_page=True)

    # The date form picks any range.
    expect(page.locator("input[name=from]")).to_have_value("01/10/2569")
    page.fill("input[name=from]", "01/12/2569")
    page.fill("input[name=to]", "31/12/2569")
    page.click("form.filters button")
    expect(page.locator("#volume .big")).to_have_text("7")

    page.goto(f"{live_server}/kpi?{Q1}")
    page.click("#open-report")
    expect(page.locator("#heading")).to_have_text("6. รายงานผลการดำเนินงาน : ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570")
    expect(page.locator("#by-topic")).to_contain_text("ด้านสารบรรณ")
    expect(page.locator("#sla")).to_contain_text("คิดเป็นร้อยละ 81.3")
    expect(page.locator('[data-item="3.4"]')).to_contain_text("ร้อยละ 81.3")
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Sarabun"') or family.startswith("Sarabun")
    assert page.evaluate(SARABUN_LOADED)
    page.screenshot(path=str(screenshots / "kpi-report.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    _check_printed_pages(pdf, screenshots)


def _check_printed_pages(pdf: bytes, screenshots: Path) -> None:
    """Numbered pages (`หน้า 1/2`), and no ink of a page's first line at the foot of the page before.

    Thai marks above a line reach above its line box; Chromium painted them (as whole glyphs,
    clipped) at the foot of the previous page, whose text then ends in a line made of pieces
    of the next page's first line (`ที่   ที่` before `2. เจ้าหน้าที่...ที่กำหนด`).
    """
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        if os.environ.get("CI"):
            pytest.fail("poppler-utils is missing: .ci/run installs it")
        pytest.skip("poppler-utils (pdftotext, pdftoppm) is not installed")
    path = screenshots / "kpi-report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(screenshots / "kpi-report-page")], check=True)

    def text(number: int) -> list[str]:
        done = subprocess.run(["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(path), "-"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]

    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    # Three pages for this quarter: the seed's sections 1-4, then 5 (the knowledge base's instant answers).
    assert re.search(r"^Pages:\s+3$", info, re.M), info
    pages = [text(1), text(2), text(3)]
    assert [page[-1] for page in pages] == ["หน้า 1/3", "หน้า 2/3", "หน้า 3/3"]
    assert pages[2][0].startswith("5. การตอบคำถามทันทีจากคลังความรู้")  # the heading stays with its lines
    last_before_footer, first_of_next = pages[0][-2], pages[1][0]
    leaked = all(piece in first_of_next for piece in last_before_footer.split())
    assert not leaked, (last_before_footer, first_of_next)
    (screenshots / "kpi-report.pdf").write_bytes(pdf)
