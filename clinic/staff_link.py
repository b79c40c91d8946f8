"""Linking a staff member's LINE account to their desk account, once.

The desk shows a one-time code; the staff member sends it to the bot on LINE
(`เชื่อมบัญชี 123456` or just the code), and direct SLA warnings can then reach them.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import StaffUser

CODE_LIFETIME = timedelta(minutes=15)
_CODE = re.compile(r"^\s*(?:(?:เชื่อมบัญชี|เชื่อมต่อ|link)\s*)?(\d{6})\s*$", re.IGNORECASE)


def issue_code(session: Session, staff: StaffUser, *, now: datetime) -> str:
    """A fresh six-digit code for this staff member, valid for 15 minutes."""
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if session.scalar(select(StaffUser.id).where(StaffUser.link_code == code)) is None:
            break
    staff.link_code = code
    staff.link_code_expires_at = now + CODE_LIFETIME
    audit.record(session, now=now, action="staff.link_code", staff=staff, target_type="staff", target_id=staff.id)
    session.flush()
    return code


def parse_code(text: str) -> str | None:
    """The code in a chat message that looks like a link request, else None."""
    match = _CODE.match(text or "")
    return match.group(1) if match else None


def redeem(session: Session, *, code: str, line_user_id: str, now: datetime) -> StaffUser | None:
    """Link the LINE user to the staff account holding `code`; None if no valid code matches."""
    staff = session.scalar(select(StaffUser).where(StaffUser.link_code == code, StaffUser.active.is_(True)))
    if staff is None or staff.link_code_expires_at is None or staff.link_code_expires_at < now:
        return None
    previous = session.scalar(select(StaffUser).where(StaffUser.line_user_id == line_user_id))
    if previous is not None and previous.id != staff.id:
        previous.line_user_id = None  # a LINE account belongs to one desk account
        session.flush()
    staff.line_user_id = line_user_id
    staff.link_code = None
    staff.link_code_expires_at = None
    audit.record(session, now=now, action="staff.link_line", staff=staff, target_type="staff", target_id=staff.id)
    session.flush()
    return staff
