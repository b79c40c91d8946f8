"""Bearer tokens of the JSON API. Only a token's SHA-256 is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import audit
from clinic.models import ApiToken

PREFIX = "clinic_"
MAX_NAME = 100


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, *, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token for another office system; returns the row and the token itself (not stored)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(c.isspace() for c in name):
        raise TokenError(f"ชื่อโทเค็นต้องยาว 1-{MAX_NAME} ตัวอักษรไม่มีช่องว่าง / Token name: 1-{MAX_NAME} chars, no spaces")
    if session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        raise TokenError(f"มีโทเค็นชื่อ {name} แล้ว / A token named {name} exists")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_hash=digest(token), created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, now=now, action="token.create", target_type="api_token", target_id=name)
    return row, token


def revoke(session: Session, *, name: str, now: datetime) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name.strip()))
    if row is None:
        raise TokenError(f"ไม่มีโทเค็นชื่อ {name} / No token named {name}")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(session, now=now, action="token.revoke", target_type="api_token", target_id=row.name)
    return row


def verify(session: Session, token: str, *, now: datetime) -> ApiToken | None:
    """The live token matching `token`, else None; notes when it was last used."""
    if not token.startswith(PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return row


def listing(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.name)))
