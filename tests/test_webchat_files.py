"""Files in the web chat: upload (checks, limits, cross-site refusal), storage before the answer,
the ticket the conversation links them to, and who may fetch them back."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select

from bot import upload_limit, webchat_files
from bot.events import MAX_ATTACHMENT_BYTES
from clinic import uploads
from clinic.models import Attachment, InboundEvent, Message, Ticket
from clinic.runtime import Runtime
from tests import factories
from tests.bot_support import run_jobs
from tests.test_desk_pages import login

HEADERS = {"X-Clinic-Chat": "1"}
INTAKE = ("2", "พระนคร", "ข้าม", "ข้าม", "1")  # district office, พระนคร, no name, no position, topic 1


def png(width: int = 40, height: int = 30, colour: str = "#0b5f3c") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(client: Any, *files: tuple[str, bytes], headers: dict[str, str] | None = None, **fields: str) -> Any:
    data: dict[str, Any] = dict(fields)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    headers = HEADERS if headers is None else headers
    return client.post("/chat/api/uploads", data=data, content_type="multipart/form-data", headers=headers)


def at_the_question(client: Any) -> None:
    """A new browser that has answered the intake and chosen a topic: the next input is the question."""
    assert client.get("/chat").status_code == 200
    assert client.post("/chat/api/start", json={}).status_code == 200
    for text in INTAKE:
        assert client.post("/chat/api/messages", json={"text": text}).status_code == 200


def count(runtime: Runtime, model: Any) -> int:
    with runtime.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_image_and_a_document_open_the_ticket_and_only_their_browser_fetches_them(  # type: ignore[no-untyped-def]
    client, app, runtime: Runtime
) -> None:
    at_the_question(client)
    picture, document = png(), docx()
    response = upload(client, ("ใบเสร็จ.png", picture), ("แบบฟอร์ม.docx", document), text="ขอตรวจแบบฟอร์มนี้ค่ะ")
    assert response.status_code == 200, response.json
    assert response.json["files"][0] == {"name": "ใบเสร็จ.png", "type": "image/png", "size": len(picture)}

    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.channel == "web" and ticket.subject == "ขอตรวจแบบฟอร์มนี้ค่ะ"
        message = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
        kept = [(a.kind, a.filename, a.content_type, a.size, a.content) for a in message.attachments]
        ids = [a.id for a in message.attachments]
    assert kept == [
        ("image", "ใบเสร็จ.png", "image/png", len(picture), picture),
        ("file", "แบบฟอร์ม.docx", uploads._OOXML[0][1], len(document), document),
    ]

    # The requester sees their message, with its time and the files, in the conversation.
    history = client.get("/chat/api/messages?after=0.0").json
    mine = [m for m in history["messages"] if m["files"]]
    assert len(mine) == 1 and mine[0]["from"] == "user" and mine[0]["text"] == "ขอตรวจแบบฟอร์มนี้ค่ะ"
    assert mine[0]["at"] == "2026-11-25T03:00:00+00:00" and mine[0]["at_text"] == "25 พ.ย. 2569 10:00 น."
    assert [(f["url"], f["image"]) for f in mine[0]["files"]] == [
        (f"/chat/api/attachments/{ids[0]}", True),
        (f"/chat/api/attachments/{ids[1]}", False),
    ]
    assert history["has_ticket"] is True

    image = client.get(mine[0]["files"][0]["url"])
    assert image.status_code == 200 and image.data == picture and image.mimetype == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    download = client.get(mine[0]["files"][1]["url"])
    assert download.mimetype == "application/octet-stream" and download.data == document
    assert download.headers["Content-Disposition"].startswith("attachment")
    # The Thai name survives (RFC 6266), and the header stays Latin-1 as HTTP requires.
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=\"file-{ids[1]}.docx\"; filename*=UTF-8''{quote('แบบฟอร์ม.docx')}"
    )
    assert quote("แบบฟอร์ม.docx").startswith("%E0%B9%81")

    # Another browser, and a request with no cookie at all, cannot fetch them (nor learn they exist).
    other = app.test_client()
    other.get("/chat")
    assert other.get(mine[0]["files"][0]["url"]).status_code == 404
    assert app.test_client().get(mine[0]["files"][0]["url"]).status_code == 404
    # Staff see them on the desk as any other attachment.
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri")
    desk = app.test_client()
    assert login(desk).status_code == 302
    assert desk.get(f"/attachments/{ids[0]}").data == picture


def test_a_file_after_the_ticket_opened_joins_it(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    at_the_question(client)
    assert client.post("/chat/api/messages", json={"text": "หนังสือเวียนต้องลงทะเบียนไหม"}).status_code == 200
    assert upload(client, ("scan", PDF)).status_code == 200  # no name extension: it gets the true one
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        names = [a.filename for m in ticket.messages for a in m.attachments]
        assert names == ["scan.pdf"]
    last = client.get("/chat/api/messages?after=0.0").json["messages"][-1]
    assert "เพิ่มข้อความในเรื่อง CL-2569-00001 แล้ว" in last["text"]


def test_stored_before_the_answer_and_processed_by_the_worker_when_the_request_dies(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_the_question(client)
    # The web process dies right after answering: nothing is processed in the request.
    monkeypatch.setattr(webchat_files, "process_now", lambda event_id: None)
    picture = png()
    assert upload(client, ("photo.png", picture), text="ภาพหน้าจอ").status_code == 200
    with runtime.db.transaction() as session:
        event = session.scalars(select(InboundEvent).where(InboundEvent.event_type == "attachment")).one()
        assert event.status == "pending"
        assert event.payload["uploads"][0]["name"] == "photo.png" and "content" not in str(event.payload)
        stored = session.scalars(select(Attachment)).one()
        assert stored.message_id is None and stored.content == picture and stored.uploaded_at == runtime.clock.now()
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0

    run_jobs(runtime)  # the RQ job queued when the event was committed

    with runtime.db.transaction() as session:
        assert session.scalars(select(InboundEvent.status).where(InboundEvent.event_type == "attachment")).one() == (
            "processed"
        )
        ticket = session.scalars(select(Ticket)).one()
        assert [a.content for m in ticket.messages for a in m.attachments] == [picture]


def test_a_resend_with_the_same_client_id_stores_the_files_once(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    at_the_question(client)
    client_id = uuid.uuid4().hex
    for _ in range(2):
        assert upload(client, ("a.png", png()), client_id=client_id).status_code == 200
    assert count(runtime, Attachment) == 1
    assert count(runtime, Ticket) == 1


def test_too_large_is_413_with_a_clear_error_and_keeps_nothing(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    at_the_question(client)
    big = b"%PDF-1.7\n" + b"0" * MAX_ATTACHMENT_BYTES  # one byte over 20 MB
    response = upload(client, ("คู่มือ.pdf", big))
    assert response.status_code == 413
    assert response.json["error"] == "ไฟล์ “คู่มือ.pdf” ใหญ่เกิน 20 MB / The file “คู่มือ.pdf” is larger than 20 MB"
    # Exactly 20 MB is fine: the route's own limit, not the app's 1 MB one.
    assert upload(client, ("คู่มือ.pdf", big[:MAX_ATTACHMENT_BYTES])).status_code == 200
    assert count(runtime, Attachment) == 1
    # A body larger than five full files is refused from its Content-Length, before it is read.
    response = client.post(
        "/chat/api/uploads",
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        headers=HEADERS,
        environ_overrides={"CONTENT_LENGTH": str(webchat_files.MAX_UPLOAD_REQUEST + 1)},
    )
    assert response.status_code == 413 and " / " in response.json["error"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 200),
        ("photo.png", b"<html><script>alert(1)</script></html>"),  # a page pretending to be a picture
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 100),
        ("broken.png", png()[:60]),  # cut short: Pillow cannot verify it
        ("notes.txt", b"\x00\x01\x02binary"),
        ("empty.pdf", b""),
    ],
)
def test_a_file_of_the_wrong_kind_is_refused(client, runtime: Runtime, name: str, content: bytes) -> None:  # type: ignore[no-untyped-def]
    at_the_question(client)
    response = upload(client, ("good.png", png()), (name, content))  # all or nothing: the good one goes too
    assert response.status_code == 415, response.json
    assert " / " in response.json["error"] and name in response.json["error"]
    assert count(runtime, Attachment) == 0
    assert count(runtime, InboundEvent) == 1 + len(INTAKE)  # start and the intake; the upload left no event


def test_bad_requests_and_other_sites_are_refused(client, app, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    fresh = app.test_client()  # never opened the page: no cookie, so no browser id is minted by an upload
    assert upload(fresh, ("a.png", png())).status_code == 403
    at_the_question(client)
    cases = [
        (upload(client, ("a.png", png()), headers={}), 403),  # no X-Clinic-Chat: a plain cross-site form
        (upload(client, ("a.png", png()), headers={**HEADERS, "Sec-Fetch-Site": "cross-site"}), 403),
        (upload(client, ("a.png", png()), headers={**HEADERS, "Origin": "https://evil.example"}), 403),
        (client.post("/chat/api/uploads", data="files=x", headers=HEADERS), 415),
        (upload(client), 400),  # no file
        (upload(client, *[(f"{n}.png", png()) for n in range(6)]), 400),  # more than five
        (upload(client, ("a.png", png()), admin="1"), 400),
        (upload(client, ("a.png", png()), text="ก" * 2001), 400),
        (upload(client, ("a.png", png()), client_id="../x"), 400),
        # The JSON endpoints refuse another site's request too.
        (client.post("/chat/api/messages", json={"text": "hi"}, headers={"Sec-Fetch-Site": "cross-site"}), 403),
        (client.post("/chat/api/messages", json={"text": "hi"}, headers={"Origin": "http://evil.example"}), 403),
    ]
    for response, status in cases:
        assert response.status_code == status, response.json
        assert " / " in response.json["error"]
    assert count(runtime, Attachment) == 0
    # The page's own requests pass, also behind a proxy that sends the app another Host.
    same = {**HEADERS, "Sec-Fetch-Site": "same-origin", "Origin": "https://clinic.example"}
    assert upload(client, ("a.png", png()), headers=same).status_code == 200
    older_browser = {"Origin": runtime.config.base_url}  # e.g. http://127.0.0.1:5000, not the test Host
    assert client.post("/chat/api/messages", json={"text": "สถานะ"}, headers=older_browser).status_code == 200


def test_a_browser_sending_too_many_files_waits_for_the_next_hour(client, runtime: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    at_the_question(client)
    picture = png()
    for _ in range(upload_limit.MAX_FILES // uploads.MAX_FILES_PER_MESSAGE):
        files = [(f"{n}.png", picture) for n in range(uploads.MAX_FILES_PER_MESSAGE)]
        assert upload(client, *files).status_code == 200
    refused = upload(client, ("one-more.png", picture))
    assert refused.status_code == 429
    assert refused.json["error"].startswith("ส่งไฟล์มากเกินไปในหนึ่งชั่วโมง")
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert count(runtime, Attachment) == upload_limit.MAX_FILES
    clock.advance(timedelta(hours=1))
    assert upload(client, ("one-more.png", picture)).status_code == 200


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\me\\Desktop\\สลิป.png", "สลิป.png"),
        ("  ..hidden.png  ", "hidden.png"),
        ("a\x00b\r\n<c>:d.png", "ab_c__d.png"),
        ("report.exe", "report.exe.png"),  # the true kind is always the last extension
        ("photo.JPG", "photo.JPG.png"),  # a PNG, whatever the name says
        ("", "image.png"),
        ("ก" * 300 + ".png", "ก" * 116 + ".png"),
    ],
)
def test_names_are_cleaned_and_end_in_the_true_kind(sent: str, kept: str) -> None:
    assert uploads.check(sent, png(), max_bytes=MAX_ATTACHMENT_BYTES).filename == kept


def test_documents_are_recognised_by_their_bytes() -> None:
    def kind_of(name: str, content: bytes) -> tuple[str, str, str]:
        checked = uploads.check(name, content, max_bytes=MAX_ATTACHMENT_BYTES)
        return checked.kind, checked.content_type, checked.filename

    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert kind_of("งบ.ods", ods.getvalue()) == ("file", "application/vnd.oasis.opendocument.spreadsheet", "งบ.ods")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500
    assert kind_of("หนังสือ.doc", ole) == ("file", "application/msword", "หนังสือ.doc")
    with pytest.raises(uploads.NotAccepted):
        kind_of("mystery.bin", ole)  # an OLE2 file is only taken with the name of what it is
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
    assert kind_of("clip", mp4) == ("video", "video/mp4", "clip.mp4")
    assert kind_of("ทะเบียน.csv", "เลขที่,เรื่อง\n1,ทดสอบ\n".encode()) == ("file", "text/csv", "ทะเบียน.csv")
    assert kind_of("old.txt", "ภาษาไทย".encode("cp874")) == ("file", "text/plain", "old.txt")
    assert kind_of("pic.jpeg", _jpeg()) == ("image", "image/jpeg", "pic.jpeg")
    assert kind_of("IMG_0001.JPG", _jpeg()) == ("image", "image/jpeg", "IMG_0001.JPG")


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "JPEG")
    return out.getvalue()


def test_a_decompression_bomb_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # 144 megapixels in a few kilobytes
    with pytest.raises(uploads.NotAccepted):
        uploads.check("bomb.png", out.getvalue(), max_bytes=MAX_ATTACHMENT_BYTES)


def test_a_full_20_mb_file_goes_through_a_real_http_server(live_server: str, runtime: Runtime) -> None:
    """The route's own body limit holds over real HTTP too (the app's limit is 1 MB)."""
    http = requests.Session()
    assert http.get(f"{live_server}/chat").status_code == 200
    assert http.post(f"{live_server}/chat/api/start", json={}).status_code == 200
    for text in INTAKE:
        assert http.post(f"{live_server}/chat/api/messages", json={"text": text}).status_code == 200
    manual = PDF + b"0" * (MAX_ATTACHMENT_BYTES - len(PDF))
    response = http.post(
        f"{live_server}/chat/api/uploads",
        files={"files": ("คู่มืองานสารบรรณ.pdf", manual, "application/pdf")},
        data={"text": "ตามคู่มือหน้า 12"},
        headers=HEADERS,
    )
    assert response.status_code == 200, response.text
    history = http.get(f"{live_server}/chat/api/messages?after=0.0").json()
    url = next(m for m in history["messages"] if m["files"])["files"][0]["url"]
    fetched = http.get(f"{live_server}{url}")
    assert fetched.content == manual
    assert requests.get(f"{live_server}{url}").status_code == 404  # no cookie
    with runtime.db.transaction() as session:
        assert session.scalars(select(Attachment.filename)).one() == "คู่มืองานสารบรรณ.pdf"


def test_staff_download_a_thai_named_upload_over_real_http(live_server: str, runtime: Runtime) -> None:
    """HTTP headers are Latin-1: the desk's download must carry a Thai name as RFC 6266 `filename*`."""
    browser = requests.Session()
    browser.get(f"{live_server}/chat")
    browser.post(f"{live_server}/chat/api/start", json={})
    for text in INTAKE:
        browser.post(f"{live_server}/chat/api/messages", json={"text": text})
    files = {"files": ("ทะเบียนหนังสือรับ.pdf", PDF, "application/pdf")}
    assert browser.post(f"{live_server}/chat/api/uploads", files=files, headers=HEADERS).status_code == 200
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri")
        attachment_id = session.scalars(select(Attachment.id)).one()
    staff = requests.Session()
    page = staff.get(f"{live_server}/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    login = {"username": "somsri", "password": factories.PASSWORD, "csrf_token": token}
    assert staff.post(f"{live_server}/login", data=login, allow_redirects=False).status_code == 302
    download = staff.get(f"{live_server}/attachments/{attachment_id}", timeout=30)  # before the fix: it hung
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=\"attachment-{attachment_id}.pdf\"; filename*=UTF-8''{quote('ทะเบียนหนังสือรับ.pdf')}"
    )


def test_uploads_no_ticket_took_can_be_purged_by_age_or_by_browser(client, app, runtime: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    client.get("/chat")
    client.post("/chat/api/start", json={})
    assert upload(client, ("early.png", png())).status_code == 200  # before the intake: no ticket takes it
    other = app.test_client()
    at_the_question(other)
    assert upload(other, ("question.png", png())).status_code == 200  # opens a ticket: linked
    clock.advance(timedelta(days=31))
    later = app.test_client()
    later.get("/chat")
    later.post("/chat/api/start", json={})
    assert upload(later, ("recent.png", png())).status_code == 200
    with runtime.db.transaction() as session:
        owner = session.scalars(select(Attachment.uploaded_by).where(Attachment.filename == "recent.png")).one()
        assert uploads.purge_unclaimed(session, before=clock.now() - timedelta(days=30)) == 1
        assert sorted(session.scalars(select(Attachment.filename))) == ["question.png", "recent.png"]
        assert uploads.purge_unclaimed(session, before=clock.now() + timedelta(seconds=1), owner=owner) == 1
        assert session.scalars(select(Attachment.filename)).all() == ["question.png"]
