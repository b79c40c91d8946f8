"""The audit trail: every staff action, with who and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from clinic.models import AuditEntry, StaffUser


def record(
    session: Session,
    *,
    now: datetime,
    action: str,
    staff: StaffUser | None = None,
    actor: str = "",
    target_type: str = "",
    target_id: str | int = "",
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        staff_id=staff.id if staff else None,
        actor=actor or (staff.username if staff else "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail,
    )
    session.add(entry)
    return entry
