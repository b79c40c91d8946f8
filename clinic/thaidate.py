"""Thai dates in the Buddhist Era, and the Thai fiscal year (1 October to 30 September).

Fiscal year 2569 (BE) runs from 1 Oct 2025 to 30 Sep 2026; its Q1 is Oct-Dec 2025.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BE_OFFSET = 543
BANGKOK = ZoneInfo("Asia/Bangkok")

MONTHS_SHORT_TH = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
MONTHS_FULL_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip


def be_year(year_ce: int) -> int:
    return year_ce + BE_OFFSET


def to_local(moment: datetime, tz: ZoneInfo = BANGKOK) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; store and pass timezone-aware UTC")
    return moment.astimezone(tz)


def format_datetime(moment: datetime | None, tz: ZoneInfo = BANGKOK) -> str:
    """`25 พ.ย. 2569 14:05 น.`"""
    if moment is None:
        return "-"
    local = to_local(moment, tz)
    return f"{local.day} {MONTHS_SHORT_TH[local.month - 1]} {be_year(local.year)} {local:%H:%M} น."


def format_date(day: date | datetime, *, full: bool = False, tz: ZoneInfo = BANGKOK) -> str:
    """`25 พ.ย. 2569`, or with `full`, `25 พฤศจิกายน 2569`."""
    if isinstance(day, datetime):
        day = to_local(day, tz).date()
    months = MONTHS_FULL_TH if full else MONTHS_SHORT_TH
    return f"{day.day} {months[day.month - 1]} {be_year(day.year)}"


def format_date_en(day: date) -> str:
    """`26 Nov 2569`: English month, Buddhist Era year, as the desk shows dates in English."""
    return f"{day.day} {day:%b} {be_year(day.year)}"


def format_datetime_en(moment: datetime | None, tz: ZoneInfo = BANGKOK) -> str:
    if moment is None:
        return "-"
    return to_local(moment, tz).strftime("%d %b %Y %H:%M")


def format_datetime_en_be(moment: datetime | None, tz: ZoneInfo = BANGKOK) -> str:
    """`25 Nov 2569 14:05`: the desk's English mode, still Buddhist Era and Bangkok time."""
    if moment is None:
        return "-"
    local = to_local(moment, tz)
    return f"{local.day} {local:%b} {be_year(local.year)} {local:%H:%M}"


def format_duration_th(delta: timedelta) -> str:
    """`5 ชม. 20 นาที`; negative durations read as overdue: `เกิน 1 ชม. 5 นาที`."""
    seconds = int(delta.total_seconds())
    prefix = "เกิน " if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} วัน")
    if hours:
        parts.append(f"{hours} ชม.")
    if minutes or not parts:
        parts.append(f"{minutes} นาที")
    return prefix + " ".join(parts)


def hours_in_words(hours: float) -> tuple[str, str]:
    """A length of time given in hours, in Thai and English words: 24 → (`1 วัน`, `1 day`).

    Whole days, hours and minutes, rounded to the nearest minute (never below 1 minute), so
    a deadline set in hours reads as people say it: 1.5 → `1 ชั่วโมง 30 นาที`, 0.05 → `3 นาที`.
    """
    minutes_total = max(1, round(hours * 60))
    days, rest = divmod(minutes_total, 24 * 60)
    whole_hours, minutes = divmod(rest, 60)
    thai, english = [], []
    for count, th, en in ((days, "วัน", "day"), (whole_hours, "ชั่วโมง", "hour"), (minutes, "นาที", "minute")):
        if count:
            thai.append(f"{count} {th}")
            english.append(f"{count} {en}" + ("s" if count != 1 else ""))
    return " ".join(thai), " ".join(english)


def fiscal_year_be(day: date) -> int:
    """The Thai fiscal year (BE) a local date falls in."""
    year_ce = day.year + 1 if day.month >= 10 else day.year
    return be_year(year_ce)


def fiscal_quarter(day: date) -> tuple[int, int]:
    """(fiscal year BE, quarter 1-4) of a local date."""
    quarter = {10: 1, 11: 1, 12: 1, 1: 2, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 4, 8: 4, 9: 4}[day.month]
    return fiscal_year_be(day), quarter


def fiscal_quarter_bounds(year_be: int, quarter: int) -> tuple[date, date]:
    """First and last local day (both included) of a fiscal quarter."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1-4, got {quarter}")
    start_year_ce = year_be - BE_OFFSET - 1  # FY 2569 starts in October 2025
    start_month = 10 + (quarter - 1) * 3
    start = date(start_year_ce + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    end_month = start.month + 3
    end_first = date(start.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end_first - timedelta(days=1)


def fiscal_year_bounds(year_be: int) -> tuple[date, date]:
    return fiscal_quarter_bounds(year_be, 1)[0], fiscal_quarter_bounds(year_be, 4)[1]


def local_day_range_utc(first: date, last: date, tz: ZoneInfo = BANGKOK) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering local days `first` to `last`, both included."""
    if last < first:
        raise ValueError("the end date is before the start date")
    start = datetime.combine(first, time.min, tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC)
    return start, end


def format_date_numeric(day: date | None) -> str:
    """`25/11/2569`: a date as staff type it (day/month/Buddhist Era year)."""
    if day is None:
        return ""
    return f"{day.day:02d}/{day.month:02d}/{be_year(day.year)}"


_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\s*$")


def parse_date_numeric(text: str) -> date | None:
    """A date typed as dd/mm/yyyy in the Buddhist Era (`1/6/2526`); empty text is no date.

    Thai digits are accepted. A year that looks like the Common Era (before 2400) is refused
    rather than guessed: 1/6/2026 would otherwise be read as the year 1483.
    """
    text = (text or "").translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    if not text.strip():
        return None
    found = _NUMERIC_DATE.match(text)
    problem = "ต้องเป็นวันที่แบบ วว/ดด/ปปปป (พ.ศ.) / The date must be dd/mm/yyyy in the Buddhist Era"
    if found is None:
        raise ValueError(problem)
    day, month, year_be = (int(part) for part in found.groups())
    if not 2400 <= year_be <= 2700:
        raise ValueError(f"ปี {year_be} ต้องเป็นปี พ.ศ. / The year {year_be} must be a Buddhist Era year (e.g. 2569)")
    try:
        return date(year_be - BE_OFFSET, month, day)
    except ValueError:
        raise ValueError(f"ไม่มีวันที่ {text.strip()} / There is no such date: {text.strip()}") from None
