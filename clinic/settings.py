"""Settings an admin changes from the desk, over the environment's defaults.

Only the SLA timings are editable today; the environment gives their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.config import Config
from clinic.models import Setting, StaffUser

SLA_KEYS = ("sla_hours", "sla_warn_hours", "sla_repeat_hours")


@dataclass(frozen=True)
class SlaSettings:
    hours: float
    warn_hours: tuple[float, ...]  # largest lead first
    repeat_hours: float


class SettingsError(ValueError):
    pass


def sla(session: Session, config: Config) -> SlaSettings:
    """The SLA timings in force: the desk's values where an admin set them, else the environment's."""
    stored = {row.key: row.value for row in session.scalars(select(Setting).where(Setting.key.in_(SLA_KEYS)))}
    hours = float(stored["sla_hours"]) if "sla_hours" in stored else config.sla_hours
    warn = parse_hours_list(stored["sla_warn_hours"]) if "sla_warn_hours" in stored else config.sla_warn_hours
    repeat = float(stored["sla_repeat_hours"]) if "sla_repeat_hours" in stored else config.sla_repeat_hours
    return SlaSettings(hours=hours, warn_hours=warn, repeat_hours=repeat)


def parse_hours_list(raw: str) -> tuple[float, ...]:
    values = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            value = float(part)
        except ValueError:
            raise SettingsError(f"ต้องเป็นตัวเลขคั่นด้วยจุลภาค เช่น 6,2 / Expected numbers like 6,2, got {raw!r}") from None
        if value <= 0:
            raise SettingsError(f"ต้องมากกว่า 0 / Must be greater than 0, got {raw!r}")
        values.append(value)
    return tuple(sorted(set(values), reverse=True))


def set_sla(
    session: Session,
    *,
    now: datetime,
    staff: StaffUser,
    hours: float,
    warn_hours: tuple[float, ...],
    repeat_hours: float,
) -> SlaSettings:
    """Store new SLA timings. They apply to tickets opened (or reopened) from now on."""
    if not 0 < hours <= 24 * 30:
        raise SettingsError("ชั่วโมง SLA ต้องอยู่ระหว่าง 0 ถึง 720 / SLA hours must be between 0 and 720")
    if not 0 < repeat_hours <= 24 * 30:
        raise SettingsError("ชั่วโมงเตือนซ้ำต้องอยู่ระหว่าง 0 ถึง 720 / Repeat hours must be between 0 and 720")
    if any(not 0 < lead < hours for lead in warn_hours):
        raise SettingsError("เวลาเตือนล่วงหน้าต้องน้อยกว่าชั่วโมง SLA / Warning lead times must be below the SLA hours")
    values = {
        "sla_hours": repr(float(hours)),
        "sla_warn_hours": ",".join(repr(float(v)) for v in sorted(set(warn_hours), reverse=True)),
        "sla_repeat_hours": repr(float(repeat_hours)),
    }
    for key, value in values.items():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
    audit.record(session, now=now, action="settings.sla", staff=staff, target_type="settings", **values)
    session.flush()
    return SlaSettings(hours=float(hours), warn_hours=parse_hours_list(values["sla_warn_hours"]),
                       repeat_hours=float(repeat_hours))  # fmt: skip
