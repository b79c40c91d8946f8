"""Files a requester uploads through the web chat: checked, then kept as attachments waiting for a message.

LINE and Messenger hand us files they have already vetted; a browser hands us whatever it likes.
So the kind is read from the bytes (never from the name or the browser's content type): raster
images must open in Pillow, documents must carry their format's signature. The name is cleaned
for display and download, and gets the extension of the kind it really is.

An upload is stored (an `Attachment` with no message yet, owned by the browser that sent it) in
the same transaction as the web event that names it, before the request is answered; processing
the event links it to the ticket's message (`claim`, called by `clinic.tickets`), as LINE files are.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session, undefer

from clinic.models import Attachment, Message, Requester, Ticket

MAX_FILES_PER_MESSAGE = 5
# The most a file may weigh, from a requester's browser or a staff member's reply alike.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILENAME = 120

# Raster images are shown inline (to their owner on the chat page, to staff on the desk); anything
# else, SVG included, is only ever a download.
INLINE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg")),
    "PNG": ("image/png", (".png",)),
    "GIF": ("image/gif", (".gif",)),
    "WEBP": ("image/webp", (".webp",)),
}
_OOXML = (
    ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
)
_OPENDOCUMENT = {
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
}
# Word 97-2003 and its kin share one container (OLE2); only the name tells them apart.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE2_BY_EXTENSION = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_MP4_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V "}
_TEXT_TYPES = {".txt": "text/plain", ".csv": "text/csv"}
# What a person is told we accept, Thai first.
ACCEPTED_TH = "รูปภาพ (JPG, PNG, GIF, WebP), PDF, Word, Excel, PowerPoint, OpenDocument, วิดีโอ MP4/MOV, TXT, CSV"
ACCEPTED_EN = "images (JPG, PNG, GIF, WebP), PDF, Word, Excel, PowerPoint, OpenDocument, MP4/MOV video, TXT, CSV"

_UNSAFE_IN_NAMES = re.compile(r'[<>:"/\\|?*]')


class UploadRefused(ValueError):
    """A file we do not keep; the message is Thai first, English second."""


class TooLarge(UploadRefused):
    pass


class NotAccepted(UploadRefused):
    pass


@dataclass(frozen=True)
class CheckedFile:
    kind: str  # image, file, video, audio (as Attachment.kind)
    filename: str
    content_type: str
    content: bytes


def check(filename: str, content: bytes, *, max_bytes: int) -> CheckedFile:
    """The file as we will keep it, or UploadRefused saying why not."""
    check_size(filename, len(content), max_bytes=max_bytes)
    shown = clean_filename(filename) or "ไฟล์"
    if not content:
        raise NotAccepted(f"ไฟล์ “{shown}” ว่างเปล่า / The file “{shown}” is empty")
    sniffed = _sniff(content, _extension(filename))
    if sniffed is None:
        raise NotAccepted(
            f"ไม่รับไฟล์ “{shown}” เพราะไม่ใช่ชนิดที่รับได้ ({ACCEPTED_TH}) / "
            f"“{shown}” is not a kind of file we accept ({ACCEPTED_EN})"
        )
    kind, content_type, extensions = sniffed
    return CheckedFile(kind, _named(filename, kind, extensions), content_type, content)


def check_size(filename: str, size: int, *, max_bytes: int) -> None:
    """TooLarge if `size` is over the limit: callers that know the size check it before reading the bytes."""
    if size > max_bytes:
        shown = clean_filename(filename) or "ไฟล์"
        limit = f"{max_bytes // (1024 * 1024)} MB"
        raise TooLarge(f"ไฟล์ “{shown}” ใหญ่เกิน {limit} / The file “{shown}” is larger than {limit}")


def _sniff(content: bytes, extension: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(kind, content type, extensions) read from the bytes themselves."""
    image = _image(content)
    if image is not None:
        return "image", image[0], image[1]
    if content.startswith(b"%PDF-"):
        return "file", "application/pdf", (".pdf",)
    if content.startswith(b"PK\x03\x04"):
        return _office_zip(content)
    if content.startswith(_OLE2):
        content_type = _OLE2_BY_EXTENSION.get(extension)
        return ("file", content_type, (extension,)) if content_type else None
    if content[4:8] == b"ftyp":
        brand = content[8:12]
        if brand == b"qt  ":
            return "video", "video/quicktime", (".mov",)
        if brand in _MP4_BRANDS:
            return "video", "video/mp4", (".mp4", ".m4v")
        if brand == b"M4A ":
            return "audio", "audio/mp4", (".m4a",)
        return None
    if extension in _TEXT_TYPES and _is_text(content):
        return "file", _TEXT_TYPES[extension], (extension,)
    return None


def _image(content: bytes) -> tuple[str, tuple[str, ...]] | None:
    try:
        with warnings.catch_warnings():
            # A picture over Pillow's pixel limit is refused outright, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=list(_IMAGE_FORMATS)) as image:
                image_format = image.format or ""
                image.verify()
    except (
        UnidentifiedImageError, OSError, SyntaxError, ValueError,
        Image.DecompressionBombWarning, Image.DecompressionBombError,
    ):  # fmt: skip
        return None
    return _IMAGE_FORMATS.get(image_format)


def _office_zip(content: bytes) -> tuple[str, str, tuple[str, ...]] | None:
    """Word, Excel, PowerPoint (OOXML) or OpenDocument; any other zip is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for marker, content_type, extension in _OOXML:
                    if marker in names:
                        return "file", content_type, (extension,)
            if "mimetype" in names:
                with archive.open("mimetype") as stream:
                    declared = stream.read(100).decode("ascii", "replace").strip()
                if declared in _OPENDOCUMENT:
                    return "file", declared, (_OPENDOCUMENT[declared],)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError):
        return None
    return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    for encoding in ("utf-8-sig", "cp874"):  # cp874: Thai text saved by older Windows programs
        try:
            content.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _extension(filename: str) -> str:
    name = clean_filename(filename)
    return name[name.rfind(".") :].lower() if "." in name.lstrip(".") else ""


def clean_filename(filename: str) -> str:
    """The name as sent, without folders, control characters or characters file systems refuse."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _UNSAFE_IN_NAMES.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    return name


def _named(filename: str, kind: str, extensions: tuple[str, ...]) -> str:
    """A clean name that ends in the extension of what the file really is, at most MAX_FILENAME characters."""
    name = clean_filename(filename)
    extension = _extension(filename)
    if not name:
        name, extension = kind, ""
    if extension not in extensions:
        # `report.exe` that is really a PDF becomes `report.exe.pdf`: the true kind is always last.
        extension = extensions[0]
        stem = name
    else:
        stem, extension = name[: -len(extension)], name[-len(extension) :]  # as the sender wrote it
    return stem[: MAX_FILENAME - len(extension)].rstrip(" .") + extension


def content_disposition(disposition: str, filename: str, fallback: str) -> str:
    """`inline` or `attachment` with the name in UTF-8 (RFC 6266) and an ASCII fallback.

    HTTP header values are Latin-1: a Thai name written there as it is would fail in the server.
    """
    plain = bool(filename) and filename.isascii() and filename.isprintable() and not set(filename) & {'"', "\\"}
    ascii_name = filename if plain else fallback + _extension(filename)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename or ascii_name, safe='')}"


def store(session: Session, *, owner: str, file: CheckedFile, now: datetime) -> int:
    """Keep the file as an attachment of no message yet, owned by `owner`; its id."""
    statement = (
        insert(Attachment)
        .values(
            message_id=None,
            kind=file.kind,
            filename=file.filename,
            content_type=file.content_type,
            size=len(file.content),
            content=file.content,
            source_ref="web",
            uploaded_by=owner,
            uploaded_at=now,
        )
        .returning(Attachment.id)
    )
    return int(session.execute(statement).scalar_one())


def claim(session: Session, upload_id: int) -> Attachment:
    """An upload that no message has taken yet, for the message being written."""
    # No autoflush: the message taking it is still being built and is not in the session yet.
    with session.no_autoflush:
        upload = session.scalar(select(Attachment).where(Attachment.id == upload_id, Attachment.message_id.is_(None)))
    if upload is None:
        raise LookupError(f"upload {upload_id} does not exist or already belongs to a message")
    return upload


def owned(session: Session, attachment_id: int, owner: str) -> Attachment | None:
    """The attachment with its bytes, if `owner` (a web-chat browser) may see it; else None.

    That is a file the browser uploaded, or a file staff attached to a reply (an outbound message)
    on a ticket of the web requester that browser is, and no one else's.
    """
    received = (
        select(Attachment.id)
        .join(Message, Attachment.message_id == Message.id)
        .join(Ticket, Message.ticket_id == Ticket.id)
        .join(Requester, Ticket.requester_id == Requester.id)
        .where(
            Attachment.id == attachment_id,
            Message.kind == "outbound",
            Requester.channel == "web",
            Requester.channel_user_id == owner,
        )
    )
    return session.scalar(
        select(Attachment)
        .options(undefer(Attachment.content))
        .where(Attachment.id == attachment_id, or_(Attachment.uploaded_by == owner, Attachment.id.in_(received)))
    )


def purge_unclaimed(session: Session, *, before: datetime, owner: str | None = None) -> int:
    """Delete uploads no message took (sent before a topic was chosen) that arrived before `before`.

    With `owner`, only that browser's: erasing a web requester must also remove the files that
    never reached a ticket, which a walk through their tickets' messages does not find.
    Returns how many were deleted.
    """
    condition = Attachment.message_id.is_(None) & (Attachment.uploaded_at < before)
    if owner is not None:
        condition = condition & (Attachment.uploaded_by == owner)
    result = session.execute(delete(Attachment).where(condition))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult
