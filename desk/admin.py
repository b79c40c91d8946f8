"""Admin pages: staff accounts, agencies, topics, canned answers, SLA settings, survey wording, audit trail.

Every change goes through a core service that validates it and writes the audit trail;
a refused change is shown with its reason and leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import redis
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic import audit as audit_log
from clinic import canned_answers, catalog, line_quota, privacy, retention, settings, staff
from clinic.models import ROLES, Agency, AgencyType, AuditEntry, CannedAnswer, Setting, StaffUser, SurveyItem, Topic
from clinic.thaidate import format_date
from desk.auth import requires
from desk.current import runtime, staff_in
from desk.i18n import current_language, label

bp = Blueprint("admin", __name__, url_prefix="/admin")
SECTIONS = ("staff", "agencies", "topics", "canned", "sla", "survey", "privacy", "retention", "line_quota", "audit")
REFUSALS = (staff.StaffError, catalog.CatalogError, canned_answers.CannedAnswerError, settings.SettingsError,
            privacy.PrivacyNoticeError, retention.RetentionError)  # fmt: skip


def _change(section: str, action: Callable[[Session, StaffUser], str]) -> Response:
    rt = runtime()
    try:
        with rt.db.transaction() as session:
            done = action(session, staff_in(session))
        flash(done, "ok")
    except REFUSALS as exc:
        flash(str(exc), "error")
    return redirect(url_for(f"admin.{section}", **dict(request.args.items())))  # type: ignore[arg-type]


def _form(name: str) -> str:
    return request.form.get(name, "")


def _checked(name: str) -> bool:
    return request.form.get(name) == "on"


def _page(template: str, section: str, **context: object) -> str:
    return render_template(f"admin/{template}", section=section, sections=SECTIONS, active_nav="admin", **context)


@bp.get("")
@requires("admin")
def index() -> Response:
    return redirect(url_for("admin.staff_list"))


# --- staff accounts ---------------------------------------------------------------------


@bp.get("/staff")
@requires("admin")
def staff_list() -> str:
    with runtime().db.transaction() as session:
        users = list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
        return _page("staff.html", "staff", users=users, roles=ROLES)


@bp.post("/staff")
@requires("admin")
def staff_create() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        user = staff.create_user(session, username=_form("username"), password=_form("password"), role=_form("role"),
                                 now=runtime().clock.now(), display_name=_form("display_name").strip(),
                                 created_by=me)  # fmt: skip
        return f"สร้างบัญชี {user.username} แล้ว / Account {user.username} created"

    return _change("staff_list", act)


@bp.post("/staff/<int:user_id>")
@requires("admin")
def staff_update(user_id: int) -> Response:
    def act(session: Session, me: StaffUser) -> str:
        user = session.get(StaffUser, user_id)
        if user is None:
            abort(404)
        staff.update_user(session, user, now=runtime().clock.now(), by=me, role=_form("role"),
                          active=_checked("active"), display_name=_form("display_name"),
                          password=_form("password") or None)  # fmt: skip
        return f"บันทึกบัญชี {user.username} แล้ว / Account {user.username} saved"

    return _change("staff_list", act)


# --- agencies -----------------------------------------------------------------------------


@bp.get("/agencies")
@requires("admin")
def agencies() -> str:
    kind = request.args.get("type", "")
    with runtime().db.transaction() as session:
        statement = select(Agency).order_by(Agency.agency_type_code, Agency.name_th)
        if kind:
            statement = statement.where(Agency.agency_type_code == kind)
        types = list(session.scalars(select(AgencyType).order_by(AgencyType.sort_order)))
        rows = list(session.scalars(statement).unique())
        return _page("agencies.html", "agencies", agencies=rows, agency_types=types, kind=kind)


@bp.post("/agencies")
@requires("admin")
def agency_add() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        agency = catalog.add_agency(session, name_th=_form("name_th"), name_en=_form("name_en"),
                                    agency_type_code=_form("agency_type"), now=runtime().clock.now(),
                                    staff=me)  # fmt: skip
        return f"เพิ่ม {agency.name_th} แล้ว / Agency added"

    return _change("agencies", act)


@bp.post("/agencies/<int:agency_id>")
@requires("admin")
def agency_update(agency_id: int) -> Response:
    def act(session: Session, me: StaffUser) -> str:
        agency = session.get(Agency, agency_id)
        if agency is None:
            abort(404)
        catalog.update_agency(session, agency, name_th=_form("name_th"), name_en=_form("name_en"),
                              agency_type_code=_form("agency_type"), active=_checked("active"),
                              now=runtime().clock.now(), staff=me)  # fmt: skip
        return f"บันทึก {agency.name_th} แล้ว / Agency saved"

    return _change("agencies", act)


# --- topics -------------------------------------------------------------------------------


@bp.get("/topics")
@requires("admin")
def topics() -> str:
    with runtime().db.transaction() as session:
        rows = list(session.scalars(select(Topic).order_by(Topic.sort_order)))
        return _page("topics.html", "topics", topics=rows)


@bp.post("/topics")
@requires("admin")
def topic_add() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        topic = catalog.add_topic(session, code=_form("code"), label_th=_form("label_th"), label_en=_form("label_en"),
                                  short_th=_form("short_th"), now=runtime().clock.now(), staff=me)  # fmt: skip
        return f"เพิ่มหัวข้อ {topic.label_th} แล้ว / Topic added"

    return _change("topics", act)


@bp.post("/topics/<code>")
@requires("admin")
def topic_update(code: str) -> Response:
    def act(session: Session, me: StaffUser) -> str:
        topic = session.get(Topic, code)
        if topic is None:
            abort(404)
        catalog.update_topic(session, topic, label_th=_form("label_th"), label_en=_form("label_en"),
                             short_th=_form("short_th"), active=_checked("active"), now=runtime().clock.now(),
                             staff=me)  # fmt: skip
        return f"บันทึกหัวข้อ {topic.label_th} แล้ว / Topic saved"

    return _change("topics", act)


# --- canned answers -------------------------------------------------------------------------


@bp.get("/canned")
@requires("admin")
def canned() -> str:
    with runtime().db.transaction() as session:
        rows = list(session.scalars(select(CannedAnswer).order_by(CannedAnswer.active.desc(), CannedAnswer.title)))
        topic_rows = list(session.scalars(select(Topic).order_by(Topic.sort_order)))
        return _page("canned.html", "canned", answers=rows, topics=topic_rows)


@bp.post("/canned")
@requires("admin")
def canned_add() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        canned_answers.create(session, title=_form("title"), body=_form("body"), regulation_ref=_form("regulation_ref"),
                              topic_code=_form("topic") or None, now=runtime().clock.now(), staff=me)  # fmt: skip
        return "เพิ่มคำตอบสำเร็จรูปแล้ว / Canned answer added"

    return _change("canned", act)


@bp.post("/canned/<int:answer_id>")
@requires("admin")
def canned_update(answer_id: int) -> Response:
    def act(session: Session, me: StaffUser) -> str:
        answer = session.get(CannedAnswer, answer_id)
        if answer is None:
            abort(404)
        canned_answers.update(session, answer, title=_form("title"), body=_form("body"),
                              regulation_ref=_form("regulation_ref"), topic_code=_form("topic") or None,
                              active=_checked("active"), now=runtime().clock.now(), staff=me)  # fmt: skip
        return "บันทึกคำตอบสำเร็จรูปแล้ว / Canned answer saved"

    return _change("canned", act)


# --- SLA settings and survey wording ---------------------------------------------------------


@bp.get("/sla")
@requires("admin")
def sla() -> str:
    rt = runtime()
    with rt.db.transaction() as session:
        return _page("sla.html", "sla", timings=settings.sla(session, rt.config))


def _hours(name: str) -> float:
    try:
        return float(_form(name))
    except ValueError:
        raise settings.SettingsError(f"ต้องเป็นตัวเลข / {name} must be a number") from None


@bp.post("/sla")
@requires("admin")
def sla_save() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        settings.set_sla(session, now=runtime().clock.now(), staff=me, hours=_hours("hours"),
                         warn_hours=settings.parse_hours_list(_form("warn_hours")),
                         repeat_hours=_hours("repeat_hours"))  # fmt: skip
        return "บันทึกการตั้งค่าเวลาแล้ว / SLA settings saved"

    return _change("sla", act)


@bp.get("/survey")
@requires("admin")
def survey() -> str:
    with runtime().db.transaction() as session:
        items = list(session.scalars(select(SurveyItem).order_by(SurveyItem.position)))
        return _page("survey.html", "survey", items=items)


@bp.post("/survey/<key>")
@requires("admin")
def survey_update(key: str) -> Response:
    def act(session: Session, me: StaffUser) -> str:
        item = session.get(SurveyItem, key)
        if item is None:
            abort(404)
        catalog.update_survey_item(session, item, text_th=_form("text_th"), text_en=_form("text_en"),
                                   now=runtime().clock.now(), staff=me)  # fmt: skip
        return "บันทึกข้อความแบบสอบถามแล้ว / Survey wording saved"

    return _change("survey", act)


# --- privacy notice, retention, the LINE quota ---------------------------------------------------


@bp.get("/privacy")
@requires("admin")
def privacy_notice() -> str:
    with runtime().db.transaction() as session:
        return _page("privacy.html", "privacy", notice=privacy.notice(session), max_chars=privacy.MAX_CHARS)


@bp.post("/privacy")
@requires("admin")
def privacy_save() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        privacy.set_notice(session, text_th=_form("text_th"), text_en=_form("text_en"), now=runtime().clock.now(),
                           staff=me)  # fmt: skip
        return "บันทึกประกาศความเป็นส่วนตัวแล้ว / Privacy notice saved"

    return _change("privacy_notice", act)


@bp.get("/retention")
@requires("admin")
def retention_page() -> str:
    rt = runtime()
    with rt.db.transaction() as session:
        rules = retention.current(session)
        pending = retention.apply(session, now=rt.clock.now(), dry_run=True)
        last = session.get(Setting, retention.KEY_LAST_RUN)
        return _page("retention.html", "retention", rules=rules, pending=pending.as_dict(),
                     kind_labels=retention.KIND_LABELS, last_run=last.value if last else None)  # fmt: skip


def _whole(name: str) -> int:
    try:
        return int(_form(name))
    except ValueError:
        raise retention.RetentionError(f"ต้องเป็นจำนวนเต็ม / {name} must be a whole number") from None


@bp.post("/retention")
@requires("admin")
def retention_save() -> Response:
    def act(session: Session, me: StaffUser) -> str:
        retention.set_retention(session, webhook_days=_whole("webhook_days"), message_years=_whole("message_years"),
                                now=runtime().clock.now(), staff=me)  # fmt: skip
        return "บันทึกระยะเวลาเก็บข้อมูลแล้ว / Retention saved"

    return _change("retention_page", act)


@bp.get("/line-quota")
@requires("admin")
def line_quota_page() -> str:
    rt = runtime()
    with rt.db.transaction() as session:
        result = line_quota.forecast(session, now=rt.clock.now(), tz=rt.config.tz)
        days = [(format_date(date.fromisoformat(day)), used) for day, used in reversed(result.days)]
        return _page("line_quota.html", "line_quota", quota=result, line_enabled=rt.config.line_enabled,
                     levels=line_quota.WARN_LEVELS, days=days)  # fmt: skip


@bp.post("/line-quota/refresh")
@requires("admin")
def line_quota_refresh() -> Response:
    """Ask the worker for a fresh reading now (at most once a minute, so the page cannot hammer LINE)."""
    rt = runtime()
    minute = int(rt.clock.now().timestamp() // 60)
    try:
        fresh = rt.redis.set(rt.key(f"line_quota:refresh:{minute}"), 1, nx=True, ex=120)
    except redis.RedisError:
        fresh = False
    if fresh and rt.config.line_enabled and rt.enqueue(line_quota.SAMPLE_JOB):
        flash("ขออ่านโควตาจาก LINE แล้ว รีเฟรชหน้านี้ในอีกสักครู่ / Reading requested; reload in a moment", "ok")
    else:
        flash("ขออ่านได้นาทีละครั้ง / At most one reading a minute", "error")
    return redirect(url_for("admin.line_quota_page"))


# --- audit trail ------------------------------------------------------------------------------


@bp.get("/audit")
@requires("admin")
def audit() -> str:
    with runtime().db.transaction() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)))
        lang = current_language()
        people = list(session.scalars(select(StaffUser)))
        names: dict[str, dict[str, str]] = {
            "staff": {str(p.id): p.display_name or p.username for p in people},
            "staff_username": {p.username: p.display_name or p.username for p in people},
            "topic": {t.code: label(t) for t in session.scalars(select(Topic))},
            "agency_type": {k.code: label(k) for k in session.scalars(select(AgencyType))},
            "canned": {str(c.id): c.title for c in session.scalars(select(CannedAnswer))},
        }

        def lookup(kind: str, code: str) -> str | None:
            return names.get(kind, {}).get(code)

        rows = [
            (entry, audit_log.describe(entry, lang, lookup, who=names["staff"].get(str(entry.staff_id), "")))
            for entry in entries
        ]
        return _page("audit.html", "audit", rows=rows)
