"""The knowledge base in the desk: the pages under /kb, roles, CSRF, import and export, and agent assist."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from clinic import knowledge, similar_tickets, thaidate, tickets
from clinic.models import AnswerOffer, AuditEntry, KnowledgeArticle, StaffUser, Ticket
from clinic.runtime import Runtime
from tests import factories
from tests.test_desk_pages import _token, login
from tests.test_knowledge import HEADER, SAMPLE, load_sample


@pytest.fixture
def staff(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        now = runtime.clock.now()
        factories.staff_user(session, now=now, username="somsri", role="agent")
        factories.staff_user(session, now=now, username="boss", role="supervisor")


def _client(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


@pytest.fixture
def agent_client(app, staff):  # type: ignore[no-untyped-def]
    return _client(app, "somsri")


@pytest.fixture
def boss_client(app, staff):  # type: ignore[no-untyped-def]
    return _client(app, "boss")


def _article(runtime: Runtime, key: str) -> KnowledgeArticle:
    with runtime.db.transaction() as session:
        article = knowledge.get(session, key)
        assert article is not None
        session.expunge(article)
        return article


def _audit(runtime: Runtime, key: str) -> list[str]:
    with runtime.db.transaction() as session:
        return list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == key).order_by(AuditEntry.id))
        )


def _form(article: KnowledgeArticle, **changes: str) -> dict[str, str]:
    values = {"topic": article.topic_code, "title": article.title, "questions": article.questions,
              "answer": article.answer, "reference": article.reference, "effective_date": ""}  # fmt: skip
    values.update(changes)
    return values


# --- the list and the article page ----------------------------------------------------------


def test_the_list_ranks_a_question_filters_and_shows_badges(agent_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = session.scalar(select(StaffUser).where(StaffUser.username == "boss"))
        knowledge.approve(session, knowledge.get(session, "saraban-garuda"), now=now, staff=boss)  # type: ignore[arg-type]
        knowledge.set_status(session, knowledge.get(session, "ceremony-half-mast"), "retired", now=now, actor="t")  # type: ignore[arg-type]
        knowledge.get(session, "saraban-kinds").starter = True  # type: ignore[union-attr]
    page = agent_client.get("/kb").get_data(as_text=True)
    assert page.count('class="panel kb-item"') == 6
    assert 'class="active">คลังความรู้' in page.replace("\n", "")
    assert "ตั้งต้น ตรวจก่อนใช้" in page and "เลิกใช้" in page and "เผยแพร่" in page
    assert f"อนุมัติโดย boss · {thaidate.format_datetime(now)}" in page and "2569" in thaidate.format_datetime(now)
    assert "นำเข้า CSV" not in page  # an agent does not import

    ranked = agent_client.get("/kb", query_string={"q": "ตราครุฑบนหนังสือภายนอกสูงกี่เซนติเมตร"}).get_data(as_text=True)
    keys = [part.split('"')[0] for part in ranked.split('data-key="')[1:]]
    assert keys[0] == "saraban-garuda" and "ความตรงกับคำถาม: สูง" in ranked
    assert "ceremony-half-mast" not in keys  # retired: not ranked, and the words are not in it

    ceremony = agent_client.get("/kb", query_string={"topic": "ceremony"}).get_data(as_text=True)
    assert ceremony.count('class="panel kb-item"') == 2
    retired = agent_client.get("/kb", query_string={"status": "retired"}).get_data(as_text=True)
    assert retired.count('class="panel kb-item"') == 1 and 'data-key="ceremony-half-mast"' in retired
    drafts = agent_client.get("/kb", query_string={"status": "draft"}).get_data(as_text=True)
    assert "ไม่มีบทความที่ตรงกับเงื่อนไข" in drafts
    for bad in ({"status": "deleted"}, {"topic": "nosuch"}, {"q": "x" * 201}):
        refused = agent_client.get("/kb", query_string=bad)
        assert refused.status_code == 400 and " / " in refused.get_data(as_text=True), bad
    odd = agent_client.get("/kb", query_string={"q": "100%_' OR 1=1 --"})
    assert odd.status_code == 200 and "ไม่มีบทความที่ตรงกับเงื่อนไข" in odd.get_data(as_text=True)


def test_the_article_page_shows_its_text_questions_reference_date_and_history(boss_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    article = _article(runtime, "saraban-garuda")
    token = _token(boss_client, "/kb/article/saraban-garuda/edit")
    form = _form(article, effective_date="01/06/2526", reference="ข้อ 71")
    saved = boss_client.post("/kb/article/saraban-garuda/edit", data={**form, "csrf_token": token})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/kb/article/saraban-garuda")
    boss_client.post("/kb/article/saraban-garuda/status", data={"status": "retired", "csrf_token": token})
    page = boss_client.get("/kb/article/saraban-garuda").get_data(as_text=True)
    assert article.title in page and "ตราครุฑสูงเท่าไร" in page and "ข้อ 71" in page
    assert "1 มิ.ย. 2526" in page  # the effective date, Buddhist Era
    history = page[page.index("kb-history") :]
    assert "สร้างบทความ (เผยแพร่)" in history and "แก้ไข: อ้างอิง, วันที่มีผล" in history
    assert "สถานะ: เผยแพร่ → เลิกใช้" in history and "boss" in history
    assert boss_client.get("/kb/article/no-such-key").status_code == 404


# --- create, edit, and the roles ------------------------------------------------------------


def test_an_agent_reads_and_proposes_drafts_but_cannot_change_published_text(agent_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    before = _article(runtime, "saraban-secret")
    token = _token(agent_client, "/kb")
    for path, data in (
        ("/kb/article/saraban-secret/approve", {}),
        ("/kb/article/saraban-secret/status", {"status": "retired"}),
        ("/kb/article/saraban-secret/edit", _form(before, answer="แก้โดยไม่มีสิทธิ์")),
        ("/kb/import", {"file": (io.BytesIO(SAMPLE.encode()), "kb.csv")}),
    ):
        assert agent_client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert agent_client.get("/kb/article/saraban-secret/edit").status_code == 403
    assert agent_client.get("/kb/export.csv").status_code == 403
    assert agent_client.get("/kb/import").status_code == 403
    after = _article(runtime, "saraban-secret")
    assert (after.version, after.status, after.answer) == (before.version, before.status, before.answer)
    assert _audit(runtime, "saraban-secret") == ["kb.create"]

    fields = {"key": "circular-register", "topic": "saraban", "title": "หนังสือเวียนต้องลงทะเบียนไหม",
              "questions": "เวียน\nลงรับ", "answer": "ต้องลงทะเบียนรับ", "reference": ""}  # fmt: skip
    created = agent_client.post("/kb/new", data={**fields, "csrf_token": token})
    assert created.status_code == 302
    draft = _article(runtime, "circular-register")
    assert draft.status == "draft" and draft.sample_questions == ["เวียน", "ลงรับ"]
    page = agent_client.get("/kb/article/circular-register").get_data(as_text=True)
    assert "/kb/article/circular-register/edit" in page and "/approve" not in page
    edited = agent_client.post("/kb/article/circular-register/edit",
                               data={**_form(draft, answer="ต้องลงทะเบียนรับทุกฉบับ"), "csrf_token": token})  # fmt: skip
    assert edited.status_code == 302 and _article(runtime, "circular-register").answer == "ต้องลงทะเบียนรับทุกฉบับ"
    assert _audit(runtime, "circular-register") == ["kb.create", "kb.update"]


def test_bad_fields_show_the_reason_and_change_nothing(boss_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    before = _article(runtime, "saraban-kinds")
    token = _token(boss_client, "/kb/new")
    for changes, reason in (
        ({"effective_date": "2026-06-01"}, "dd/mm/yyyy"),
        ({"effective_date": "1/6/2026"}, "Buddhist Era year"),
        ({"effective_date": "31/02/2569"}, "no such date"),
        ({"title": ""}, "title"),
        ({"answer": "ก" * 5001}, "answer"),
        ({"topic": "nosuch"}, "Unknown topic"),
    ):
        refused = boss_client.post(
            "/kb/article/saraban-kinds/edit", data={**_form(before, **changes), "csrf_token": token}
        )
        assert refused.status_code == 400 and reason in refused.get_data(as_text=True), changes
    assert _article(runtime, "saraban-kinds").version == before.version
    for key, reason in (("Bad Key", "key"), ("saraban-kinds", "exists"), ("k" * 41, "key")):
        refused = boss_client.post("/kb/new", data={**_form(before), "key": key, "csrf_token": token})
        assert refused.status_code == 400 and reason in refused.get_data(as_text=True), key
        assert f'value="{key}"' in refused.get_data(as_text=True)  # the form keeps what was typed
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 6


def test_a_supervisor_approves_publishes_retires_and_an_edit_clears_the_approval(boss_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    now = runtime.clock.now()
    token = _token(boss_client, "/kb")
    boss_client.post("/kb/article/saraban-urgency/status", data={"status": "draft", "csrf_token": token})
    assert _article(runtime, "saraban-urgency").status == "draft"
    boss_client.post("/kb/article/saraban-urgency/approve", data={"csrf_token": token})
    approved = _article(runtime, "saraban-urgency")
    assert approved.status == "published" and approved.approved_at == now and not approved.starter
    page = boss_client.get("/kb/article/saraban-urgency").get_data(as_text=True)
    assert "อนุมัติโดย boss" in page
    edit_page = boss_client.get("/kb/article/saraban-urgency/edit").get_data(as_text=True)
    assert "การอนุมัติเดิมจะถูกยกเลิก" in edit_page and 'name="key"' not in edit_page  # the key is fixed
    boss_client.post("/kb/article/saraban-urgency/edit",
                     data={**_form(approved, answer=approved.answer + " (ปรับปรุง)"), "csrf_token": token})  # fmt: skip
    edited = _article(runtime, "saraban-urgency")
    assert edited.approved_at is None and edited.approved_by_id is None and edited.status == "published"
    boss_client.post("/kb/article/saraban-urgency/status", data={"status": "retired", "csrf_token": token})
    unknown = boss_client.post("/kb/article/saraban-urgency/status", data={"status": "gone", "csrf_token": token},
                               follow_redirects=True)  # fmt: skip
    assert "Unknown status" in unknown.get_data(as_text=True)
    assert _article(runtime, "saraban-urgency").status == "retired"
    assert _audit(runtime, "saraban-urgency") == ["kb.create", "kb.status", "kb.approve", "kb.update", "kb.status"]


def test_the_pages_need_a_login(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    for path in ("/kb", "/kb/article/saraban-kinds", "/kb/new", "/kb/article/saraban-kinds/edit", "/kb/import",
                 "/kb/export.csv", "/kb/similar/CL-2569-00001"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_forms_without_a_csrf_token_are_refused(app, runtime: Runtime, staff) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    app.config["WTF_CSRF_ENABLED"] = True
    boss = _client(app, "boss")
    assert boss.post("/kb/article/saraban-kinds/approve").status_code == 400
    assert boss.post("/kb/article/saraban-kinds/status", data={"status": "retired"}).status_code == 400
    assert (
        boss.post("/kb/new", data={"key": "no-token", "topic": "saraban", "title": "t", "answer": "a"}).status_code
        == 400
    )
    upload = {"file": (io.BytesIO((HEADER + "no-token,saraban,t,q,a,\n").encode()), "kb.csv")}
    assert boss.post("/kb/import", data=upload, content_type="multipart/form-data").status_code == 400
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 6
        article = knowledge.get(session, "saraban-kinds")
        assert article is not None and article.status == "published" and article.approved_at is None


# --- import and export ----------------------------------------------------------------------


def _upload(client, content: bytes, token: str):  # type: ignore[no-untyped-def]
    return client.post("/kb/import", data={"file": (io.BytesIO(content), "kb.csv"), "csrf_token": token},
                       content_type="multipart/form-data")  # fmt: skip


def test_import_and_export_through_the_desk(boss_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    token = _token(boss_client, "/kb/import")
    bad = HEADER + "new-one,saraban,ชื่อ,คำถาม,คำตอบ,\nBad Key,saraban,ชื่อ,คำถาม,คำตอบ,\nx-y,nosuch,ชื่อ,คำถาม,คำตอบ,\n"
    refused = _upload(boss_client, ("\ufeff" + bad).encode(), token)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "บรรทัด 3 / line 3" in text and "บรรทัด 4 / line 4" in text
    assert "ยังไม่ได้นำเข้าข้อมูลใด ๆ" in text
    assert _upload(boss_client, "ก".encode("tis-620"), token).status_code == 400
    assert "UTF-8" in _upload(boss_client, "ก".encode("tis-620"), token).get_data(as_text=True)
    too_big = _upload(boss_client, b"x" * (2 * 1024 * 1024 + 10), token)
    assert too_big.status_code == 413 and "2 MB" in too_big.get_data(as_text=True)
    empty = boss_client.post("/kb/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert empty.status_code == 400
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 0

    # Over the app's usual 1 MB body limit, under the import's 2 MB: accepted.
    padding = "\n".join(f"คำถามตัวอย่างที่ {i}" for i in range(150))
    rows = "".join(f'bulk-{i},saraban,ชื่อ {i},"{padding}",คำตอบ {i},ข้อ {i}\n' for i in range(200))
    assert 1024 * 1024 < len((HEADER + rows).encode()) < 2 * 1024 * 1024
    done = _upload(boss_client, (HEADER + rows).encode(), token)
    assert done.status_code == 302
    assert "ใหม่ 200" in boss_client.get("/kb").get_data(as_text=True)
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).where(KnowledgeArticle.status == "published")) == 200
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "kb.create", AuditEntry.actor == "boss"))
            == 200
        )

    exported = boss_client.get("/kb/export.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data().decode("utf-8")
    assert body.startswith("\ufeff" + HEADER) and "bulk-199" in body


# --- agent assist ---------------------------------------------------------------------------


def _closed(session, now, body: str, answer: str, topic: str = "saraban", reply: str = "") -> Ticket:  # type: ignore[no-untyped-def]
    ticket = factories.ticket(session, now=now, body=body, topic=topic)
    if reply:
        tickets.reply(session, ticket, body=reply, now=now + timedelta(minutes=5))
    tickets.close(session, ticket, now=now + timedelta(hours=1), final_answer=answer)
    return ticket


def test_similar_tickets_prefer_rare_shared_words_and_bring_the_final_answer(runtime: Runtime) -> None:
    now = runtime.clock.now() - timedelta(days=3)
    with runtime.db.transaction() as session:
        garuda = _closed(
            session,
            now,
            "ตราครุฑบนหนังสือภายนอกต้องสูงกี่เซนติเมตรคะ",
            "สูง 3 เซนติเมตร ตามระเบียบข้อ 71",
            reply="ขอตรวจสอบก่อนนะคะ",
        )  # an earlier reply is not the final answer
        _closed(session, now, "หนังสือภายนอกต้องเซ็นชื่ออย่างไร", "ลงชื่อและตำแหน่ง")
        _closed(session, now, "หนังสือเวียนต้องส่งอย่างไร", "ส่งทางระบบสารบรรณ")
        silent = factories.ticket(session, now=now, body="ตราครุฑบนหนังสือภายนอกขนาดเท่าไร")
        tickets.close(session, silent, now=now)  # closed without a reply: nothing to reuse
        asking = factories.ticket(session, now=runtime.clock.now(), body="ขอถามขนาดตราครุฑบนหนังสือภายนอกค่ะ")
        found = similar_tickets.for_ticket(session, asking)
        assert [s.ticket.number for s in found][0] == garuda.number
        assert found[0].final_answer == "สูง 3 เซนติเมตร ตามระเบียบข้อ 71"
        assert silent.number not in [s.ticket.number for s in found] and asking.number not in [
            s.ticket.number for s in found
        ]
        assert "ตราครุฑ" in found[0].shared_words
        # A closed ticket never lists itself.
        assert garuda.number not in [s.ticket.number for s in similar_tickets.for_ticket(session, garuda)]
        assert similar_tickets.find(session, "ครับ ค่ะ ??") == []


def test_the_ticket_page_shows_shown_articles_best_articles_and_similar_closed_tickets(
    agent_client, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    load_sample(runtime, vectors=False)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        earlier = _closed(session, now - timedelta(days=2), "ตราครุฑบนหนังสือภายนอกต้องใหญ่แค่ไหน", "ครุฑสูง 3 ซม. ตามข้อ 71")
        other = _closed(session, now - timedelta(days=2), "งานพิธีถวายพระพรแต่งกายอย่างไร", "เครื่องแบบปกติขาว", "ceremony")
        ticket = factories.ticket(session, now=now, body="ตราครุฑบนหนังสือภายนอกสูงกี่เซนติเมตร")
        session.add(AnswerOffer(requester_id=ticket.requester_id, channel="line", agency_type_code="district",
                                topic_code="saraban", question="ครุฑสูงเท่าไร", asked_at=now,
                                article_keys=["saraban-kinds", "saraban-garuda"], scores=[0.6, 0.5],
                                outcome="asked_staff", ticket_id=ticket.id))  # fmt: skip
        number, earlier_number, other_number = ticket.number, earlier.number, other.number
    page = agent_client.get(f"/tickets/{number}").get_data(as_text=True)
    panel = page[page.index('id="kb-assist"') :]
    shown = panel[: panel.index("บทความที่ตรงกับคำถามนี้")]
    assert "บทความที่ผู้ขอได้อ่านในแชตแล้ว" in shown and shown.index("saraban-kinds") < shown.index("saraban-garuda")
    best = panel[panel.index("บทความที่ตรงกับคำถามนี้") : panel.index("เรื่องที่ปิดแล้วที่คล้ายกัน")]
    assert best.index('data-key="saraban-garuda"') < best.index("kb-insert")
    assert "ความตรงกับคำถาม: สูง" in best and "ผู้ขอได้อ่านบทความนี้แล้ว" in best
    garuda = _article(runtime, "saraban-garuda")
    assert f'data-text="{escape(garuda.answer)}&#10;อ้างอิง: {escape(garuda.reference)}"' in best
    # The similar closed tickets come as a fragment the page fetches once it has loaded.
    assert f'data-url="/kb/similar/{number}"' in panel and "ครุฑสูง 3 ซม." not in panel
    fragment = agent_client.get(f"/kb/similar/{number}")
    similar = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in similar
    assert f'data-ticket="{earlier_number}"' in similar and "ครุฑสูง 3 ซม. ตามข้อ 71" in similar
    assert other_number not in similar and f'data-ticket="{number}"' not in similar
    assert 'data-text="ครุฑสูง 3 ซม. ตามข้อ 71"' in similar
    assert agent_client.get("/kb/similar/CL-0000-00000").status_code == 404
    assert "ทำเป็นร่างบทความ" not in panel  # only on a closed ticket


def test_a_closed_ticket_becomes_a_draft_article_in_one_click(agent_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=now, body="หนังสือเวียนต้องลงทะเบียนรับไหม")
        number = ticket.number
    token = _token(agent_client, f"/tickets/{number}")
    refused = agent_client.post(f"/kb/from-ticket/{number}", data={"csrf_token": token}, follow_redirects=True)
    assert "Only a closed ticket" in refused.get_data(as_text=True)
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 0
        tickets.close(session, tickets.get_by_number(session, number), now=now, final_answer="ต้องลงทะเบียนรับทุกฉบับ")  # type: ignore[arg-type]
    page = agent_client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "ทำเป็นร่างบทความ" in page and "kb-insert" not in page  # a closed ticket takes no reply
    made = agent_client.post(f"/kb/from-ticket/{number}", data={"csrf_token": token})
    key = f"ticket-{number.lower()}"
    assert made.status_code == 302 and made.headers["Location"].endswith(f"/kb/article/{key}/edit")
    draft = _article(runtime, key)
    assert (draft.status, draft.questions, draft.answer) == ("draft", "หนังสือเวียนต้องลงทะเบียนรับไหม", "ต้องลงทะเบียนรับทุกฉบับ")
    edit = agent_client.get(f"/kb/article/{key}/edit").get_data(as_text=True)
    assert "ต้องลงทะเบียนรับทุกฉบับ" in edit
    assert _audit(runtime, key) == ["kb.create"]
    assert agent_client.post("/kb/from-ticket/CL-0000-00000", data={"csrf_token": token}).status_code == 404


# --- Buddhist Era dates ---------------------------------------------------------------------


def test_buddhist_era_dates_typed_as_day_month_year() -> None:
    assert thaidate.parse_date_numeric("01/06/2526") == date(1983, 6, 1)
    assert thaidate.parse_date_numeric(" ๒๕/๕/๒๕๖๔ ") == date(2021, 5, 25)
    assert thaidate.parse_date_numeric("") is None
    assert thaidate.format_date_numeric(date(2021, 5, 25)) == "25/05/2564"
    for bad in ("2021-05-25", "25/05/2021", "29/02/2565", "1/13/2564", "abc"):
        with pytest.raises(ValueError, match=" / "):
            thaidate.parse_date_numeric(bad)
