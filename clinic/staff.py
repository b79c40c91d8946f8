"""Staff accounts: create, authenticate, roles."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from clinic import audit
from clinic.models import ROLES, StaffUser

MIN_PASSWORD = 10
# A hash to check against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class StaffError(ValueError):
    pass


def hash_password(password: str) -> str:
    # werkzeug's default is scrypt, a current memory-hard algorithm.
    return generate_password_hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    now: datetime,
    display_name: str = "",
    created_by: StaffUser | None = None,
) -> StaffUser:
    username = username.strip().lower()
    if not username or len(username) > 80:
        raise StaffError("ชื่อผู้ใช้ไม่ถูกต้อง / Invalid username")
    if role not in ROLES:
        raise StaffError(f"บทบาทต้องเป็น {', '.join(ROLES)} / Role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD} ตัวอักษร / Password needs {MIN_PASSWORD}+ characters")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise StaffError(f"มีผู้ใช้ {username} แล้ว / User {username} already exists")
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, now=now, action="staff.create", staff=created_by,
                 target_type="staff", target_id=user.id, username=username, role=role)  # fmt: skip
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser)) or 0


def update_user(
    session: Session,
    user: StaffUser,
    *,
    now: datetime,
    by: StaffUser,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    password: str | None = None,
) -> StaffUser:
    """An admin's change to an account. The last active admin cannot be demoted or deactivated."""
    if role is not None and role not in ROLES:
        raise StaffError(f"บทบาทต้องเป็น {', '.join(ROLES)} / Role must be one of {', '.join(ROLES)}")
    if password and len(password) < MIN_PASSWORD:
        raise StaffError(f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD} ตัวอักษร / Password needs {MIN_PASSWORD}+ characters")
    if display_name is not None and len(display_name.strip()) > 200:
        raise StaffError("ชื่อที่แสดงยาวเกิน 200 ตัวอักษร / Display name is over 200 characters")
    stays_admin = (role or user.role) == "admin" and (user.active if active is None else active)
    if user.role == "admin" and user.active and not stays_admin:
        other_admins = session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id)
        )
        if not other_admins:
            raise StaffError("ต้องมีผู้ดูแลระบบอย่างน้อยหนึ่งคน / At least one active admin must remain")
    changes: dict[str, Any] = {}
    if role is not None and role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if active is not None and active != user.active:
        changes["active"] = active
        user.active = active
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        changes["display_name"] = display_name.strip()
        user.display_name = display_name.strip()
    if password:
        changes["password"] = "changed"
        user.password_hash = hash_password(password)
    if changes:
        audit.record(session, now=now, action="staff.update", staff=by, target_type="staff", target_id=user.id,
                     username=user.username, **changes)  # fmt: skip
    session.flush()
    return user
