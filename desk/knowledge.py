"""The knowledge base in the desk (pages under /kb) and the API (`GET /api/v1/kb/search`).

Everyone signed in reads the articles. An agent proposes: a new draft, changes to a draft, a
draft from a closed ticket. Supervisors and admins change published text, publish, retire,
approve, import and export. Every rule and every check is in `clinic.knowledge`; a refused
change shows its reason and leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic import agent_assist, knowledge, knowledge_search, thaidate, tickets
from clinic.knowledge import ArticleFields, KnowledgeError
from clinic.models import AuditEntry, KnowledgeArticle, StaffUser, Ticket, Topic
from desk import api, csrf, openapi
from desk.auth import requires
from desk.current import runtime, staff_in
from desk.i18n import translate as t

bp = Blueprint("knowledge", __name__, url_prefix="/kb")

MAX_QUERY = 2000
MAX_LIMIT = 20
MAX_IMPORT_BYTES = 2 * 1024 * 1024
RANKED = 20  # ranked results on the list page
STATUS_LABELS = {"draft": "Draft", "published": "Published", "retired": "Retired"}
FIELD_LABELS = {"topic_code": "Topic", "title": "Title", "questions": "Sample questions", "answer": "Answer",
                "reference": "Reference", "effective_date": "Effective date", "status": "Status"}  # fmt: skip
STRENGTH_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("active_nav", "kb")
    context.update(status_labels=STATUS_LABELS, strength_labels=STRENGTH_LABELS)
    return render_template(f"kb/{template}", **context), status


def _article(session: Session, key: str) -> KnowledgeArticle:
    article = knowledge.get(session, key)
    if article is None:
        abort(404)
    return article


def _topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.sort_order)))


# --- the list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    article: KnowledgeArticle
    strength: str = ""  # for ranked results only


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    """Ranked published articles for a question (the chat's ranker), then plain matches of any status."""
    query = request.args.get("q", "").strip()
    status = request.args.get("status", "").strip()
    topic = request.args.get("topic", "").strip()
    error = ""
    rows: list[Row] = []
    with runtime().db.transaction() as session:
        topics = _topics(session)
        if topic and topic not in {x.code for x in topics}:
            topic, error = "", "ไม่รู้จักหัวข้อ / Unknown topic"
        try:
            if query and len(query) > knowledge.MAX_FILTER_TEXT:
                raise KnowledgeError(f"คำค้นยาวเกิน {knowledge.MAX_FILTER_TEXT} ตัวอักษร / "
                                     f"The search text is over {knowledge.MAX_FILTER_TEXT} characters")  # fmt: skip
            if query and status in ("", "published"):
                ranked = knowledge_search.search(session, query, limit=RANKED)
                keys = [h.key for h in ranked.hits if not topic or h.topic_code == topic]
                found = {
                    a.key: a
                    for a in session.scalars(select(KnowledgeArticle).where(KnowledgeArticle.key.in_(keys))).unique()
                }
                strengths = {h.key: agent_assist.strength(h.score) for h in ranked.hits}
                rows = [Row(found[key], strengths[key]) for key in keys if key in found]
            seen = {row.article.key for row in rows}
            rows += [
                Row(a) for a in knowledge.find(session, status=status, topic=topic, text=query) if a.key not in seen
            ]
        except KnowledgeError as exc:
            error, rows = str(exc), []
        counts = knowledge.counts(session)
        return _page("list.html", 400 if error else 200, rows=rows, topics=topics, counts=counts, error=error,
                     wanted={"q": query, "status": status, "topic": topic}, statuses=knowledge.STATUSES)  # fmt: skip


# --- one article ---------------------------------------------------------------------------


def _history_line(entry: AuditEntry) -> str:
    detail = entry.detail or {}
    if entry.action == "kb.create":
        return f"{t('Created')} ({t(STATUS_LABELS.get(detail.get('status', ''), 'Draft'))})"
    if entry.action == "kb.update":
        names = ", ".join(t(FIELD_LABELS.get(name, name)) for name in detail.get("fields", []))
        return f"{t('Edited')}: {names}"
    if entry.action == "kb.status":
        before, after = (list(detail.get("status", [])) + ["", ""])[:2]
        return f"{t('Status')}: {t(STATUS_LABELS.get(before, before))} → {t(STATUS_LABELS.get(after, after))}"
    if entry.action == "kb.approve":
        return t("Approved")
    return entry.action


@bp.get("/article/<key>")
@login_required
def show(key: str) -> tuple[str, int]:
    with runtime().db.transaction() as session:
        article = _article(session, key)
        history = [(entry, _history_line(entry)) for entry in knowledge.history(session, key)]
        source = session.get(Ticket, article.source_ticket_id) if article.source_ticket_id else None
        effective = thaidate.format_date(article.effective_date) if article.effective_date else ""
        return _page("article.html", article=article, history=history, source=source, effective=effective,
                     may_edit=knowledge.may_edit(staff_in(session), article))  # fmt: skip


# --- create and edit -----------------------------------------------------------------------


def _form_fields(key: str) -> ArticleFields:
    """The form as fields; an unreadable date is refused here, everything else by `knowledge.check`."""
    form = request.form
    try:
        effective = thaidate.parse_date_numeric(form.get("effective_date", ""))
    except ValueError as exc:
        raise KnowledgeError(f"วันที่มีผล: {exc}") from None
    return ArticleFields(key, form.get("topic", ""), form.get("title", ""), form.get("questions", ""),
                         form.get("answer", ""), form.get("reference", ""), effective)  # fmt: skip


def _form_values(article: KnowledgeArticle | None) -> dict[str, str]:
    if request.method == "POST":
        return {name: request.form.get(name, "") for name in
                ("key", "topic", "title", "questions", "answer", "reference", "effective_date")}  # fmt: skip
    if article is None:
        return {
            "key": "",
            "topic": "",
            "title": "",
            "questions": "",
            "answer": "",
            "reference": "",
            "effective_date": "",
        }
    return {"key": article.key, "topic": article.topic_code, "title": article.title, "questions": article.questions,
            "answer": article.answer, "reference": article.reference,
            "effective_date": thaidate.format_date_numeric(article.effective_date)}  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Response | tuple[str, int]:
    rt = runtime()
    error = ""
    if request.method == "POST":
        try:
            with rt.db.transaction() as session:
                fields = _form_fields(request.form.get("key", ""))
                article = knowledge.create(session, fields, now=rt.clock.now(), status="draft", staff=staff_in(session))
                key = article.key
            flash("บันทึกร่างบทความแล้ว รอหัวหน้างานอนุมัติ / Draft saved; a supervisor approves it", "ok")
            return redirect(url_for("knowledge.show", key=key))
        except KnowledgeError as exc:
            error = str(exc)
    with rt.db.transaction() as session:
        return _page("edit.html", 400 if error else 200, article=None, topics=_topics(session), error=error,
                     values=_form_values(None))  # fmt: skip


@bp.route("/article/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str) -> Response | tuple[str, int]:
    rt = runtime()
    error = ""
    with rt.db.transaction() as session:
        if not knowledge.may_edit(staff_in(session), _article(session, key)):
            abort(403)
    if request.method == "POST":
        try:
            with rt.db.transaction() as session:
                article = _article(session, key)
                me = staff_in(session)
                if not knowledge.may_edit(me, article):
                    abort(403)
                changed = knowledge.update(session, article, _form_fields(key), now=rt.clock.now(), staff=me)
            flash("บันทึกแล้ว / Saved" if changed else "ไม่มีอะไรเปลี่ยน / Nothing changed", "ok")
            return redirect(url_for("knowledge.show", key=key))
        except KnowledgeError as exc:
            error = str(exc)
    with rt.db.transaction() as session:
        article = _article(session, key)
        return _page("edit.html", 400 if error else 200, article=article, topics=_topics(session), error=error,
                     values=_form_values(article))  # fmt: skip


# --- supervisors' actions ------------------------------------------------------------------


def _act(key: str, action: Callable[[Session, KnowledgeArticle, StaffUser, datetime], str]) -> Response:
    """One change in one transaction; a refused one changes nothing and says why."""
    rt = runtime()
    try:
        with rt.db.transaction() as session:
            done = action(session, _article(session, key), staff_in(session), rt.clock.now())
        flash(done, "ok")
    except KnowledgeError as exc:
        flash(str(exc), "error")
    return redirect(url_for("knowledge.show", key=key))


@bp.post("/article/<key>/status")
@requires("supervisor")
def set_status(key: str) -> Response:
    wanted = request.form.get("status", "")

    def act(session: Session, article: KnowledgeArticle, me: StaffUser, now: datetime) -> str:
        knowledge.set_status(session, article, wanted, now=now, staff=me)
        return f"{t('Status')}: {t(STATUS_LABELS[wanted])}"

    return _act(key, act)


@bp.post("/article/<key>/approve")
@requires("supervisor")
def approve(key: str) -> Response:
    def act(session: Session, article: KnowledgeArticle, me: StaffUser, now: datetime) -> str:
        knowledge.approve(session, article, now=now, staff=me)
        return "อนุมัติแล้ว / Approved"

    return _act(key, act)


# --- import and export ---------------------------------------------------------------------


class _Refused(Exception):
    """Roll the import back: some rows are bad."""


@bp.get("/import")
@requires("supervisor")
def import_form() -> tuple[str, int]:
    return _page("import.html", errors=[])


@bp.post("/import")
@csrf.exempt  # checked below, once the larger limit for the file applies
@requires("supervisor")
def import_upload() -> Response | tuple[str, int]:
    if (request.content_length or 0) > MAX_IMPORT_BYTES:
        return _page("import.html", 413, errors=["ไฟล์ใหญ่เกิน 2 MB / The file is over 2 MB"])
    request.max_content_length = MAX_IMPORT_BYTES
    csrf.protect()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page("import.html", 400, errors=["กรุณาเลือกไฟล์ CSV / Choose a CSV file"])
    try:
        text = upload.read(MAX_IMPORT_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError:
        return _page("import.html", 400, errors=["ไฟล์ต้องเป็น UTF-8 / The file must be UTF-8"])
    rt = runtime()
    result = None
    try:
        with rt.db.transaction() as session:
            result = knowledge.import_csv(session, text, now=rt.clock.now(), staff=staff_in(session))
            if result.errors:
                raise _Refused
    except _Refused:
        assert result is not None
        return _page("import.html", 400, errors=result.errors)
    flash(f"นำเข้าแล้ว: ใหม่ {result.created} แก้ไข {result.updated} เหมือนเดิม {result.unchanged} / "
          f"Imported: {result.created} new, {result.updated} updated, {result.unchanged} unchanged", "ok")  # fmt: skip
    return redirect(url_for("knowledge.index"))


@bp.get("/export.csv")
@requires("supervisor")
def export() -> Response:
    with runtime().db.transaction() as session:
        text = knowledge.export_csv(session)
    response = Response("\ufeff" + text, mimetype="text/csv; charset=utf-8")  # the byte-order mark: Excel reads UTF-8
    response.headers.set("Content-Disposition", "attachment", filename="knowledge-base.csv")
    return response


# --- from the ticket page ------------------------------------------------------------------


@bp.post("/from-ticket/<number>")
@login_required
def from_ticket(number: str) -> Response:
    """A closed ticket's question and final answer as a draft, opened for editing."""
    rt = runtime()
    try:
        with rt.db.transaction() as session:
            ticket = tickets.get_by_number(session, number)
            if ticket is None:
                abort(404)
            article = knowledge.draft_from_ticket(session, ticket, now=rt.clock.now(), staff=staff_in(session))
            key = article.key
    except KnowledgeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("ticket.show", number=number))
    flash("ทำเป็นร่างบทความแล้ว ตรวจแก้แล้วให้หัวหน้างานอนุมัติ / Draft made; edit it, then a supervisor approves it", "ok")
    return redirect(url_for("knowledge.edit", key=key))


@bp.get("/similar/<number>")
@login_required
def similar(number: str) -> tuple[str, int]:
    """The assist panel's similar closed tickets, as a fragment the ticket page fetches once it has loaded."""
    with runtime().db.transaction() as session:
        ticket = tickets.get_by_number(session, number)
        if ticket is None:
            abort(404)
        found = agent_assist.similar(session, ticket)
        return render_template("kb/similar.html", ticket=ticket, similar=found), 200


def assist(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The agent-assist panel's context for the ticket page (`kb/assist.html`)."""
    return {"assist": agent_assist.for_ticket(session, ticket), "strength_labels": STRENGTH_LABELS,
            "status_labels": STATUS_LABELS}  # fmt: skip


@api.bp.get("/kb/search")
@api.token_required
def search_json() -> Response:
    """The published articles that best answer `q`, best first, and whether the best is confident."""
    unknown = sorted(set(request.args) - {"q", "limit"})
    if unknown:
        raise api.ApiError(400, f"ไม่รู้จักพารามิเตอร์ {', '.join(unknown)} / Unknown parameter(s): {', '.join(unknown)}")
    query = request.args.get("q", "")
    if not query.strip():
        raise api.ApiError(400, "ต้องระบุ q / The query q is required")
    if len(query) > MAX_QUERY or "\x00" in query:
        raise api.ApiError(400, f"q ต้องยาวไม่เกิน {MAX_QUERY} ตัวอักษร / q must be at most {MAX_QUERY} characters")
    raw_limit = request.args.get("limit", "3")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise api.ApiError(400, f"limit ต้องเป็น 1-{MAX_LIMIT} / limit must be 1-{MAX_LIMIT}")
    rt = runtime()
    with rt.db.transaction() as session:
        result = knowledge_search.search(session, query, limit=int(raw_limit))
    items = [
        {"key": h.key, "title": h.title, "topic": h.topic_code, "answer": h.answer, "reference": h.reference,
         "score": h.score}
        for h in result.hits
    ]  # fmt: skip
    return jsonify(confident=result.confident, items=items)


openapi.PATHS["/kb/search"] = {
    "get": {
        "summary": "Search the published knowledge-base articles (Thai-aware, offline)",
        "description": "BM25 over PyThaiNLP-segmented words fused with multilingual-e5-small embeddings. "
        "`confident` is true when the best article clears the threshold the chat uses to answer on its own.",
        "parameters": [
            {
                "name": "q",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY},
                "description": "The question",
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 3},
                "description": "How many articles",
            },
        ],  # fmt: skip
        "responses": {
            "200": {
                "description": "The articles, best first",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["confident", "items"],
                            "properties": {
                                "confident": {"type": "boolean"},
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["key", "title", "topic", "answer", "reference", "score"],
                                        "properties": {
                                            "key": {"type": "string"},
                                            "title": {"type": "string"},
                                            "topic": {"type": "string"},
                                            "answer": {"type": "string"},
                                            "reference": {"type": "string"},
                                            "score": {"type": "number"},
                                        },
                                    },
                                },
                            },
                        }
                    }
                },
            },
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }
}
