import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from clinic import kpi, kpi_export, report
from clinic.runtime import Runtime
from tests.kpi_quarter import bangkok, replay

ROOT = Path(__file__).resolve().parent.parent
Q1_2570 = kpi.Period.fiscal_quarter(2570, 1)
NOW = bangkok(2027, 1, 10, 9, 0)


def _clinic(config_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "manage", *args], env={**os.environ, **config_env}, capture_output=True, cwd=ROOT,
        timeout=120,
    )  # fmt: skip


RAW_CODES = {"open", "answered", "closed", "line", "messenger", "web", "import", "within", "missed", "pending",
             "completed", "not_sent", "expired", "cancelled"}  # fmt: skip


def _assert_no_raw_codes(rows: list) -> None:  # type: ignore[type-arg]
    """No cell of a ticket row is a bare stored code (`closed`, `web`, `not_sent`, ...)."""
    for row in rows:
        for value in row:
            assert not (isinstance(value, str) and value.strip() in RAW_CODES), (value, row)  # `LINE` is a name


def test_file_names_carry_the_period() -> None:
    assert kpi_export.file_name(Q1_2570, "xlsx") == "clinic-kpi-q1-2570-1.10.2569-31.12.2569.xlsx"
    so_far = kpi.Period(Q1_2570.first, Q1_2570.first.replace(month=11, day=26), "quarter", 2570, 1)
    assert kpi_export.file_name(so_far, "csv") == "clinic-kpi-q1-2570-1.10.2569-26.11.2569.csv"
    assert kpi_export.file_name(kpi.Period.parse("2026-12-01", "2026-12-31"), "csv") == (
        "clinic-kpi-1.12.2569-31.12.2569.csv"
    )


def test_csv_has_one_row_per_ticket_with_its_survey_scores(runtime: Runtime) -> None:
    replay(runtime)
    out = io.StringIO()
    with runtime.db.transaction() as session:
        written = kpi_export.write_csv(out, kpi_export.ticket_rows(session, Q1_2570, NOW))
    text = out.getvalue()
    assert written == 16 and text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][0] == "เลขที่เรื่อง / Number" and len(rows) == 17
    first = dict(zip([key for key, _ in kpi_export.COLUMNS], rows[1], strict=True))
    # Bangkok time, as the desk shows it (Buddhist Era), and ISO 8601 beside it for machines
    assert (first["posted_at"], first["posted_at_iso"]) == ("1 ต.ค. 2569 00:00 น.", "2026-10-01T00:00+07:00")
    assert first["sla"] == "ภายใน 1 วัน / Within 1 day"
    assert first["status"] == "ปิดแล้ว / Closed"
    assert first["channel"] in ("LINE", "Facebook Messenger", "เว็บแชต / Web chat")
    assert first["agency"] == "สำนักงานเขตพระนคร" and first["agency_type"] == "สำนักงานเขต"
    assert (first["convenience"], first["overall"], first["suggestion"]) == ("5", "5", "คำแนะนำชัดเจน เข้าใจง่าย")
    missed = dict(zip([key for key, _ in kpi_export.COLUMNS], rows[2], strict=True))
    assert missed["sla"] == "เกิน 1 วัน / Over 1 day" and missed["timeliness"] == "2"
    assert rows[-1][1:3] == ["31 ธ.ค. 2569 23:59 น.", "2026-12-31T23:59+07:00"]
    _assert_no_raw_codes(rows[1:])


def test_xlsx_opens_with_openpyxl_and_holds_the_same_numbers(runtime: Runtime, tmp_path: Path) -> None:
    replay(runtime)
    path = tmp_path / "kpi.xlsx"
    with runtime.db.transaction() as session:
        figures = kpi.compute(session, Q1_2570, NOW)
        assert kpi_export.write_xlsx(str(path), figures, kpi_export.ticket_rows(session, Q1_2570, NOW)) == 16
    book = load_workbook(path)
    assert book.sheetnames == ["สรุป Summary", "รายเรื่อง Tickets", "ตอบทันที Self-service"]
    summary = {row[0]: row[1:] for row in book["สรุป Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["จำนวนเรื่องที่ขอรับคำปรึกษา / Consultations"][0] == 16
    assert summary["จำนวนผู้ใช้บริการ (คน) / Requesters"][0] == 7
    assert summary["แล้วเสร็จภายใน 1 วัน / Completed within SLA"][0] == 13
    assert summary["ตัวชี้วัดที่ 1 ร้อยละ / KPI 1 percent"][0] == 81.3
    assert summary["ตัวชี้วัดที่ 2 ร้อยละ / KPI 2 percent"][0] == 81.3
    assert summary["สำนักหรือสำนักงาน ก.ก."][:3] == (5, 2, 31.3)
    assert summary["ด้านสารบรรณ"][:3] == (9, 6, 56.3)
    convenience = next(value for key, value in summary.items() if key.startswith("3.1 "))
    assert convenience[:4] == (16, 15, 93.8, 4.63)
    tickets = list(book["รายเรื่อง Tickets"].iter_rows(values_only=True))
    assert len(tickets) == 17
    header = tickets[0]
    overall = [row[header.index("3.4 ภาพรวม / Overall")] for row in tickets[1:]]
    assert sum(1 for score in overall if score >= 4) == 13
    assert tickets[1][header.index("เวลาที่ถาม (กรุงเทพฯ) / Posted (Bangkok)")] == "1 ต.ค. 2569 00:00 น."
    posted = tickets[1][header.index("เวลาที่ถาม ISO 8601 / Posted (ISO 8601)")]
    assert (posted.year, posted.month, posted.day, posted.hour) == (2026, 10, 1, 0)
    _assert_no_raw_codes(tickets[1:])
    # A sheet to work in: widths set, the header row frozen, filters on every column.
    sheet = book["รายเรื่อง Tickets"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(kpi_export.COLUMNS))}17"
    widths = {sheet.column_dimensions[get_column_letter(n)].width for n in range(1, len(kpi_export.COLUMNS) + 1)}
    assert min(widths) >= 16 and max(widths) == 60
    assert book["สรุป Summary"].column_dimensions["A"].width == 60
    # The heading names the period; survey statuses are words.
    heading = book["สรุป Summary"]["A1"].value
    assert "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570" in heading and "31 ธันวาคม 2569" in heading
    assert "ส่งไม่ได้ (ช่องทางไม่อนุญาต) / Not sent (the channel does not allow it)" in summary
    assert "not_sent" not in summary and "completed" not in summary


def test_report_reads_like_section_6(runtime: Runtime) -> None:
    replay(runtime)
    with runtime.db.transaction() as session:
        built = report.build(kpi.compute(session, Q1_2570, NOW), NOW)
    assert built.heading_th == "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570"
    assert "ระหว่างวันที่ 1 ตุลาคม 2569 - 31 ธันวาคม 2569" in built.users_th
    assert "จำนวน 7 คน" in built.users_th and "16 เรื่อง" in built.users_th
    assert [(line.number, line.count, line.percent) for line in built.by_agency_type][:2] == [
        ("(1)", 5, "ร้อยละ 31.3"), ("(2)", 6, "ร้อยละ 37.5"),
    ]  # fmt: skip
    assert built.sla_th.endswith("13 จาก 16 เรื่อง คิดเป็นร้อยละ 81.3")
    assert [(line.number, line.percent) for line in built.items] == [
        ("3.1", "ร้อยละ 93.8"), ("3.2", "ร้อยละ 68.8"), ("3.3", "ร้อยละ 87.5"), ("3.4", "ร้อยละ 81.3"),
    ]  # fmt: skip
    assert built.suggestions[0] == ("4.1", "คำแนะนำชัดเจน เข้าใจง่าย")


def test_clinic_kpi_command_gives_the_same_figures_in_every_format(
    runtime: Runtime, config_env: dict[str, str], tmp_path: Path
) -> None:
    replay(runtime)
    with runtime.db.transaction() as session:
        expected = kpi.compute(session, kpi.Period.parse("2026-10-01", "2026-12-31"), runtime.clock.now()).to_dict()
    done = _clinic(config_env, "kpi", "--from", "2026-10-01", "--to", "2026-12-31", "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    data = json.loads(done.stdout)
    data["period"].pop("computed_at"), expected["period"].pop("computed_at")
    assert data == expected
    assert (data["consultations"], data["sla_percent"], data["satisfaction_percent"]) == (16, 81.3, 81.3)

    xlsx = tmp_path / "q1.xlsx"
    done = _clinic(config_env, "kpi", "--from", "2026-10-01", "--to", "2026-12-31", "--format", "xlsx",
                   "--output", str(xlsx))  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    summary = {row[0]: row[1] for row in load_workbook(xlsx)["สรุป Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["ตัวชี้วัดที่ 1 ร้อยละ / KPI 1 percent"] == 81.3

    done = _clinic(config_env, "kpi", "--from", "2026-10-01", "--to", "2026-12-31", "--format", "csv")
    assert done.returncode == 0 and len(done.stdout.decode("utf-8-sig").splitlines()) == 17

    bad = _clinic(config_env, "kpi", "--from", "2026-12-31", "--to", "2026-10-01")
    assert bad.returncode == 2 and "วันสิ้นสุดอยู่ก่อนวันเริ่มต้น" in bad.stderr.decode()
    bad = _clinic(config_env, "kpi", "--from", "1/10/2569", "--to", "2026-10-01")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr.decode()
