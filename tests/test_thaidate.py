from datetime import UTC, date, datetime, timedelta

import pytest

from clinic import thaidate


def test_format_datetime_in_bangkok_buddhist_era() -> None:
    moment = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # 14:05 in Bangkok
    assert thaidate.format_datetime(moment) == "25 พ.ย. 2569 14:05 น."


def test_format_crosses_midnight_into_the_bangkok_day() -> None:
    moment = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 Jan 2026 in Bangkok
    assert thaidate.format_datetime(moment) == "1 ม.ค. 2569 00:30 น."
    assert thaidate.format_date(moment, full=True) == "1 มกราคม 2569"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        thaidate.format_datetime(datetime(2026, 1, 1, 12, 0))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 10, 1), (2569, 1)),
        (date(2025, 12, 31), (2569, 1)),
        (date(2026, 1, 1), (2569, 2)),
        (date(2026, 3, 31), (2569, 2)),
        (date(2026, 4, 1), (2569, 3)),
        (date(2026, 7, 1), (2569, 4)),
        (date(2026, 9, 30), (2569, 4)),
        (date(2026, 10, 1), (2570, 1)),
    ],
)
def test_fiscal_quarter(day: date, expected: tuple[int, int]) -> None:
    assert thaidate.fiscal_quarter(day) == expected


def test_fiscal_quarter_bounds() -> None:
    assert thaidate.fiscal_quarter_bounds(2569, 1) == (date(2025, 10, 1), date(2025, 12, 31))
    assert thaidate.fiscal_quarter_bounds(2569, 2) == (date(2026, 1, 1), date(2026, 3, 31))
    assert thaidate.fiscal_quarter_bounds(2569, 3) == (date(2026, 4, 1), date(2026, 6, 30))
    assert thaidate.fiscal_quarter_bounds(2569, 4) == (date(2026, 7, 1), date(2026, 9, 30))
    assert thaidate.fiscal_year_bounds(2564) == (date(2020, 10, 1), date(2021, 9, 30))
    with pytest.raises(ValueError):
        thaidate.fiscal_quarter_bounds(2569, 5)


def test_local_day_range_is_bangkok_midnight_to_midnight() -> None:
    start, end = thaidate.local_day_range_utc(date(2025, 10, 1), date(2025, 12, 31))
    assert start == datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)


def test_duration_in_thai() -> None:
    assert thaidate.format_duration_th(timedelta(hours=5, minutes=20)) == "5 ชม. 20 นาที"
    assert thaidate.format_duration_th(timedelta(minutes=-65)) == "เกิน 1 ชม. 5 นาที"
    assert thaidate.format_duration_th(timedelta(days=1, hours=2)) == "1 วัน 2 ชม."
    assert thaidate.format_duration_th(timedelta(seconds=20)) == "0 นาที"


@pytest.mark.parametrize(
    ("hours", "thai", "english"),
    [
        (24, "1 วัน", "1 day"),
        (48, "2 วัน", "2 days"),
        (72, "3 วัน", "3 days"),
        (4, "4 ชั่วโมง", "4 hours"),
        (1, "1 ชั่วโมง", "1 hour"),
        (1.5, "1 ชั่วโมง 30 นาที", "1 hour 30 minutes"),
        (0.5, "30 นาที", "30 minutes"),
        (0.05, "3 นาที", "3 minutes"),
        (0.001, "1 นาที", "1 minute"),  # never "0 นาที"
        (30, "1 วัน 6 ชั่วโมง", "1 day 6 hours"),
        (25.25, "1 วัน 1 ชั่วโมง 15 นาที", "1 day 1 hour 15 minutes"),
        (12, "12 ชั่วโมง", "12 hours"),
        (720, "30 วัน", "30 days"),
        (23.999, "1 วัน", "1 day"),  # rounded to the minute
    ],
)
def test_hours_in_words(hours: float, thai: str, english: str) -> None:
    assert thaidate.hours_in_words(hours) == (thai, english)
