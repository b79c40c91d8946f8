"""KPI exports: one row per ticket with its survey scores (CSV and XLSX), and the figures.

The XLSX holds three sheets: the figures of `clinic.kpi` (the same numbers as the JSON),
the tickets, and the questions the knowledge base answered at once in the chat (one row per
`AnswerOffer`, self-served or not). Times are Bangkok local time. The CSV stays one row per
ticket; it is UTF-8 with a byte-order mark so that spreadsheet programs open the Thai text correctly.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import case, select
from sqlalchemy.orm import Session, aliased

from clinic import kpi, labels, thaidate
from clinic.models import Agency, AgencyType, AnswerOffer, KnowledgeArticle, Requester, SurveyResponse, Ticket, Topic

# Times twice: as the page shows them (Buddhist Era, Bangkok) for people, ISO 8601 beside for machines.
COLUMNS = (
    ("number", "เลขที่เรื่อง / Number"),
    ("posted_at", "เวลาที่ถาม (กรุงเทพฯ) / Posted (Bangkok)"),
    ("posted_at_iso", "เวลาที่ถาม ISO 8601 / Posted (ISO 8601)"),
    ("closed_at", "เวลาที่ปิดเรื่อง / Closed"),
    ("closed_at_iso", "เวลาที่ปิดเรื่อง ISO 8601 / Closed (ISO 8601)"),
    ("due_at", "กำหนดเสร็จ / Due"),
    ("due_at_iso", "กำหนดเสร็จ ISO 8601 / Due (ISO 8601)"),
    ("status", "สถานะ / Status"),
    ("sla", "ผลภายใน 1 วัน / Within SLA"),
    ("channel", "ช่องทาง / Channel"),
    ("requester", "ผู้ขอรับคำปรึกษา / Requester"),
    ("agency_type", "ประเภทหน่วยงาน / Agency type"),
    ("agency", "หน่วยงาน / Agency"),
    ("topic", "ด้าน / Topic"),
    ("subject", "คำถาม / Question"),
    ("survey_status", "สถานะแบบสอบถาม / Survey status"),
    ("convenience", "3.1 ความสะดวก / Convenience"),
    ("timeliness", "3.2 ภายในเวลา / Timeliness"),
    ("usefulness", "3.3 การนำไปใช้ / Usefulness"),
    ("overall", "3.4 ภาพรวม / Overall"),
    ("suggestion", "ข้อเสนอแนะ / Suggestion"),
)
# Column widths of the ticket sheet (characters); the rest take DEFAULT_WIDTH.
WIDTHS = {"number": 16, "subject": 60, "suggestion": 50, "requester": 24, "agency": 30, "agency_type": 28,
          "topic": 28, "status": 20, "sla": 24, "channel": 24, "survey_status": 26}  # fmt: skip
DEFAULT_WIDTH = 20
# Stored codes shown through clinic.labels, Thai / English.
LABELLED = {"status": "ticket_status", "sla": "sla_result", "channel": "channel", "survey_status": "survey_status"}
# The self-service sheet: one row per answer the knowledge base offered in the chat.
OFFER_COLUMNS = (
    ("asked_at", "เวลาที่ถาม (กรุงเทพฯ) / Asked (Bangkok)"),
    ("asked_at_iso", "เวลาที่ถาม ISO 8601 / Asked (ISO 8601)"),
    ("channel", "ช่องทาง / Channel"),
    ("agency_type", "ประเภทหน่วยงาน / Agency type"),
    ("agency", "หน่วยงาน / Agency"),
    ("topic", "ด้าน / Topic"),
    ("question", "คำถาม / Question"),
    ("articles", "บทความที่แสดง / Articles shown"),
    ("solved_article", "บทความที่ได้คำตอบ / Article that answered"),
    ("outcome", "ผล / Outcome"),
    ("ticket", "เลขที่เรื่อง (ส่งถึงเจ้าหน้าที่) / Ticket (sent to staff)"),
    ("rating", "คำตอบนี้ช่วยได้ไหม (1-5) / Helpful (1-5)"),
)
OFFER_WIDTHS = {"question": 60, "articles": 60, "solved_article": 40, "agency": 30, "agency_type": 28, "topic": 28,
                "outcome": 28, "ticket": 18, "channel": 22}  # fmt: skip
OFFER_SHEET = "ตอบทันที Self-service"
TITLE_TH = "รายงานตัวชี้วัดคลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ / Consultation clinic KPIs"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def ticket_rows(session: Session, period: kpi.Period, now: datetime) -> Iterator[dict[str, Any]]:
    """One dict per ticket posted in the period, oldest first; times are aware Bangkok datetimes."""
    start, end = period.utc_bounds()
    requester = aliased(Requester)
    sla = case(
        (Ticket.completed_within_sla, "within"),
        (kpi.is_withdrawn_apart(), "withdrawn"),
        (kpi.is_pending(now), "pending"),
        else_="missed",
    )
    query = (
        select(
            Ticket.number,
            Ticket.posted_at,
            Ticket.closed_at,
            Ticket.due_at,
            Ticket.status,
            sla.label("sla"),
            Ticket.channel,
            requester.display_name,
            requester.person_name,
            AgencyType.label_th,
            Agency.name_th,
            Ticket.agency_other,
            Topic.label_th.label("topic"),
            Ticket.subject,
            SurveyResponse.status.label("survey_status"),
            SurveyResponse.convenience,
            SurveyResponse.timeliness,
            SurveyResponse.usefulness,
            SurveyResponse.overall,
            SurveyResponse.suggestion,
        )  # fmt: skip
        .join(requester, requester.id == Ticket.requester_id)
        .join(AgencyType, AgencyType.code == Ticket.agency_type_code)
        .join(Topic, Topic.code == Ticket.topic_code)
        .outerjoin(Agency, Agency.id == Ticket.agency_id)
        .outerjoin(SurveyResponse, SurveyResponse.ticket_id == Ticket.id)
        .where(Ticket.posted_at >= start, Ticket.posted_at < end)
        .order_by(Ticket.posted_at, Ticket.id)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(query):
        yield {
            "number": row.number,
            "posted_at": _local(row.posted_at),
            "closed_at": _local(row.closed_at),
            "due_at": _local(row.due_at),
            "status": row.status,
            "sla": row.sla,
            "channel": row.channel,
            "requester": row.person_name or row.display_name,
            "agency_type": row.label_th,
            "agency": row.name_th or row.agency_other,
            "topic": row.topic,
            "subject": row.subject,
            "survey_status": row.survey_status or "",
            "convenience": row.convenience,
            "timeliness": row.timeliness,
            "usefulness": row.usefulness,
            "overall": row.overall,
            "suggestion": row.suggestion or "",
        }


def _local(moment: datetime | None) -> datetime | None:
    return thaidate.to_local(moment) if moment is not None else None


def _cell_text(key: str, row: dict[str, Any]) -> str:
    """A cell of the CSV: times as the page shows them, with their ISO 8601 form in the `_iso` column."""
    if key.endswith("_iso"):
        moment = row[key.removesuffix("_iso")]
        return moment.isoformat(timespec="minutes") if moment is not None else ""
    value = row[key]
    if value is None:
        return ""
    if isinstance(value, datetime):
        return thaidate.format_datetime(value)
    if key in LABELLED:
        return labels.both(LABELLED[key], value)
    return str(value)


def csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The CSV text line by line (for streaming a download), byte-order mark first."""

    class _Line:
        def write(self, text: str) -> str:
            return text

    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([title for _, title in COLUMNS])
    for row in rows:
        yield writer.writerow([_cell_text(key, row) for key, _ in COLUMNS])


def write_csv(out: IO[str], rows: Iterator[dict[str, Any]]) -> int:
    """Write the CSV; returns the number of ticket rows."""
    lines = 0
    for line in csv_lines(rows):
        out.write(line)
        lines += 1
    return lines - 1


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def summary_rows(figures: kpi.Kpi) -> list[list[Any]]:
    """The figures as a table of label and value, Thai first; the same numbers as the JSON."""
    rows: list[list[Any]] = [
        [f"{TITLE_TH} — {figures.period.label_th}"],
        ["ช่วงเวลา / Period", figures.period.label_th],
        [
            "จาก / From",
            thaidate.format_date(figures.period.first, full=True),
            "ถึง / To",
            thaidate.format_date(figures.period.last, full=True),
        ],  # fmt: skip
        [],
        ["จำนวนเรื่องที่ขอรับคำปรึกษา / Consultations", figures.consultations],
        ["จำนวนผู้ใช้บริการ (คน) / Requesters", figures.requesters],
        ["แล้วเสร็จภายใน 1 วัน / Completed within SLA", figures.completed_within_sla],
        ["เกิน 1 วัน / Missed", figures.missed],
        ["ยังอยู่ในกำหนด / Pending", figures.pending],
        ["ถอนคำถาม (ไม่นับ) / Withdrawn", figures.withdrawn],
        ["ตัวชี้วัดที่ 1 ร้อยละ / KPI 1 percent", _number(figures.sla_percent)],
        ["ผู้ตอบแบบสอบถาม / Respondents", figures.respondents],
        ["พึงพอใจระดับมากขึ้นไป / Satisfied (4-5)", figures.satisfied],
        ["ตัวชี้วัดที่ 2 ร้อยละ / KPI 2 percent", _number(figures.satisfaction_percent)],
        [],
        # Apart from KPI 1 and 2, which count staff consultations only.
        [
            "ตอบได้ทันทีจากคลังความรู้ (ไม่นับในตัวชี้วัดที่ 1 และ 2) / Answered at once by the knowledge base (not in KPI 1 and 2)"
        ],  # fmt: skip
        ["ได้คำตอบจากคลังความรู้ (เรื่อง) / Self-served", figures.self_served],
        [
            "อัตราที่ตอบได้เอง ร้อยละ / Deflection percent (self-served ÷ all consultations)",
            _number(figures.deflection_percent),
        ],  # fmt: skip
        ["คำตอบที่เสนอทั้งหมด / Answers offered", figures.self_service.offered],
        *(
            [labels.both("answer_outcome", code), count]
            for code, count in (
                ("solved", figures.self_service.solved),
                ("asked_staff", figures.self_service.asked_staff),
                ("abandoned", figures.self_service.abandoned),
                ("offered", figures.self_service.waiting),
            )
        ),  # fmt: skip
        ["คำตอบนี้ช่วยได้ไหม: ผู้ตอบ / Helpfulness: respondents", figures.self_service.rated],
        ["ช่วยได้ (4-5) / Helpful (4-5)", figures.self_service.rated_helpful],
        ["ช่วยได้ ร้อยละ / Helpful percent", _number(figures.self_service.helpful_percent)],
        ["ค่าเฉลี่ย / Mean", _number(figures.self_service.rating_mean)],
        [],
        ["ข้อ / Item", "ผู้ตอบ / Respondents", "มากขึ้นไป / Satisfied", "ร้อยละ / Percent", "ค่าเฉลี่ย / Mean"],
    ]
    for item in figures.items:
        rows.append([f"3.{item.position} {item.text_th}", item.respondents, item.satisfied,
                     _number(item.percent), _number(item.mean)])  # fmt: skip
    for title, breakdowns in (("ประเภทหน่วยงาน / Agency type", figures.by_agency_type),
                              ("ด้าน / Topic", figures.by_topic)):  # fmt: skip
        rows += [[], [title, "เรื่อง / Consultations", "คน / Requesters", "ร้อยละ / Percent"]]
        rows += [[row.label_th, row.consultations, row.requesters, _number(row.percent)] for row in breakdowns]
    rows += [[], ["ช่องทาง / Channel", "เรื่อง / Consultations", "ร้อยละ / Percent"]]
    rows += [[row.label_th, row.consultations, _number(row.percent)] for row in figures.by_channel]
    rows += [[], ["เดือน / Month", "เรื่อง / Consultations", "ภายใน 1 วัน / Within SLA", "ร้อยละ / Percent"]]
    rows += [[row.label_th, row.consultations, row.completed_within_sla, _number(row.sla_percent)]
             for row in figures.by_month]  # fmt: skip
    rows += [[], ["แบบสอบถาม / Surveys", "จำนวน / Count"]]
    rows += [[labels.both("survey_status", status), count] for status, count in figures.surveys.items()]
    for title, uses in (("บทความที่ตอบได้บ่อยที่สุด / Articles most used", figures.self_service.most_used),
                        ("ตามด้วยส่งถึงเจ้าหน้าที่บ่อยที่สุด (ความรู้ที่ยังขาด) / Most often followed by ask staff "
                         "(missing knowledge)", figures.self_service.missing)):  # fmt: skip
        rows += [[], [title, "ครั้ง / Times"]]
        rows += [[use.title, use.count] for use in uses]
    rows += [[], ["ข้อเสนอแนะ / Suggestions"]]
    rows += [[f"{index}. {text}"] for index, text in enumerate(figures.suggestions, start=1)]
    return rows


def offer_rows(session: Session, period: kpi.Period) -> Iterator[dict[str, Any]]:
    """One dict per answer the knowledge base offered to a question asked in the period, oldest first."""
    start, end = period.utc_bounds()
    titles = {key: title for key, title in session.execute(select(KnowledgeArticle.key, KnowledgeArticle.title))}
    query = (
        select(AnswerOffer, AgencyType.label_th, Agency.name_th, Topic.label_th.label("topic"), Ticket.number)
        .join(AgencyType, AgencyType.code == AnswerOffer.agency_type_code)
        .join(Topic, Topic.code == AnswerOffer.topic_code)
        .outerjoin(Agency, Agency.id == AnswerOffer.agency_id)
        .outerjoin(Ticket, Ticket.id == AnswerOffer.ticket_id)
        .where(AnswerOffer.asked_at >= start, AnswerOffer.asked_at < end)
        .order_by(AnswerOffer.asked_at, AnswerOffer.id)
        .execution_options(yield_per=2000)
    )
    for offer, type_label, agency_name, topic, number in session.execute(query):
        yield {
            "asked_at": thaidate.to_local(offer.asked_at),
            "channel": offer.channel,
            "agency_type": type_label,
            "agency": agency_name or offer.agency_other,
            "topic": topic,
            "question": offer.question,
            # A deleted article keeps its key, so the row still says which one it was.
            "articles": "\n".join(titles.get(key, key) for key in offer.article_keys or []),
            "solved_article": titles.get(offer.solved_key, offer.solved_key) if offer.solved_key else "",
            "outcome": offer.outcome,
            "ticket": number or "",
            "rating": offer.rating,
        }


def write_xlsx(
    out: IO[bytes] | str,
    figures: kpi.Kpi,
    rows: Iterator[dict[str, Any]],
    offers: Iterable[dict[str, Any]] = (),
) -> int:
    """The workbook: a summary sheet, a ticket sheet and a self-service sheet. Returns the number of ticket rows.

    The ticket sheet opens with its header row frozen and filters on every column; times
    are real date-times (Bangkok) in the ISO columns, and the page's Buddhist Era text beside.
    """
    book = Workbook(write_only=True)
    book.properties.title = f"{TITLE_TH} — {figures.period.label_th}"
    summary = book.create_sheet("สรุป Summary")
    summary.column_dimensions["A"].width = 60
    for letter in "BCDE":
        summary.column_dimensions[letter].width = 22
    bold = Font(bold=True)
    for index, values in enumerate(summary_rows(figures)):
        summary.append([_bold(summary, values[0], bold)] if index == 0 else values)
    sheet = book.create_sheet("รายเรื่อง Tickets")
    for column, (key, _) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS.get(key, DEFAULT_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, title, bold) for _, title in COLUMNS])
    count = 0
    for row in rows:
        cells: list[Any] = []
        for key, _ in COLUMNS:
            if key.endswith("_iso"):
                moment = row[key.removesuffix("_iso")]
                cell = WriteOnlyCell(sheet, value=moment.replace(tzinfo=None) if moment is not None else None)
                cell.number_format = "yyyy-mm-dd hh:mm"  # Excel has no time zones: Bangkok local time
                cells.append(cell)
            else:
                cells.append(_cell_text(key, row) if key in LABELLED or key.endswith("_at") else row[key])
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    _offer_sheet(book, offers, bold)
    book.save(out)
    return count


def _offer_sheet(book: Workbook, offers: Iterable[dict[str, Any]], bold: Font) -> None:
    sheet = book.create_sheet(OFFER_SHEET)
    for column, (key, _) in enumerate(OFFER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = OFFER_WIDTHS.get(key, DEFAULT_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, title, bold) for _, title in OFFER_COLUMNS])
    count = 0
    for row in offers:
        asked = row["asked_at"]
        iso = WriteOnlyCell(sheet, value=asked.replace(tzinfo=None))
        iso.number_format = "yyyy-mm-dd hh:mm"  # Excel has no time zones: Bangkok local time
        sheet.append([
            thaidate.format_datetime(asked), iso, labels.both("channel", row["channel"]), row["agency_type"],
            row["agency"], row["topic"], row["question"], row["articles"], row["solved_article"],
            labels.both("answer_outcome", row["outcome"]), row["ticket"], row["rating"],
        ])  # fmt: skip
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(OFFER_COLUMNS))}{count + 1}"


def _bold(sheet: Any, value: Any, font: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell


def file_name(period: kpi.Period, fmt: str) -> str:
    """`clinic-kpi-q1-2569-1.10.2568-26.11.2568.xlsx`: the period the page shows, in Buddhist Era days."""
    days = f"{_be_day(period.first)}-{_be_day(period.last)}"
    if period.kind == "quarter" and period.quarter:
        return f"clinic-kpi-q{period.quarter}-{period.fiscal_year_be}-{days}.{fmt}"
    if period.kind == "cumulative":
        return f"clinic-kpi-cumulative-{days}.{fmt}"
    return f"clinic-kpi-{days}.{fmt}"


def _be_day(day: date) -> str:
    return f"{day.day}.{day.month}.{thaidate.be_year(day.year)}"


def export(session: Session, period: kpi.Period, fmt: str, out: IO[bytes], *, now: datetime) -> None:
    """`clinic kpi`: the figures as JSON, the tickets as CSV, or both as XLSX, to a binary stream."""
    if fmt == "json":
        figures = kpi.compute(session, period, now)
        out.write(json.dumps(figures.to_dict(), ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    elif fmt == "csv":
        for line in csv_lines(ticket_rows(session, period, now)):
            out.write(line.encode("utf-8"))
    elif fmt == "xlsx":
        buffer = io.BytesIO()  # openpyxl needs a seekable file; stdout is not
        write_xlsx(
            buffer, kpi.compute(session, period, now), ticket_rows(session, period, now), offer_rows(session, period)
        )
        out.write(buffer.getvalue())
    else:
        raise ValueError(f"unknown format {fmt!r}")
