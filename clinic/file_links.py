"""Signed, expiring links to a staff reply's attachment, for channels that fetch files by URL.

LINE cannot receive a file from a bot: an image message names HTTPS URLs that LINE's servers
fetch, and any other file goes as a link in a text message. Those URLs must open without a
login, so each carries a token: the attachment id, which copy (`full` or `preview`) and when
it expires, signed with the app's SECRET_KEY (itsdangerous). The expiry is inside the signed
value and compared with the runtime's clock, not itsdangerous's own timestamp, so it follows
the same clock as everything else (and the tests' frozen one).

Only attachments of staff replies (outbound messages) are ever served this way
(`bot.shared_files` checks), so a leaked token reveals one file the clinic chose to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

LINK_LIFETIME = timedelta(days=7)
VARIANTS = ("full", "preview")
_SALT = "clinic-file-link"


class LinkInvalid(ValueError):
    """A token that was not signed by us or does not say what a link says: answered as not found."""


class LinkExpired(ValueError):
    """A genuine link past its expiry: answered 410 Gone."""


@dataclass(frozen=True)
class FileLink:
    attachment_id: int
    variant: str
    expires_at: datetime


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def token(secret_key: str, attachment_id: int, variant: str, *, now: datetime) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    expires = int((now + LINK_LIFETIME).timestamp())
    return str(_serializer(secret_key).dumps([attachment_id, variant, expires]))


def read(secret_key: str, value: str, *, now: datetime) -> FileLink:
    """What a token names, or LinkInvalid / LinkExpired."""
    try:
        loaded = _serializer(secret_key).loads(value)
    except BadSignature as exc:
        raise LinkInvalid("bad signature") from exc
    if (
        not isinstance(loaded, list)
        or len(loaded) != 3
        or not isinstance(loaded[0], int)
        or loaded[1] not in VARIANTS
        or not isinstance(loaded[2], int)
    ):
        raise LinkInvalid("not a file link")
    expires_at = datetime.fromtimestamp(loaded[2], UTC)
    if now >= expires_at:
        raise LinkExpired(f"expired at {expires_at.isoformat()}")
    return FileLink(loaded[0], loaded[1], expires_at)


def url(base_url: str, secret_key: str, attachment_id: int, variant: str, *, now: datetime) -> str:
    """The absolute link under PUBLIC_BASE_URL (`/files/<token>`)."""
    return f"{base_url.rstrip('/')}/files/{token(secret_key, attachment_id, variant, now=now)}"


@dataclass(frozen=True)
class LinkMaker:
    """Links minted at one moment (one delivery attempt): all expire together, LINK_LIFETIME later."""

    base_url: str
    secret_key: str
    now: datetime

    @property
    def expires_at(self) -> datetime:
        return self.now + LINK_LIFETIME

    def url(self, attachment_id: int, variant: str) -> str:
        return url(self.base_url, self.secret_key, attachment_id, variant, now=self.now)
