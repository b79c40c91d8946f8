from datetime import date
from decimal import Decimal

import pytest

from clinic import kpi
from clinic.models import Requester
from clinic.runtime import Runtime
from tests import factories
from tests.kpi_quarter import bangkok, consult, replay

Q1_2570 = kpi.Period.fiscal_quarter(2570, 1)
AFTER_THE_QUARTER = bangkok(2027, 1, 10, 9, 0)


def _compute(runtime: Runtime, period: kpi.Period, now=AFTER_THE_QUARTER) -> kpi.Kpi:
    with runtime.db.transaction() as session:
        return kpi.compute(session, period, now)


def _rows(breakdowns: list[kpi.Breakdown]) -> dict[str, tuple]:
    return {row.code: (row.consultations, row.requesters, row.percent) for row in breakdowns}


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1, 16, "6.3"), (5, 16, "31.3"), (3, 16, "18.8"), (13, 16, "81.3"), (11, 39, "28.2"), (23, 39, "59.0"),
     (10, 39, "25.6"), (4, 39, "10.3"), (3, 39, "7.7"), (1, 8, "12.5"), (2, 3, "66.7"), (1, 3, "33.3"),
     (0, 5, "0.0"), (5, 5, "100.0")],
)  # fmt: skip
def test_percent_rounds_half_up_to_one_decimal(part: int, whole: int, expected: str) -> None:
    assert kpi.percent(part, whole) == Decimal(expected)


def test_percent_of_nothing_is_none() -> None:
    assert kpi.percent(0, 0) is None
    assert kpi.mean(0, 0) is None
    assert kpi.mean(70, 16) == Decimal("4.38")  # 4.375 half up, where banker's rounding gives 4.38 too
    assert kpi.mean(74, 16) == Decimal("4.63")  # 4.625: half up, not half even (4.62)


def test_fiscal_quarter_periods_use_bangkok_days() -> None:
    assert (Q1_2570.first, Q1_2570.last) == (date(2026, 10, 1), date(2026, 12, 31))
    start, end = Q1_2570.utc_bounds()
    assert start == bangkok(2026, 10, 1, 0, 0) and start.hour == 17 and start.day == 30
    assert end == bangkok(2027, 1, 1, 0, 0)
    assert "ไตรมาสที่ 1 ปีงบประมาณ พ.ศ. 2570" in Q1_2570.label_th
    assert "1 ตุลาคม 2569" in Q1_2570.label_th and "31 ธันวาคม 2569" in Q1_2570.label_th
    cumulative = kpi.Period.cumulative(kpi.CLINIC_OPENED, date(2021, 8, 31))
    assert cumulative.label_th == "สะสมตั้งแต่วันที่ 1 พฤศจิกายน 2563 ถึงวันที่ 31 สิงหาคม 2564"
    assert kpi.Period.between(date(2026, 10, 30), date(2026, 12, 2)).months() == ["2026-10", "2026-11", "2026-12"]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [("2026-13-01", "2026-12-31", "from"), ("26-10-01", "2026-12-31", "from"), ("2026-10-01", "", "to"),
     ("2026-12-31", "2026-10-01", "วันสิ้นสุดอยู่ก่อนวันเริ่มต้น")],
)  # fmt: skip
def test_bad_periods_are_refused_with_a_thai_first_message(first: str, last: str, message: str) -> None:
    with pytest.raises(kpi.KpiError, match=message):
        kpi.Period.parse(first, last)
    with pytest.raises(kpi.KpiError, match="ไตรมาส"):
        kpi.Period.fiscal_quarter(2570, 5)


def test_replayed_quarter_every_figure(runtime: Runtime) -> None:
    replay(runtime)
    figures = _compute(runtime, Q1_2570)

    # KPI 1: 13 of 16 closed within 24 h (one closed exactly at its deadline counts); 81.25 -> 81.3.
    assert (figures.consultations, figures.requesters) == (16, 7)
    assert (figures.completed_within_sla, figures.missed, figures.pending) == (13, 3, 0)
    assert figures.sla_percent == Decimal("81.3")

    # KPI 2 and the four items: 16 respondents each.
    assert (figures.respondents, figures.satisfied, figures.satisfaction_percent) == (16, 13, Decimal("81.3"))
    items = {item.key: (item.respondents, item.satisfied, item.percent, item.mean) for item in figures.items}
    assert items == {
        "convenience": (16, 15, Decimal("93.8"), Decimal("4.63")),
        "timeliness": (16, 11, Decimal("68.8"), Decimal("4.00")),
        "usefulness": (16, 14, Decimal("87.5"), Decimal("4.50")),
        "overall": (16, 13, Decimal("81.3"), Decimal("4.38")),
    }
    assert [item.key for item in figures.items] == ["convenience", "timeliness", "usefulness", "overall"]

    assert _rows(figures.by_agency_type) == {
        "bureau": (5, 2, Decimal("31.3")),
        "district": (6, 2, Decimal("37.5")),
        "permanent_secretary_office": (3, 1, Decimal("18.8")),
        "council_governor_secretariat": (1, 1, Decimal("6.3")),
        "other": (1, 1, Decimal("6.3")),
    }
    assert [row.code for row in figures.by_agency_type][0] == "bureau"  # in the seed document's order
    assert _rows(figures.by_topic) == {
        "saraban": (9, 6, Decimal("56.3")),
        "letters": (4, 4, Decimal("25.0")),
        "ceremony": (2, 2, Decimal("12.5")),
        "other": (1, 1, Decimal("6.3")),
    }
    channels = {row.code: (row.consultations, row.percent) for row in figures.by_channel}
    assert channels == {
        "line": (10, Decimal("62.5")),
        "messenger": (2, Decimal("12.5")),
        "web": (4, Decimal("25.0")),
    }
    months = {row.code: (row.label_th, row.consultations, row.completed_within_sla, row.sla_percent)
              for row in figures.by_month}  # fmt: skip
    assert months == {
        "2026-10": ("ต.ค. 2569", 4, 3, Decimal("75.0")),
        "2026-11": ("พ.ย. 2569", 5, 4, Decimal("80.0")),
        "2026-12": ("ธ.ค. 2569", 7, 6, Decimal("85.7")),
    }
    assert figures.suggestions == ["คำแนะนำชัดเจน เข้าใจง่าย", "ระยะเวลาในการให้คำแนะนำอาจใช้เวลานานไปนิด แต่ก็พอได้"]
    assert figures.surveys == {"pending": 0, "completed": 16, "expired": 0, "cancelled": 0, "not_sent": 0, "sent": 16}


def test_quarter_boundaries_in_bangkok_time(runtime: Runtime) -> None:
    replay(runtime)
    q4_2569 = _compute(runtime, kpi.Period.fiscal_quarter(2569, 4))
    q2_2570 = _compute(runtime, kpi.Period.fiscal_quarter(2570, 2))
    assert (q4_2569.consultations, q4_2569.suggestions) == (1, ["นอกไตรมาส"])
    assert (q2_2570.consultations, q2_2570.satisfaction_percent) == (1, Decimal("0.0"))
    first_day = _compute(runtime, kpi.Period.parse("2026-10-01", "2026-10-01"))
    last_day = _compute(runtime, kpi.Period.parse("2026-12-31", "2026-12-31"))
    assert (first_day.consultations, last_day.consultations) == (1, 1)
    cumulative = _compute(runtime, kpi.Period.cumulative(date(2026, 9, 1), date(2027, 1, 1)))
    assert cumulative.consultations == 18 and cumulative.requesters == 7


def test_open_tickets_past_deadline_are_missed_and_within_it_pending(runtime: Runtime) -> None:
    people = replay(runtime)
    with runtime.db.transaction() as session:
        r2, r6, r7 = (session.get(Requester, people[name].id) for name in ("R2", "R6", "R7"))
        consult(session, r2, bangkok(2026, 12, 20, 12, 0), "saraban")  # never answered: missed
        consult(session, r6, bangkok(2026, 12, 31, 20, 0), "letters")  # due 1 Jan 20:00
        r8 = factories.requester(session, now=bangkok(2026, 12, 1, 9, 0), channel="messenger",
                                 user_id="user-R8", agency_code="bureau-09")  # fmt: skip
        # Closed 25 h after the requester's last message: Messenger forbids the survey.
        consult(session, r8, bangkok(2026, 12, 29, 10, 0), "ceremony", close_after=25)
        # Answered the first item only.
        consult(session, r7, bangkok(2026, 12, 30, 9, 0), "saraban", close_after=2, scores=(5,))

    at_noon_new_year = _compute(runtime, Q1_2570, now=bangkok(2027, 1, 1, 12, 0))
    assert (at_noon_new_year.consultations, at_noon_new_year.requesters) == (20, 8)
    assert (at_noon_new_year.completed_within_sla, at_noon_new_year.missed, at_noon_new_year.pending) == (14, 5, 1)
    assert at_noon_new_year.sla_percent == Decimal("73.7")  # 14 / 19
    assert at_noon_new_year.surveys == {
        "pending": 1, "completed": 16, "expired": 0, "cancelled": 0, "not_sent": 1, "sent": 17,
    }  # fmt: skip
    convenience = at_noon_new_year.items[0]
    assert (convenience.respondents, convenience.satisfied, convenience.percent) == (17, 16, Decimal("94.1"))
    assert (at_noon_new_year.respondents, at_noon_new_year.satisfaction_percent) == (16, Decimal("81.3"))
    assert _rows(at_noon_new_year.by_agency_type)["bureau"] == (6, 3, Decimal("30.0"))

    later = _compute(runtime, Q1_2570, now=bangkok(2027, 1, 2, 0, 0))
    assert (later.completed_within_sla, later.missed, later.pending, later.sla_percent) == (14, 6, 0, Decimal("70.0"))


def test_an_empty_period_has_no_percentages(runtime: Runtime) -> None:
    figures = _compute(runtime, kpi.Period.parse("2020-01-01", "2020-03-31"))
    data = figures.to_dict()
    assert (data["consultations"], data["sla_percent"], data["satisfaction_percent"]) == (0, None, None)
    assert all(row["percent"] is None for row in data["by_agency_type"])


def test_json_shape_has_the_issue_keys(runtime: Runtime) -> None:
    replay(runtime)
    data = _compute(runtime, Q1_2570).to_dict()
    for key in ("consultations", "requesters", "completed_within_sla", "sla_percent", "respondents", "satisfied",
                "satisfaction_percent", "items", "by_agency_type", "by_topic", "suggestions"):  # fmt: skip
        assert key in data
    assert data["sla_percent"] == 81.3 and data["satisfaction_percent"] == 81.3
    assert set(data["items"][0]) == {"key", "label_th", "respondents", "satisfied", "percent", "mean"}
    assert data["items"][0] | {"label_th": ""} == {
        "key": "convenience", "label_th": "", "respondents": 16, "satisfied": 15, "percent": 93.8, "mean": 4.63,
    }  # fmt: skip
    assert {"code", "label_th", "consultations", "requesters", "percent"} <= set(data["by_agency_type"][0])
    assert data["by_topic"][0] | {"label_en": ""} == {
        "code": "saraban", "label_th": "ด้านสารบรรณ", "label_en": "", "consultations": 9, "requesters": 6,
        "percent": 56.3,
    }  # fmt: skip


def test_a_reopened_ticket_that_missed_stays_missed(runtime: Runtime) -> None:
    from clinic import tickets

    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=bangkok(2026, 11, 1, 9, 0))
        tickets.close(session, ticket, now=bangkok(2026, 11, 2, 10, 0))  # 25 h: missed
        tickets.reopen(session, ticket, now=bangkok(2026, 11, 3, 9, 0))
        tickets.close(session, ticket, now=bangkok(2026, 11, 3, 10, 0))  # within the new clock
    figures = _compute(runtime, Q1_2570)
    assert (figures.completed_within_sla, figures.missed) == (0, 1)
    assert figures.by_month[1].code == "2026-11" and figures.by_month[1].consultations == 1
