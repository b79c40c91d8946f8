"""Files on a staff reply: the desk's form (checks, limits, roles, CSRF), the outbox payload, delivery
to LINE (image messages and signed links), Messenger (real attachments, resumable) and the web chat
(listed, fetched by the requester's browser only), and the signed `/files/<token>` links."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.tasks import deliver_outbox
from clinic import file_links, tickets, uploads
from clinic.clock import FrozenClock
from clinic.models import Attachment, AuditEntry, Message, OutboxMessage, Ticket
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer
from tests.test_desk_pages import CSRF, login
from tests.test_webchat_files import PDF, at_the_question, png

BASE = "https://clinic.example"


@pytest.fixture
def config_env(config_env: dict[str, str]) -> dict[str, str]:
    """LINE fetches images over HTTPS only: the clinic's public address is an https one here."""
    return {**config_env, "PUBLIC_BASE_URL": BASE}


@pytest.fixture
def desk(app, runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (300, 200), 3).save(out, "GIF")
    return out.getvalue()


def open_ticket(runtime: Runtime, channel: str = "line", user_id: str = "U-files-1") -> str:
    with runtime.db.transaction() as session:
        return factories.ticket(session, now=runtime.clock.now(), channel=channel, user_id=user_id).number


def post_reply(client: Any, number: str, body: str, *files: tuple[str, bytes], token: str | None = None) -> Any:
    if token is None:
        match = CSRF.search(client.get(f"/tickets/{number}").get_data(as_text=True))
        assert match
        token = match.group(1)
    data: dict[str, Any] = {"body": body, "csrf_token": token}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/tickets/{number}/reply", data=data, content_type="multipart/form-data")


def counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.db.transaction() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Message).where(Message.kind == "outbound")) or 0),
            int(session.scalar(select(func.count()).select_from(Attachment)) or 0),
            int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0),
        )


def reply_row(runtime: Runtime) -> OutboxMessage:
    with runtime.db.transaction() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one()
        session.expunge(row)
        return row


def local(url: str) -> str:
    assert url.startswith(BASE + "/files/"), url
    return url[len(BASE) :]


# --- the desk's form ---------------------------------------------------------------------------


def test_a_reply_with_an_image_and_a_document_keeps_them_and_queues_references(desk, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    number = open_ticket(runtime)
    picture = png()
    response = post_reply(desk, number, "แนบแผนผังและแบบฟอร์มค่ะ", ("แผนผัง.png", picture), ("แบบฟอร์ม", PDF))
    assert response.status_code == 302
    page = desk.get(f"/tickets/{number}").get_data(as_text=True)
    assert "ส่งคำตอบพร้อมไฟล์แนบ 2 ไฟล์แล้ว" in page
    with runtime.db.transaction() as session:
        message = session.scalars(select(Message).where(Message.kind == "outbound")).one()
        kept = [(a.kind, a.filename, a.content_type, a.size, a.uploaded_by) for a in message.attachments]
        ids = [a.id for a in message.attachments]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.reply")).one()
        assert audit.detail["files"] == ["แผนผัง.png", "แบบฟอร์ม.pdf"]
    # The name gets the extension of what the bytes are (a PDF sent as `แบบฟอร์ม`).
    assert kept == [("image", "แผนผัง.png", "image/png", len(picture), None),
                    ("file", "แบบฟอร์ม.pdf", "application/pdf", len(PDF), None)]  # fmt: skip
    assert reply_row(runtime).payload == [
        {"text": "แนบแผนผังและแบบฟอร์มค่ะ"},
        {"attachment": {"id": ids[0], "kind": "image", "filename": "แผนผัง.png"}},
        {"attachment": {"id": ids[1], "kind": "file", "filename": "แบบฟอร์ม.pdf"}},
    ]
    # Staff see the image inline in the thread and the document as a download.
    assert f'src="/attachments/{ids[0]}"' in page and f'href="/attachments/{ids[1]}" download' in page


def test_a_reply_may_be_files_alone(desk, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    number = open_ticket(runtime)
    assert post_reply(desk, number, "  ", ("scan.pdf", PDF)).status_code == 302
    with runtime.db.transaction() as session:
        (kept,) = session.scalars(select(Attachment)).all()
        assert session.scalars(select(Message.body).where(Message.kind == "outbound")).one() == ""
    assert reply_row(runtime).payload == [{"attachment": {"id": kept.id, "kind": "file", "filename": "scan.pdf"}}]
    # Neither text nor file is still an empty reply.
    assert "ข้อความตอบกลับว่างเปล่า" in desk.get(post_reply(desk, number, "").headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ([("setup.exe", b"MZ\x90\x00 not a document")], "ไม่ใช่ชนิดที่รับได้"),
        ([("fake.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")], "is not a kind of file we accept"),
        ([("empty.pdf", b"")], "ว่างเปล่า"),
        ([(f"f{i}.pdf", PDF) for i in range(6)], "แนบได้ครั้งละไม่เกิน 5 ไฟล์ / At most 5 files per reply"),
        ([("ok.pdf", PDF), ("big.pdf", b"%PDF-" + b"0" * uploads.MAX_FILE_BYTES)], "ใหญ่เกิน 20 MB"),
    ],
    ids=["executable", "svg-as-png", "empty", "six-files", "over-20-mb"],
)
def test_a_refused_file_refuses_the_reply_and_changes_nothing(desk, runtime: Runtime, files, error: str) -> None:  # type: ignore[no-untyped-def]
    number = open_ticket(runtime)
    before = counts(runtime)
    response = post_reply(desk, number, "ตอบพร้อมไฟล์", *files)
    assert response.status_code == 302
    assert error in desk.get(response.headers["Location"]).get_data(as_text=True)
    assert counts(runtime) == before
    with runtime.db.transaction() as session:
        assert session.scalars(select(Ticket)).one().status == "open"


def test_the_form_needs_a_login_and_its_csrf_token(app, desk, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    number = open_ticket(runtime)
    before = counts(runtime)
    stranger = app.test_client()
    response = post_reply(stranger, number, "ตอบ", ("a.png", png()), token="")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert post_reply(desk, number, "ตอบ", ("a.png", png()), token="forged").status_code == 400
    assert post_reply(desk, number, "ตอบ", ("a.png", png()), token="").status_code == 400
    assert counts(runtime) == before


def test_only_the_reply_form_takes_more_than_a_megabyte(desk, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    number = open_ticket(runtime)
    token = CSRF.search(desk.get(f"/tickets/{number}").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    big = b"%PDF-" + b"1" * (3 * 1024 * 1024)
    note = desk.post(f"/tickets/{number}/note", data={"body": "บันทึก", "csrf_token": token,
                                                      "files": [(io.BytesIO(big), "a.pdf")]},
                     content_type="multipart/form-data")  # fmt: skip
    assert note.status_code == 413
    assert post_reply(desk, number, "ตอบ", ("big.pdf", big), token=token).status_code == 302
    assert counts(runtime)[1] == 1
    # A body declaring more than five full files is refused before it is read.
    huge = desk.post(
        f"/tickets/{number}/reply", data=b"x", content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(5 * uploads.MAX_FILE_BYTES + 65 * 1024)},
    )  # fmt: skip
    assert huge.status_code == 302
    assert "ไฟล์ใหญ่เกินไป" in desk.get(huge.headers["Location"]).get_data(as_text=True)
    assert counts(runtime)[1] == 1


# --- LINE: image messages and signed links -----------------------------------------------------


def test_line_gets_an_image_message_and_a_link_for_a_document(  # type: ignore[no-untyped-def]
    desk, runtime: Runtime, api_server: FakeApiServer
) -> None:
    number = open_ticket(runtime, "line", "U-line-files")
    picture = png(1600, 1200)
    assert post_reply(desk, number, "ดูตามแผนผังนี้ค่ะ", ("แผนผัง.png", picture), ("คู่มือ.pdf", PDF)).status_code == 302
    row = reply_row(runtime)
    assert deliver_outbox(row.id) == "sent"
    (push,) = api_server.matching("POST", r"^/v2/bot/message/push$", status=200)
    messages = push.json["messages"]
    assert [m["type"] for m in messages] == ["text", "image", "text"]
    assert messages[0] == {"type": "text", "text": "ดูตามแผนผังนี้ค่ะ"}
    assert set(messages[1]) == {"type", "originalContentUrl", "previewImageUrl"}
    document = messages[2]["text"].split("\n")
    assert document[0] == "📎 คู่มือ.pdf"
    assert document[2] == "ดาวน์โหลดได้ถึง 2 ธ.ค. 2569 10:00 น. / The link works until 2026-12-02 03:00 UTC"

    full = desk.get(local(messages[1]["originalContentUrl"]))
    assert full.status_code == 200 and full.data == picture and full.mimetype == "image/png"
    assert full.headers["Content-Disposition"].startswith("inline")
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    preview = desk.get(local(messages[1]["previewImageUrl"]))
    assert preview.mimetype == "image/jpeg" and len(preview.data) <= 1024 * 1024
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.format == "JPEG" and max(image.size) == 1024
    download = desk.get(local(document[1]))
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with runtime.db.transaction() as session:
        assert session.scalars(select(Message).where(Message.kind == "outbound")).one().delivery_status == "sent"


def test_a_gif_reaches_line_as_jpeg(desk, runtime: Runtime, api_server: FakeApiServer) -> None:  # type: ignore[no-untyped-def]
    number = open_ticket(runtime)
    assert post_reply(desk, number, "", ("ภาพ.gif", gif())).status_code == 302
    assert deliver_outbox(reply_row(runtime).id) == "sent"
    (push,) = api_server.matching("POST", r"^/v2/bot/message/push$", status=200)
    (image,) = push.json["messages"]
    full = desk.get(local(image["originalContentUrl"]))
    assert full.mimetype == "image/jpeg" and full.data.startswith(b"\xff\xd8")


def test_line_without_an_https_address_fails_clearly(  # type: ignore[no-untyped-def]
    app, runtime: Runtime, api_server: FakeApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = open_ticket(runtime)
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        assert ticket is not None
        checked = uploads.check("a.png", png(), max_bytes=uploads.MAX_FILE_BYTES)
        tickets.reply(session, ticket, body="ตอบ", now=runtime.clock.now(), actor="test", attachments=[
            tickets.NewAttachment(checked.kind, checked.filename, checked.content_type, checked.content)])  # fmt: skip
    monkeypatch.setattr(runtime, "config", dataclasses.replace(runtime.config, public_base_url="http://clinic.example"))
    row = reply_row(runtime)
    assert deliver_outbox(row.id) == "failed"
    assert "PUBLIC_BASE_URL" in (reply_row(runtime).last_error or "")
    assert api_server.matching("POST", r"^/v2/bot/message/push$") == []


# --- the signed links themselves ---------------------------------------------------------------


def test_signed_links_expire_refuse_tampering_and_list_nothing(  # type: ignore[no-untyped-def]
    desk, app, runtime: Runtime, clock: FrozenClock
) -> None:
    number = open_ticket(runtime)
    assert post_reply(desk, number, "ตอบ", ("a.png", png()), ("b.pdf", PDF)).status_code == 302
    image_id, pdf_id = (ref["attachment"]["id"] for ref in reply_row(runtime).payload[1:])
    secret = runtime.config.secret_key
    anyone = app.test_client()  # no login: LINE's servers and the requester's phone

    link = file_links.url(BASE, secret, image_id, "full", now=clock.now())
    assert anyone.get(local(link)).status_code == 200
    # Tampered: another id under the same signature, a changed character, or another key's signature.
    token = local(link).rsplit("/", 1)[1]
    value, signature = token.rsplit(".", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert anyone.get(f"/files/{value}.{flipped}").status_code == 404
    assert anyone.get(local(file_links.url(BASE, "another-key", image_id, "full", now=clock.now()))).status_code == 404
    assert anyone.get("/files/" + "x" * 400).status_code == 404
    # Nothing is listed, and no other method is answered.
    assert anyone.get("/files/").status_code == 404
    assert anyone.get("/files").status_code == 404
    assert anyone.post(local(link)).status_code == 405
    # A document has no preview; a requester's own upload (inbound) is never served this way.
    assert anyone.get(local(file_links.url(BASE, secret, pdf_id, "preview", now=clock.now()))).status_code == 404
    with runtime.db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        assert ticket is not None
        inbound = tickets.add_requester_message(session, ticket, body="ภาพของฉัน", now=clock.now(), attachments=[
            tickets.NewAttachment("image", "mine.png", "image/png", png())])  # fmt: skip
        theirs = inbound.attachments[0].id
    assert anyone.get(local(file_links.url(BASE, secret, theirs, "full", now=clock.now()))).status_code == 404
    assert anyone.get(local(file_links.url(BASE, secret, 999999, "full", now=clock.now()))).status_code == 404

    # Seven days on, the same link is gone.
    clock.advance(seconds=7 * 24 * 3600 - 1)
    assert anyone.get(local(link)).status_code == 200
    clock.advance(seconds=1)
    assert anyone.get(local(link)).status_code == 410


def test_link_tokens_round_trip_and_say_when_they_expire(clock: FrozenClock) -> None:
    token = file_links.token("k", 7, "preview", now=clock.now())
    assert file_links.read("k", token, now=clock.now()) == file_links.FileLink(
        7, "preview", clock.now() + timedelta(days=7)
    )
    with pytest.raises(file_links.LinkExpired):
        file_links.read("k", token, now=clock.now() + timedelta(days=7))
    with pytest.raises(file_links.LinkInvalid):
        file_links.read("other", token, now=clock.now())
    with pytest.raises(ValueError):
        file_links.token("k", 7, "original", now=clock.now())


# --- Messenger: real attachments, resumable ----------------------------------------------------


def test_messenger_gets_real_attachments_and_a_retry_resumes_after_the_sent_parts(  # type: ignore[no-untyped-def]
    desk, runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    number = open_ticket(runtime, "messenger", "PSID-files")
    picture = png()
    assert post_reply(desk, number, "ตามไฟล์แนบค่ะ", ("ผัง.png", picture), ("คู่มือ.pdf", PDF)).status_code == 302
    row = reply_row(runtime)
    # The text and the image go; the document's upload meets a server error.
    api_server.fail("POST", r"/me/messages$", 500, {"error": {"message": "temporary", "code": 2}}, skip=2)
    assert deliver_outbox(row.id) == "pending"
    assert reply_row(runtime).sent_parts == 2
    clock.advance(seconds=6)
    assert deliver_outbox(row.id) == "sent"

    sends = api_server.matching("POST", r"^/v21\.0/me/messages$", status=200)
    assert len(sends) == 3  # text once, image once, document once (after its retry)
    assert sends[0].json == {"recipient": {"id": "PSID-files"}, "messaging_type": "RESPONSE",
                             "message": {"text": "ตามไฟล์แนบค่ะ"}}  # fmt: skip
    assert [(f["recipient"], f["type"], f["filename"], f["content_type"], f["messaging_type"])
            for f in api_server.messenger_files] == [
        ("PSID-files", "image", "ผัง.png", "image/png", "RESPONSE"),
        ("PSID-files", "file", "คู่มือ.pdf", "application/pdf", "RESPONSE"),
    ]  # fmt: skip
    assert [f["data"] for f in api_server.messenger_files] == [picture, PDF]
    assert all(s.query["access_token"] == ["messenger-test-token"] for s in sends)


def test_a_late_messenger_file_goes_with_the_human_agent_tag(  # type: ignore[no-untyped-def]
    desk, runtime: Runtime, clock: FrozenClock, api_server: FakeApiServer
) -> None:
    number = open_ticket(runtime, "messenger", "PSID-late")
    clock.advance(hours=30)
    assert post_reply(desk, number, "", ("ผัง.png", png())).status_code == 302
    assert deliver_outbox(reply_row(runtime).id) == "sent"
    (sent,) = api_server.messenger_files
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_the_fake_refuses_a_malformed_messenger_upload(api_server: FakeApiServer) -> None:
    import requests

    url = f"{api_server.url}/v21.0/me/messages"
    bad = requests.post(url, params={"access_token": "t"}, data={"recipient": '{"id": "P"}', "messaging_type":
                        "RESPONSE", "message": '{"attachment": {"type": "image", "payload": {}}}'},
                        files={"other": ("a.txt", b"x", "text/plain")}, timeout=5)  # fmt: skip
    assert bad.status_code == 400 and "filedata" in bad.json()["error"]["message"]
    assert api_server.messenger_files == []


# --- the web chat ------------------------------------------------------------------------------


def test_the_web_requester_sees_the_files_and_only_their_browser_fetches_them(  # type: ignore[no-untyped-def]
    client, app, desk, runtime: Runtime
) -> None:
    at_the_question(client)
    assert client.post("/chat/api/messages", json={"text": "ขอแบบฟอร์มลาค่ะ"}).status_code == 200
    with runtime.db.transaction() as session:
        number = session.scalars(select(Ticket.number)).one()
    picture = png()
    assert post_reply(desk, number, "แบบฟอร์มตามแนบค่ะ", ("ผัง.png", picture), ("แบบลา.pdf", PDF)).status_code == 302
    assert deliver_outbox(reply_row(runtime).id) == "sent"

    staff = [m for m in client.get("/chat/api/messages?after=0.0").json["messages"] if m["from"] == "staff"]
    assert len(staff) == 1 and staff[0]["text"] == "แบบฟอร์มตามแนบค่ะ"
    files = staff[0]["files"]
    assert [(f["name"], f["type"], f["size"], f["image"]) for f in files] == [
        ("ผัง.png", "image/png", len(picture), True), ("แบบลา.pdf", "application/pdf", len(PDF), False)]  # fmt: skip
    assert all(re.fullmatch(r"/chat/api/attachments/\d+", f["url"]) for f in files)
    image = client.get(files[0]["url"])
    assert image.status_code == 200 and image.data == picture and image.headers["X-Content-Type-Options"] == "nosniff"
    document = client.get(files[1]["url"])
    assert document.data == PDF and document.headers["Content-Disposition"].startswith("attachment")

    # Another browser (even one with its own ticket) and no cookie at all: as if the files did not exist.
    other = app.test_client()
    at_the_question(other)
    assert other.post("/chat/api/messages", json={"text": "คำถามของฉัน"}).status_code == 200
    assert other.get(files[0]["url"]).status_code == 404
    assert app.test_client().get(files[1]["url"]).status_code == 404
