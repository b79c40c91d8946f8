"""The quarterly report in the form of section 6 of the seed document (Thai, Buddhist Era).

Built from the figures of `clinic.kpi`; the desk's printable page lays it out.
Numbering follows the seed: 1 users (1.1 by agency type, 1.2 by topic), 2 KPI 1,
3 the survey items (3.1-3.4), 4 suggestions (4.1, 4.2, ...); then 5, not in the seed, the
questions the knowledge base answered at once in the chat (self-served, apart from KPI 1 and 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from clinic import kpi, labels, thaidate

TITLE = "รายงานผลการดำเนินงานคลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง"
OFFICE = "สำนักงานเลขานุการปลัดกรุงเทพมหานคร"
KPI_NAME = (
    "ร้อยละเรื่องที่คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง สามารถให้คำปรึกษาการปฏิบัติงานแก่หน่วยงาน"
    "ได้แล้วเสร็จภายใน 1 วัน นับแต่วันที่หน่วยงานโพสต์คำถามหรือเรื่องที่ขอรับคำปรึกษา "
    "และหน่วยงานมีความพึงพอใจในการให้คำปรึกษาตั้งแต่ระดับมากขึ้นไป"
)


def percent_th(value: Decimal | None) -> str:
    """`ร้อยละ 28.2`, or a dash when there is nothing to divide by."""
    return "-" if value is None else f"ร้อยละ {value}"


@dataclass(frozen=True)
class Line:
    number: str
    label: str
    count: int
    unit: str
    requesters: int | None
    percent: str


@dataclass(frozen=True)
class Report:
    figures: kpi.Kpi
    title: str
    office: str
    kpi_name: str
    period_th: str
    heading_th: str
    users_th: str
    by_agency_type: list[Line]
    by_topic: list[Line]
    sla_th: str
    items: list[Line]
    satisfaction_th: str
    surveys_th: str
    suggestions: list[tuple[str, str]]
    generated_th: str
    self_service: list[tuple[str, str]]  # (number, sentence) of section 5
    # (number, heading, [(number, article title, times)]): the articles most used, then those missing knowledge
    article_lists: list[tuple[str, str, list[tuple[str, str, int]]]]


def build(figures: kpi.Kpi, generated_at: datetime) -> Report:
    period = figures.period
    if period.kind == "quarter":
        heading = f"ไตรมาสที่ {period.quarter} ปีงบประมาณ พ.ศ. {period.fiscal_year_be}"
    elif period.kind == "cumulative":
        heading = "ผลการดำเนินงานสะสม"
    else:
        heading = "ผลการดำเนินงาน"
    days = f"ระหว่างวันที่ {thaidate.format_date(period.first, full=True)} - {thaidate.format_date(period.last, full=True)}"
    users = (
        f"{days} มีผู้ใช้บริการคลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ทั้งสิ้น จำนวน {figures.requesters} คน "
        f"ขอรับคำปรึกษารวม {figures.consultations} เรื่อง"
    )
    by_type = [
        Line(f"({index})", row.label_th, row.consultations, "เรื่อง", row.requesters, percent_th(row.percent))
        for index, row in enumerate(figures.by_agency_type, start=1)
    ]
    by_topic = [
        Line(f"({index})", row.label_th, row.consultations, "เรื่อง", row.requesters, percent_th(row.percent))
        for index, row in enumerate(figures.by_topic, start=1)
    ]
    sla = (
        "เจ้าหน้าที่สามารถให้บริการโดยให้คำปรึกษาได้ภายในระยะเวลาที่กำหนด (ภายใน 1 วัน) "
        f"{figures.completed_within_sla} จาก {figures.completed_within_sla + figures.missed} เรื่อง "
        f"คิดเป็น{percent_th(figures.sla_percent)}"
    )
    if figures.pending:
        sla += f" (ยังอยู่ในระยะเวลาดำเนินการอีก {figures.pending} เรื่อง ไม่นับรวม)"
    if figures.withdrawn:
        sla += f" (ผู้ขอคำปรึกษาถอนคำถาม {figures.withdrawn} เรื่อง ไม่นับรวม)"
    items = [
        Line(
            f"3.{item.position}",
            f"{item.text_th} อยู่ในระดับมากถึงมากที่สุด",
            item.satisfied,
            "คน",
            item.respondents,
            percent_th(item.percent),
        )  # fmt: skip
        for item in figures.items
    ]
    satisfaction = (
        f"ผู้ตอบแบบสอบถาม {figures.respondents} คน พึงพอใจในระดับมากขึ้นไป {figures.satisfied} คน "
        f"คิดเป็น{percent_th(figures.satisfaction_percent)}"
    )
    surveys = figures.surveys
    surveys_th = (
        f"ส่งแบบสอบถาม {surveys.get('sent', 0)} ราย ตอบครบ {surveys.get('completed', 0)} ราย "
        f"ส่งไม่ได้เนื่องจากช่องทางไม่อนุญาต {surveys.get('not_sent', 0)} ราย"
    )
    suggestions = [(f"4.{index}", text) for index, text in enumerate(figures.suggestions, start=1)]
    return Report(
        figures=figures,
        title=TITLE,
        office=OFFICE,
        kpi_name=KPI_NAME,
        period_th=period.label_th,
        heading_th=heading,
        users_th=users,
        by_agency_type=by_type,
        by_topic=by_topic,
        sla_th=sla,
        items=items,
        satisfaction_th=satisfaction,
        surveys_th=surveys_th,
        suggestions=suggestions,
        generated_th=f"จัดทำเมื่อ {thaidate.format_datetime(generated_at)}",
        self_service=_self_service(figures),
        article_lists=_article_lists(figures.self_service),
    )


def _self_service(figures: kpi.Kpi) -> list[tuple[str, str]]:
    """Section 5: what the knowledge base answered at once, counted apart from the two KPIs."""
    ss = figures.self_service
    if not ss.offered:
        return [("", "ในช่วงเวลานี้ไม่มีคำถามที่คลังความรู้ตอบได้ทันที")]
    outcomes = " ".join(
        f"{labels.text('answer_outcome', code)} {count} เรื่อง"
        for code, count in (
            ("solved", ss.solved),
            ("asked_staff", ss.asked_staff),
            ("abandoned", ss.abandoned),
            ("offered", ss.waiting),
        )  # fmt: skip
    )
    rating = f"ผู้ตอบ {ss.rated} คน ให้ระดับ 4-5 จำนวน {ss.rated_helpful} คน คิดเป็น{percent_th(ss.helpful_percent)}"
    if ss.rating_mean is not None:
        rating += f" คะแนนเฉลี่ย {ss.rating_mean}"
    return [
        (
            "5.1",
            f"ผู้ขอรับคำปรึกษาได้คำตอบจากคลังความรู้ทันทีโดยไม่ต้องส่งถึงเจ้าหน้าที่ {figures.self_served} เรื่อง "
            f"จากเรื่องที่ขอรับคำปรึกษาทั้งหมด {figures.self_served + figures.consultations} เรื่อง "
            f"คิดเป็น{percent_th(figures.deflection_percent)}",
        ),
        ("5.2", f"คลังความรู้เสนอคำตอบ {ss.offered} เรื่อง จำแนกเป็น {outcomes}"),
        ("5.3", f"ความเห็นต่อคำถาม “คำตอบนี้ช่วยได้ไหม” (นับแยกจากแบบสอบถามความพึงพอใจ) {rating}"),
    ]


def _article_lists(ss: kpi.SelfService) -> list[tuple[str, str, list[tuple[str, str, int]]]]:
    lists = (
        ("บทความที่ตอบคำถามได้บ่อยที่สุด", ss.most_used),
        ("บทความที่ผู้ขอรับคำปรึกษาอ่านแล้วยังส่งถึงเจ้าหน้าที่บ่อยที่สุด (ความรู้ที่ควรเพิ่มหรือปรับปรุง)", ss.missing),
    )
    shown = [(heading, uses) for heading, uses in lists if uses]
    return [
        (f"5.{number}", heading, [(f"({i})", use.title, use.count) for i, use in enumerate(uses, start=1)])
        for number, (heading, uses) in enumerate(shown, start=4)
    ]
