"""The LINE monthly message quota: samples, the month's forecast, staff warnings, and held messages.

LINE counts pushes (replies are free) against a monthly quota. The worker reads the quota
and the month's consumption once an hour (`bot.tasks.sample_line_quota`); the latest reading
of each Bangkok day is kept in the `settings` table (about two months of them), which is
all the forecast needs: the average daily use over the last 7 days, carried to the month's end.
Admins are warned in the desk at 80 % and 95 % of the quota, once per month per level.

When LINE refuses a push because the quota is spent (429, "You have reached your monthly
limit."), the outbox keeps the message pending and retries it hourly (`EXHAUSTED_RETRY`); staff
see `EXHAUSTED_TEXT` on it and may mark it handled another way (`handle_elsewhere`).
"""

from __future__ import annotations

import calendar
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import Message, OutboxMessage, Setting, StaffAlert, StaffUser
from clinic.runtime import Runtime
from clinic.tickets import TicketError

SAMPLE_JOB = "bot.tasks.sample_line_quota"
SAMPLE_EVERY_SECONDS = 3600
KEY_SAMPLES = "line_quota_samples"
KEY_WARNED = "line_quota_warned"
KEEP_DAYS = 62
WARN_LEVELS = (80, 95)
EXHAUSTED_TEXT = "โควตาข้อความ LINE หมด / LINE monthly message quota reached"
EXHAUSTED_RETRY = timedelta(hours=1)
HANDLED_ELSEWHERE = "ส่งทางช่องทางอื่นแล้ว / Handled another way"


class QuotaError(TicketError):
    pass


def is_exhausted(channel: str, status: int, detail: str) -> bool:
    """LINE's answer to a push over the monthly quota (not an ordinary rate limit)."""
    return channel == "line" and status == 429 and "monthly limit" in detail.lower()


@dataclass(frozen=True)
class Reading:
    limit: int | None  # None: LINE sets no limit (quota type `none`)
    consumed: int


@dataclass(frozen=True)
class Forecast:
    limit: int | None
    consumed: int
    sampled_at: datetime | None
    per_day: float  # average over the last 7 days (or what the month has so far)
    month_end: int  # consumption expected by the month's last day
    days: list[tuple[str, int]]  # (ISO day, consumed that month by then), oldest first

    @property
    def percent(self) -> float | None:
        return None if not self.limit else 100.0 * self.consumed / self.limit

    @property
    def forecast_percent(self) -> float | None:
        return None if not self.limit else 100.0 * self.month_end / self.limit


def _samples(session: Session) -> dict[str, dict[str, object]]:
    row = session.get(Setting, KEY_SAMPLES)
    return json.loads(row.value) if row else {}


def _put(session: Session, key: str, value: object, now: datetime) -> None:
    row = session.get(Setting, key)
    text = json.dumps(value, sort_keys=True)
    if row is None:
        session.add(Setting(key=key, value=text, updated_at=now))
    else:
        row.value, row.updated_at = text, now


def record(session: Session, reading: Reading, *, now: datetime, tz: ZoneInfo) -> Forecast:
    """Keep today's reading, warn admins at the thresholds, and return the month's forecast."""
    today = now.astimezone(tz).date()
    samples = _samples(session)
    samples[today.isoformat()] = {"limit": reading.limit, "consumed": reading.consumed, "at": now.isoformat()}
    oldest = (today - timedelta(days=KEEP_DAYS)).isoformat()
    samples = {day: value for day, value in samples.items() if day >= oldest}
    _put(session, KEY_SAMPLES, samples, now)
    result = forecast(session, now=now, tz=tz)
    _warn(session, result, now=now, month=today.strftime("%Y-%m"))
    return result


def forecast(session: Session, *, now: datetime, tz: ZoneInfo) -> Forecast:
    today = now.astimezone(tz).date()
    month = today.strftime("%Y-%m")
    samples = {day: value for day, value in _samples(session).items() if day.startswith(month)}
    if not samples:
        return Forecast(None, 0, None, 0.0, 0, [])
    days = sorted(samples)
    latest = samples[days[-1]]
    consumed = int(latest["consumed"])  # type: ignore[call-overload]
    limit = latest["limit"]
    last_day = date.fromisoformat(days[-1])
    week_ago = (last_day - timedelta(days=7)).isoformat()
    earlier = [day for day in days if day <= week_ago]
    if earlier:  # a reading from 7 days before the latest: the last week's use
        base_day = earlier[-1]
        span = (last_day - date.fromisoformat(base_day)).days
        per_day = (consumed - int(samples[base_day]["consumed"])) / span  # type: ignore[call-overload]
    else:  # early in the month: the month so far, the 1st included
        per_day = consumed / last_day.day
    month_days = calendar.monthrange(last_day.year, last_day.month)[1]
    remaining = month_days - last_day.day
    return Forecast(
        limit=int(limit) if limit is not None else None,  # type: ignore[call-overload]
        consumed=consumed,
        sampled_at=datetime.fromisoformat(str(latest["at"])),
        per_day=max(per_day, 0.0),
        month_end=consumed + math.ceil(max(per_day, 0.0) * remaining),
        days=[(day, int(samples[day]["consumed"])) for day in days],  # type: ignore[call-overload]
    )


def _warn(session: Session, result: Forecast, *, now: datetime, month: str) -> None:
    percent = result.percent
    if percent is None:
        return
    warned = json.loads(row.value) if (row := session.get(Setting, KEY_WARNED)) else {}
    done = set(warned.get(month, []))
    reached = [level for level in WARN_LEVELS if percent >= level and level not in done]
    if not reached:
        return
    level = max(reached)
    admins = session.scalars(select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True)))
    text = (
        f"โควตาข้อความ LINE เดือนนี้ใช้ไปแล้ว {percent:.0f}% ({result.consumed:,}/{result.limit:,}) "
        f"คาดว่าสิ้นเดือนจะใช้ {result.month_end:,} / LINE message quota {percent:.0f}% used this month"
    )
    for admin_id in admins:
        session.add(StaffAlert(created_at=now, level="error" if level >= 95 else "warning", text=text,
                               staff_id=admin_id))  # fmt: skip
    _put(session, KEY_WARNED, {month: sorted(done | set(reached))}, now)


def schedule_sample(runtime: Runtime) -> bool:
    """From the tick: queue one quota reading per hour (LINE channels only)."""
    if not runtime.config.line_enabled:
        return False
    period = math.floor(runtime.clock.now().timestamp() / SAMPLE_EVERY_SECONDS)
    try:
        if not runtime.redis.set(runtime.key(f"line_quota:{period}"), 1, nx=True, ex=SAMPLE_EVERY_SECONDS * 2):
            return False
    except redis.RedisError:
        return False
    return runtime.enqueue(SAMPLE_JOB, job_id=f"{runtime.config.queue_name}-line-quota-{period}")


def held_by_quota(session: Session, message_ids: list[int]) -> set[int]:
    """Which of these messages wait in the outbox because the quota is spent."""
    if not message_ids:
        return set()
    rows = session.scalars(
        select(OutboxMessage.message_id).where(
            OutboxMessage.message_id.in_(message_ids),
            OutboxMessage.status == "pending",
            OutboxMessage.last_error == EXHAUSTED_TEXT,
        )
    )
    return {row for row in rows if row is not None}


def handle_elsewhere(session: Session, message: Message, *, now: datetime, staff: StaffUser) -> None:
    """Staff answered another way (phone, e-mail): stop sending this message; audited."""
    item = session.scalar(
        select(OutboxMessage).where(OutboxMessage.message_id == message.id).order_by(OutboxMessage.id.desc()).limit(1)
    )
    if item is None or item.status not in ("pending", "failed"):
        raise QuotaError("ข้อความนี้ไม่ได้รอส่ง / This message is not waiting to be sent")
    item.status, item.last_error, item.next_attempt_at = "not_sent", HANDLED_ELSEWHERE, None
    message.delivery_status, message.delivery_error = "not_sent", HANDLED_ELSEWHERE
    audit.record(session, now=now, action="outbox.handled_elsewhere", staff=staff, target_type="message",
                 target_id=message.id, ticket_id=message.ticket_id)  # fmt: skip
