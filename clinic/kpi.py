"""The two KPIs the office is judged by, and their breakdowns, for a period of Bangkok days.

KPI 1 (seed section 4.1): consultations completed within `SLA_HOURS` of posting × 100 /
consultations whose outcome is known. A closed ticket is within or missed
(`Ticket.completed_within_sla`); an open ticket past its deadline counts as missed; an
open ticket still within its deadline is *pending* and is shown apart, out of the ratio.
A question the requester withdrew before its deadline (`withdrawn`) has no outcome either: it
stays among the consultations but is shown apart as `withdrawn`, out of the ratio. One withdrawn
after its deadline (or after an earlier cycle missed) had already missed it, and stays missed:
a withdrawal never turns a miss into nothing.

KPI 2 (seed section 4.2): respondents whose `overall` answer is 4 or 5 × 100 /
respondents who answered `overall`; the same figure for each survey item.

Self-service (the knowledge base answering in the chat, `clinic.answer_offers`) is counted
apart: a question the requester marked solved is a self-served consultation, never a ticket,
so KPI 1 and KPI 2 keep the seed's definitions over staff consultations. The deflection rate
is self-served ÷ (self-served + staff consultations).

A consultation belongs to the period its ticket was posted in, and so does its survey.
Every figure is computed in SQL with GROUP BY over the period's tickets (one pass for
the counts, one for distinct requesters, one for the survey, and one for the
suggestions when there are any); percentages are rounded to one decimal, half up.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, false, func, literal_column, select, text
from sqlalchemy.orm import Session

from clinic import labels, survey, thaidate
from clinic.models import (
    FINISHED_STATUSES,
    AgencyType,
    AnswerOffer,
    KnowledgeArticle,
    SurveyItem,
    SurveyResponse,
    Ticket,
    Topic,
)

# The seed document reports cumulatively from the day the clinic opened.
CLINIC_OPENED = date(2020, 11, 1)
CHANNEL_LABELS = labels.CHANNELS
SATISFIED_FROM = 4  # "มาก" and "มากที่สุด"
_EXACT = Context(prec=60)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


class KpiError(ValueError):
    """A period that cannot be reported on; the message is Thai first."""


def percent(part: int, whole: int) -> Decimal | None:
    """`part × 100 / whole` rounded to one decimal, half up; None when `whole` is 0."""
    if whole == 0:
        return None
    return _EXACT.divide(Decimal(part * 100), Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def mean(total: int, count: int) -> Decimal | None:
    """The mean score to two decimals, half up; None when nobody answered."""
    if count == 0:
        return None
    return _EXACT.divide(Decimal(total), Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_day(raw: str, name: str) -> date:
    raw = (raw or "").strip()
    try:
        if not _DATE_RE.fullmatch(raw):
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise KpiError(f"วันที่ {name} ต้องเป็นรูปแบบ YYYY-MM-DD (ค.ศ.) / {name} must be a date YYYY-MM-DD") from None
    # Far-off years would overflow the conversion to UTC bounds (a 500); no report needs them.
    if not FIRST_DAY <= day <= LAST_DAY:
        raise KpiError(
            f"วันที่ {name} ต้องอยู่ระหว่างปี ค.ศ. {FIRST_DAY.year}-{LAST_DAY.year} / "
            f"{name} must be between {FIRST_DAY.year} and {LAST_DAY.year}"
        )
    return day


@dataclass(frozen=True)
class Period:
    """Bangkok days `first` to `last`, both included."""

    first: date
    last: date
    kind: str = "range"  # range, quarter, cumulative
    fiscal_year_be: int | None = None
    quarter: int | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise KpiError("วันสิ้นสุดอยู่ก่อนวันเริ่มต้น / The end date is before the start date")

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        return cls(first, last)

    @classmethod
    def parse(cls, first: str, last: str) -> Period:
        return cls(parse_day(first, "from"), parse_day(last, "to"))

    @classmethod
    def fiscal_quarter(cls, year_be: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise KpiError(f"ไตรมาสต้องเป็น 1-4 / The quarter must be 1-4, got {quarter}")
        first, last = thaidate.fiscal_quarter_bounds(year_be, quarter)
        return cls(first, last, "quarter", year_be, quarter)

    @classmethod
    def cumulative(cls, start: date, until: date) -> Period:
        return cls(start, until, "cumulative")

    def utc_bounds(self) -> tuple[datetime, datetime]:
        return thaidate.local_day_range_utc(self.first, self.last)

    @property
    def label_th(self) -> str:
        days = (
            f"ตั้งแต่วันที่ {thaidate.format_date(self.first, full=True)} ถึงวันที่ {thaidate.format_date(self.last, full=True)}"
        )
        if self.kind == "quarter":
            return f"ไตรมาสที่ {self.quarter} ปีงบประมาณ พ.ศ. {self.fiscal_year_be} ({days})"
        if self.kind == "cumulative":
            return f"สะสม{days}"
        return days

    @property
    def label_en(self) -> str:
        days = f"{thaidate.format_date_en(self.first)} to {thaidate.format_date_en(self.last)}"
        if self.kind == "quarter":
            return f"Fiscal year {self.fiscal_year_be} (BE), quarter {self.quarter}: {days}"
        if self.kind == "cumulative":
            return f"Cumulative, {days}"
        return days

    def months(self) -> list[str]:
        """Every `YYYY-MM` the period touches, in order."""
        result, year, month = [], self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            result.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return result


@dataclass
class Breakdown:
    code: str
    label_th: str
    label_en: str
    consultations: int = 0
    requesters: int | None = None
    completed_within_sla: int = 0
    pending: int = 0
    percent: Decimal | None = None
    withdrawn: int = 0

    @property
    def sla_percent(self) -> Decimal | None:
        return percent(self.completed_within_sla, self.consultations - self.pending - self.withdrawn)


@dataclass
class ItemFigure:
    key: str
    position: int
    text_th: str
    text_en: str
    respondents: int = 0
    satisfied: int = 0
    total: int = 0

    @property
    def percent(self) -> Decimal | None:
        return percent(self.satisfied, self.respondents)

    @property
    def mean(self) -> Decimal | None:
        return mean(self.total, self.respondents)


@dataclass
class ArticleUse:
    key: str
    title: str
    count: int


@dataclass
class SelfService:
    """Questions the knowledge base answered in the chat, by what became of them."""

    solved: int = 0
    asked_staff: int = 0
    abandoned: int = 0
    waiting: int = 0  # still offered: the requester has not said yet
    rated: int = 0
    rated_helpful: int = 0  # 4 or 5 to `คำตอบนี้ช่วยได้ไหม`
    rating_total: int = 0
    most_used: list[ArticleUse] = field(default_factory=list)  # solved, by the article read
    missing: list[ArticleUse] = field(default_factory=list)  # offered first, then "ask staff"

    @property
    def offered(self) -> int:
        return self.solved + self.asked_staff + self.abandoned + self.waiting

    @property
    def helpful_percent(self) -> Decimal | None:
        return percent(self.rated_helpful, self.rated)

    @property
    def rating_mean(self) -> Decimal | None:
        return mean(self.rating_total, self.rated)


@dataclass
class Kpi:
    period: Period
    computed_at: datetime
    consultations: int = 0
    requesters: int = 0
    completed_within_sla: int = 0
    pending: int = 0
    items: list[ItemFigure] = field(default_factory=list)
    by_agency_type: list[Breakdown] = field(default_factory=list)
    by_topic: list[Breakdown] = field(default_factory=list)
    by_channel: list[Breakdown] = field(default_factory=list)
    by_month: list[Breakdown] = field(default_factory=list)
    surveys: dict[str, int] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    withdrawn: int = 0
    self_service: SelfService = field(default_factory=SelfService)

    @property
    def self_served(self) -> int:
        return self.self_service.solved

    @property
    def deflection_percent(self) -> Decimal | None:
        """Self-served ÷ all consultations (self-served and staff)."""
        return percent(self.self_served, self.self_served + self.consultations)

    @property
    def missed(self) -> int:
        return self.consultations - self.completed_within_sla - self.pending - self.withdrawn

    @property
    def sla_percent(self) -> Decimal | None:
        return percent(self.completed_within_sla, self.completed_within_sla + self.missed)

    @property
    def overall(self) -> ItemFigure:
        return next(item for item in self.items if item.key == "overall")

    @property
    def respondents(self) -> int:
        return self.overall.respondents

    @property
    def satisfied(self) -> int:
        return self.overall.satisfied

    @property
    def satisfaction_percent(self) -> Decimal | None:
        return self.overall.percent

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by `clinic kpi --format json` and `GET /api/v1/kpi`."""

        def number(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        def rows(breakdowns: list[Breakdown], with_requesters: bool) -> list[dict[str, Any]]:
            out = []
            for row in breakdowns:
                entry: dict[str, Any] = {"code": row.code, "label_th": row.label_th, "label_en": row.label_en,
                                         "consultations": row.consultations}  # fmt: skip
                if with_requesters:
                    entry["requesters"] = row.requesters
                entry["percent"] = number(row.percent)
                out.append(entry)
            return out

        return {
            "period": {
                "from": self.period.first.isoformat(),
                "to": self.period.last.isoformat(),
                "kind": self.period.kind,
                "label_th": self.period.label_th,
                "label_en": self.period.label_en,
                "timezone": "Asia/Bangkok",
                "computed_at": self.computed_at.astimezone(UTC).isoformat(),
            },
            "consultations": self.consultations,
            "requesters": self.requesters,
            "completed_within_sla": self.completed_within_sla,
            "missed": self.missed,
            "pending": self.pending,
            "withdrawn": self.withdrawn,
            "sla_percent": number(self.sla_percent),
            "respondents": self.respondents,
            "satisfied": self.satisfied,
            "satisfaction_percent": number(self.satisfaction_percent),
            "items": [
                {
                    "key": item.key,
                    "label_th": item.text_th,
                    "respondents": item.respondents,
                    "satisfied": item.satisfied,
                    "percent": number(item.percent),
                    "mean": number(item.mean),
                }
                for item in self.items
            ],
            "by_agency_type": rows(self.by_agency_type, True),
            "by_topic": rows(self.by_topic, True),
            "by_channel": rows(self.by_channel, False),
            "by_month": [
                {
                    "month": row.code,
                    "label_th": row.label_th,
                    "consultations": row.consultations,
                    "completed_within_sla": row.completed_within_sla,
                    "pending": row.pending,
                    "withdrawn": row.withdrawn,
                    "sla_percent": number(row.sla_percent),
                }
                for row in self.by_month
            ],
            "surveys": dict(self.surveys),
            "suggestions": list(self.suggestions),
            "self_served": self.self_served,
            "deflection_percent": number(self.deflection_percent),
            "self_service": {
                "offered": self.self_service.offered,
                "solved": self.self_service.solved,
                "asked_staff": self.self_service.asked_staff,
                "abandoned": self.self_service.abandoned,
                "waiting": self.self_service.waiting,
                "rated": self.self_service.rated,
                "rated_helpful": self.self_service.rated_helpful,
                "helpful_percent": number(self.self_service.helpful_percent),
                "rating_mean": number(self.self_service.rating_mean),
                "most_used": [vars(a) for a in self.self_service.most_used],
                "missing_knowledge": [vars(a) for a in self.self_service.missing],
            },
        }


def is_pending(now: datetime) -> Any:
    """SQL: an open ticket whose deadline has not passed at `now` (and no earlier cycle missed)."""
    return and_(Ticket.status.not_in(FINISHED_STATUSES), Ticket.due_at > now, Ticket.sla_missed_before == false())


def is_withdrawn_apart() -> Any:
    """SQL: withdrawn by the requester with no miss before it, so out of KPI 1's ratio."""
    return and_(
        Ticket.status == "withdrawn",
        Ticket.closed_at.is_not(None),
        Ticket.closed_at <= Ticket.due_at,
        Ticket.sla_missed_before == false(),
    )


def _bangkok_month(session: Session) -> Any:
    """`YYYY-MM` of `posted_at` in Bangkok time, in SQL (Bangkok keeps UTC+7 all year)."""
    offset_hours = int(thaidate.BANGKOK.utcoffset(datetime(2000, 1, 1)).total_seconds() // 3600)  # type: ignore[union-attr]
    if session.get_bind().dialect.name == "postgresql":
        # Literal SQL, not bind parameters: PostgreSQL must see the same expression in GROUP BY.
        # date_trunc is cheaper than to_char per row; compute() turns the timestamp into YYYY-MM.
        return func.date_trunc(literal_column("'month'"),
                               Ticket.posted_at + literal_column(f"interval '{offset_hours} hours'"))  # fmt: skip
    return func.strftime(literal_column("'%Y-%m'"), Ticket.posted_at, literal_column(f"'{offset_hours:+d} hours'"))


def _distinct_requesters(
    session: Session, in_period: Any, type_codes: list[str], topic_codes: list[str]
) -> dict[tuple[str, str], int]:
    """Distinct requesters in the period, overall, per agency type and per topic, in one pass.

    One GROUP BY requester with a 0/1 flag per agency type and topic, then one row of sums:
    a single hash aggregation, where COUNT(DISTINCT) per dimension would sort the tickets
    three times (about 2x faster on both databases).
    """
    flags = [(("type", code), Ticket.agency_type_code == code) for code in type_codes]
    flags += [(("topic", code), Ticket.topic_code == code) for code in topic_codes]
    per_requester = (
        select(*(func.max(case((condition, 1), else_=0)).label(f"f{i}") for i, (_, condition) in enumerate(flags)))
        .where(in_period)
        .group_by(Ticket.requester_id)
        .subquery()
    )
    totals = session.execute(
        select(func.count(), *(func.coalesce(func.sum(column), 0) for column in per_requester.c))
    ).one()
    result = {("all", ""): int(totals[0])}
    result.update({key: int(value) for (key, _), value in zip(flags, totals[1:], strict=True)})
    return result


def compute(session: Session, period: Period, now: datetime) -> Kpi:
    """All the figures of one period; `now` decides which open tickets are still pending."""
    start, end = period.utc_bounds()
    in_period = and_(Ticket.posted_at >= start, Ticket.posted_at < end)
    kpi = Kpi(period=period, computed_at=now)

    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # The planner takes every posted_at for a distinct month, so it expects a group per ticket:
        # it sorts them (spilling to disk) or sizes a hash table for them. Neither is needed for a
        # few hundred groups: with sorting off it hashes them (the whole KPI at 1,000,000 tickets: 2.9 s -> 1.1 s).
        session.execute(text("SET LOCAL enable_sort = off"))
    within = func.sum(case((Ticket.completed_within_sla, 1), else_=0))
    pending = func.sum(case((is_pending(now), 1), else_=0))
    withdrawn = func.sum(case((is_withdrawn_apart(), 1), else_=0))
    month = _bangkok_month(session).label("month")
    counts = session.execute(
        select(
            Ticket.agency_type_code, Ticket.topic_code, Ticket.channel, month, func.count(), within, pending, withdrawn
        )  # fmt: skip
        .where(in_period)
        .group_by(Ticket.agency_type_code, Ticket.topic_code, Ticket.channel, month)
    ).all()
    if postgresql:
        session.execute(text("SET LOCAL enable_sort = on"))

    by_type: dict[str, Breakdown] = {
        row.code: Breakdown(row.code, row.label_th, row.label_en)
        for row in session.scalars(select(AgencyType).order_by(AgencyType.sort_order))
    }
    by_topic: dict[str, Breakdown] = {
        row.code: Breakdown(row.code, row.label_th, row.label_en)
        for row in session.scalars(select(Topic).order_by(Topic.sort_order))
    }
    by_channel = {code: Breakdown(code, th, en) for code, (th, en) in CHANNEL_LABELS.items()}
    by_month = {code: Breakdown(code, _month_label(code), _month_label_en(code)) for code in period.months()}
    for type_code, topic_code, channel, month_code, n, n_within, n_pending, n_withdrawn in counts:
        if not isinstance(month_code, str):
            month_code = f"{month_code.year:04d}-{month_code.month:02d}"
        n_within, n_pending, n_withdrawn = int(n_within or 0), int(n_pending or 0), int(n_withdrawn or 0)
        kpi.consultations += n
        kpi.completed_within_sla += n_within
        kpi.pending += n_pending
        kpi.withdrawn += n_withdrawn
        for table, code in ((by_type, type_code), (by_topic, topic_code), (by_channel, channel),
                            (by_month, month_code)):  # fmt: skip
            row = table.setdefault(code, Breakdown(code, code, code))
            row.consultations += n
            row.completed_within_sla += n_within
            row.pending += n_pending
            row.withdrawn += n_withdrawn
    distinct = _distinct_requesters(session, in_period, list(by_type), list(by_topic))
    kpi.requesters = distinct.get(("all", ""), 0)
    for table, kind in ((by_type, "type"), (by_topic, "topic")):
        for code, row in table.items():
            row.requesters = distinct.get((kind, code), 0)
    for table in (by_type, by_topic, by_channel):
        for row in table.values():
            row.percent = percent(row.consultations, kpi.consultations)
    kpi.by_agency_type = list(by_type.values())
    kpi.by_topic = list(by_topic.values())
    kpi.by_channel = [row for row in by_channel.values() if row.consultations or row.code != "import"]
    kpi.by_month = [by_month[code] for code in sorted(by_month)]

    _survey_figures(session, kpi, in_period)
    kpi.self_service = self_service_figures(session, start, end)
    return kpi


TOP_ARTICLES = 5


def self_service_figures(session: Session, start: datetime, end: datetime) -> SelfService:
    """The knowledge base's answers asked in [start, end): outcomes, ratings, articles used and missing."""
    asked = and_(AnswerOffer.asked_at >= start, AnswerOffer.asked_at < end)
    figures = SelfService()
    rows = session.execute(
        select(
            AnswerOffer.outcome,
            func.count(),
            func.count(AnswerOffer.rating),
            func.sum(case((AnswerOffer.rating >= SATISFIED_FROM, 1), else_=0)),
            func.coalesce(func.sum(AnswerOffer.rating), 0).cast(Integer),
        )
        .where(asked)
        .group_by(AnswerOffer.outcome)
    ).all()
    for outcome, n, rated, helpful, total in rows:
        name = {"offered": "waiting"}.get(outcome, outcome)
        if hasattr(figures, name):
            setattr(figures, name, getattr(figures, name) + n)
        figures.rated += int(rated or 0)
        figures.rated_helpful += int(helpful or 0)
        figures.rating_total += int(total or 0)
    if not figures.offered:
        return figures
    titles = {key: title for key, title in session.execute(select(KnowledgeArticle.key, KnowledgeArticle.title))}
    solved = session.execute(
        select(AnswerOffer.solved_key, func.count())
        .where(asked, AnswerOffer.outcome == "solved", AnswerOffer.solved_key.is_not(None))
        .group_by(AnswerOffer.solved_key)
    ).all()
    figures.most_used = _top_articles(solved, titles)
    # "Ask staff" after an article was offered: the knowledge the base is missing (or got wrong).
    asked_staff = session.scalars(
        select(AnswerOffer.article_keys).where(asked, AnswerOffer.outcome == "asked_staff")
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for keys in asked_staff:
        if keys:
            counts[keys[0]] += 1
    figures.missing = _top_articles(list(counts.items()), titles)
    return figures


def _top_articles(rows: Any, titles: dict[str, str]) -> list[ArticleUse]:
    ranked = sorted(((str(key), int(n)) for key, n in rows), key=lambda pair: (-pair[1], pair[0]))
    return [ArticleUse(key, titles.get(key, key), n) for key, n in ranked[:TOP_ARTICLES]]


def _survey_figures(session: Session, kpi: Kpi, in_period: Any) -> None:
    columns = {key: getattr(SurveyResponse, key) for key in survey.ITEM_KEYS}
    aggregates = []
    for column in columns.values():
        aggregates += [
            func.count(column),
            func.sum(case((column >= SATISFIED_FROM, 1), else_=0)),
            func.coalesce(func.sum(column), 0).cast(Integer),
        ]
    aggregates.append(func.sum(case((SurveyResponse.suggestion != "", 1), else_=0)))
    rows = session.execute(
        select(SurveyResponse.status, func.count(), *aggregates)
        .join(Ticket, Ticket.id == SurveyResponse.ticket_id)
        .where(in_period)
        .group_by(SurveyResponse.status)
    ).all()
    items = {
        item.key: ItemFigure(item.key, item.position, item.text_th, item.text_en)
        for item in session.scalars(select(SurveyItem).order_by(SurveyItem.position))
    }
    surveys: dict[str, int] = defaultdict(int)
    with_suggestion = 0
    for status, n, *figures in rows:
        surveys[status] += n
        with_suggestion += int(figures.pop() or 0)
        for index, key in enumerate(columns):
            answered, satisfied, total = figures[index * 3 : index * 3 + 3]
            item = items[key]
            item.respondents += int(answered or 0)
            item.satisfied += int(satisfied or 0)
            item.total += int(total or 0)
    kpi.items = sorted(items.values(), key=lambda item: item.position)
    kpi.surveys = {
        status: surveys.get(status, 0) for status in ("pending", "completed", "expired", "cancelled", "not_sent")
    }
    kpi.surveys["sent"] = sum(n for status, n in kpi.surveys.items() if status != "not_sent")
    if not with_suggestion:
        return  # no need to look for them
    kpi.suggestions = list(
        session.scalars(
            select(SurveyResponse.suggestion)
            .join(Ticket, Ticket.id == SurveyResponse.ticket_id)
            .where(in_period, SurveyResponse.suggestion != "")
            .order_by(Ticket.posted_at, Ticket.id)
        )
    )


def _month_label_en(code: str) -> str:
    year, month = (int(part) for part in code.split("-"))
    return thaidate.format_date_en(date(year, month, 1)).split(" ", 1)[1]  # `Oct 2569`


def _month_label(code: str) -> str:
    year, month = (int(part) for part in code.split("-"))
    return f"{thaidate.MONTHS_SHORT_TH[month - 1]} {thaidate.be_year(year)}"
