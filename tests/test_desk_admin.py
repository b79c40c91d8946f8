"""Admin pages: only admins; staff accounts, agencies, topics, canned answers, SLA, survey wording."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic import settings
from clinic.models import Agency, AuditEntry, CannedAnswer, StaffUser, SurveyItem, Topic
from clinic.runtime import Runtime
from tests import factories
from tests.test_desk_pages import _token, login


@pytest.fixture
def admin_client(app, runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=runtime.clock.now(), username="admin", role="admin")
        factories.staff_user(session, now=runtime.clock.now(), username="somsri", role="agent")
    client = app.test_client()
    login(client, "admin")
    return client


def _post(client, path: str, data: dict):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": _token(client, "/inbox")}, follow_redirects=True)


def test_admin_pages_are_for_admins_only(app, admin_client) -> None:  # type: ignore[no-untyped-def]
    agent = app.test_client()
    login(agent, "somsri")
    for section in ("staff", "agencies", "topics", "canned", "sla", "survey", "audit"):
        assert admin_client.get(f"/admin/{section}").status_code == 200
        assert agent.get(f"/admin/{section}").status_code == 403
    assert "/admin" not in agent.get("/inbox").get_data(as_text=True)


def test_staff_accounts_create_change_and_keep_one_admin(admin_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    new = {"username": "Malee", "display_name": "มาลี", "password": "long-enough-pw", "role": "supervisor"}
    page = _post(admin_client, "/admin/staff", new).get_data(as_text=True)
    assert "Account malee created" in page
    short = _post(admin_client, "/admin/staff", {"username": "x", "password": "short", "role": "agent"})
    assert "Password needs 10+" in short.get_data(as_text=True)
    with runtime.db.transaction() as session:
        malee = session.scalar(select(StaffUser).where(StaffUser.username == "malee"))
        admin = session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
        assert malee.role == "supervisor" and session.scalar(select(StaffUser).where(StaffUser.username == "x")) is None
    _post(admin_client, f"/admin/staff/{malee.id}", {"role": "agent", "display_name": "มาลี ส.", "password": ""})
    refused = _post(admin_client, f"/admin/staff/{admin.id}", {"role": "agent", "active": "on"})
    assert "At least one active admin" in refused.get_data(as_text=True)
    with runtime.db.transaction() as session:
        malee = session.get(StaffUser, malee.id)
        assert (malee.role, malee.active, malee.display_name) == ("agent", False, "มาลี ส.")
        assert session.get(StaffUser, admin.id).role == "admin"


def test_agencies_add_rename_retire(admin_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    _post(
        admin_client, "/admin/agencies", {"name_th": "สำนักงานทดลอง", "name_en": "Trial office", "agency_type": "bureau"}
    )
    with runtime.db.transaction() as session:
        added = session.scalar(select(Agency).where(Agency.name_th == "สำนักงานทดลอง"))
        assert added.code is None and added.active
        district = session.scalar(select(Agency).where(Agency.code == "district-1001"))
    _post(admin_client, f"/admin/agencies/{district.id}", {"name_th": "สำนักงานเขตพระนคร (ใหม่)", "name_en": "",
                                                           "agency_type": "district"})  # fmt: skip
    bad = _post(admin_client, f"/admin/agencies/{added.id}", {"name_th": "", "agency_type": "bureau", "active": "on"})
    assert "required" in bad.get_data(as_text=True)
    with runtime.db.transaction() as session:
        district = session.get(Agency, district.id)
        assert district.name_th == "สำนักงานเขตพระนคร (ใหม่)" and not district.active
        assert session.get(Agency, added.id).name_th == "สำนักงานทดลอง"


def test_topics_add_and_retire_but_never_the_last(admin_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    _post(admin_client, "/admin/topics", {"code": "finance", "label_th": "ด้านการเงิน", "label_en": "Finance",
                                          "short_th": "การเงิน"})  # fmt: skip
    long_label = _post(admin_client, "/admin/topics", {"code": "x", "label_th": "ก", "label_en": "x",
                                                       "short_th": "ก" * 21})  # fmt: skip
    assert "over 20" in long_label.get_data(as_text=True)
    with runtime.db.transaction() as session:
        codes = list(session.scalars(select(Topic.code).where(Topic.active.is_(True))))
    assert "finance" in codes and "x" not in codes
    for code in codes[:-1]:
        _post(admin_client, f"/admin/topics/{code}", {"label_th": code, "label_en": code, "short_th": code})
    last = _post(admin_client, f"/admin/topics/{codes[-1]}", {"label_th": "a", "label_en": "a", "short_th": "a"})
    assert "At least one topic" in last.get_data(as_text=True)


def test_canned_answers_are_kept_and_searchable_from_the_reply_box(admin_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    _post(admin_client, "/admin/canned", {"title": "การลงทะเบียนรับหนังสือ", "body": "ให้ลงทะเบียนรับในระบบสารบรรณ",
                                          "regulation_ref": "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ ข้อ 38",
                                          "topic": "saraban"})  # fmt: skip
    _post(admin_client, "/admin/canned", {"title": "การแต่งกาย", "body": "แต่งเครื่องแบบปกติขาว"})
    found = admin_client.get("/canned", query_string={"q": "สารบรรณ"}).json["items"]
    assert [a["title"] for a in found] == ["การลงทะเบียนรับหนังสือ"]
    assert found[0]["regulation_ref"].endswith("ข้อ 38")
    with runtime.db.transaction() as session:
        dress = session.scalar(select(CannedAnswer).where(CannedAnswer.title == "การแต่งกาย"))
    _post(admin_client, f"/admin/canned/{dress.id}", {"title": "การแต่งกาย", "body": "แต่งเครื่องแบบปกติขาว"})  # retired
    assert [a["title"] for a in admin_client.get("/canned").json["items"]] == ["การลงทะเบียนรับหนังสือ"]


def test_sla_settings_from_the_desk(admin_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    page = _post(admin_client, "/admin/sla", {"hours": "12", "warn_hours": "3,1", "repeat_hours": "2"})
    assert "SLA settings saved" in page.get_data(as_text=True)
    bad = _post(admin_client, "/admin/sla", {"hours": "abc", "warn_hours": "3", "repeat_hours": "2"})
    assert "must be a number" in bad.get_data(as_text=True)
    with runtime.db.transaction() as session:
        assert settings.sla(session, runtime.config) == settings.SlaSettings(12.0, (3.0, 1.0), 2.0)
        ticket = factories.ticket(session, now=runtime.clock.now())
        assert ticket.due_at == runtime.clock.now() + timedelta(hours=12)


def test_survey_wording_changes_but_keys_stay(admin_client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    _post(admin_client, "/admin/survey/overall", {"text_th": "ความพึงพอใจโดยรวม", "text_en": "Overall"})
    with runtime.db.transaction() as session:
        item = session.get(SurveyItem, "overall")
        assert (item.text_th, item.position) == ("ความพึงพอใจโดยรวม", 4)
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin")))
    assert {"survey_item.update", "staff.login"} <= actions
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "แก้ไขข้อความแบบสอบถามข้อ ความพึงพอใจโดยภาพรวม" in page  # a sentence, not the action's code
