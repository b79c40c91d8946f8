"""The JSON API at /api/v1 for the office's other systems, behind bearer tokens.

A ticket is addressed by its number. Every change goes through `clinic.tickets`, audited
with the actor `api:<token name>`. Errors are `{"error": {"status", "message"}}` with a
Thai-first message, and a refused request changes nothing. The OpenAPI document
(desk/openapi.py) describes every route; other modules may add routes to `bp` with
`token_required` and must add them to that document too.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic import api_tokens, ticket_search, tickets
from clinic.models import Message, Ticket
from clinic.ticket_search import SearchError, TicketFilter
from clinic.tickets import TicketError
from desk.current import runtime
from desk.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
View = TypeVar("View", bound=Callable[..., Any])
MAX_BODY = 5000


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> Response:
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="clinic"'
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.message)


def token_required(view: View) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "ต้องส่งโทเค็นแบบ Bearer / A bearer token is required")
        rt = runtime()
        with rt.db.transaction() as session:
            row = api_tokens.verify(session, token.strip(), now=rt.clock.now())
            if row is None:
                raise ApiError(401, "โทเค็นไม่ถูกต้องหรือถูกเพิกถอน / The token is invalid or revoked")
            g.api_actor = f"api:{row.name}"
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status,
        "subject": ticket.subject,
        "topic": ticket.topic_code,
        "agency_type": ticket.agency_type_code,
        "agency": ticket.agency_name or None,
        "channel": ticket.channel,
        "assignee": ticket.assignee.username if ticket.assignee else None,
        "posted_at": _iso(ticket.posted_at),
        "due_at": _iso(ticket.due_at),
        "closed_at": _iso(ticket.closed_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "body": message.body,
        "created_at": _iso(message.created_at),
        "author": message.author.username if message.author else None,
        "delivery_status": message.delivery_status,
        "attachments": [
            {"kind": a.kind, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments
        ],
    }


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    return {**ticket_summary(ticket), "messages": [message_json(m) for m in ticket.messages]}


def _positive(name: str, default: int, upper: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= upper:
        raise ApiError(400, f"{name} ต้องเป็นจำนวนเต็ม 1-{upper} / {name} must be an integer from 1 to {upper}")
    return int(raw)


@bp.get("/tickets")
@token_required
def list_tickets() -> Response:
    known = {"status", "topic", "agency_type", "channel", "assignee", "q", "page", "per_page"}
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise ApiError(400, f"ไม่รู้จักพารามิเตอร์ {', '.join(unknown)} / Unknown parameter(s): {', '.join(unknown)}")
    wanted = TicketFilter.from_args(request.args.to_dict())
    page = _positive("page", 1, 1_000_000)
    per_page = _positive("per_page", 25, ticket_search.MAX_PER_PAGE)
    with runtime().db.transaction() as session:
        try:
            found = ticket_search.search(session, wanted, page=page, per_page=per_page)
        except SearchError as exc:
            raise ApiError(400, str(exc)) from None
        items = [ticket_summary(t) for t in found.items]
    next_url = (
        url_for("api.list_tickets", page=page + 1, per_page=per_page, **wanted.as_args()) if found.has_next else None
    )
    return jsonify(items=items, next=next_url, total=found.total)


def _find(session: Session, number: str) -> Ticket:
    ticket = tickets.get_by_number(session, number)
    if ticket is None:
        raise ApiError(404, f"ไม่พบเรื่อง {number} / Ticket {number} not found")
    return ticket


def _json_body(required: AbstractSet[str], optional: AbstractSet[str] = frozenset()) -> dict[str, Any]:
    data = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(data, dict):
        raise ApiError(400, "ต้องส่ง JSON object / The body must be a JSON object")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise ApiError(400, f"ไม่รู้จักฟิลด์ {', '.join(unknown)} / Unknown field(s): {', '.join(unknown)}")
    for name in sorted(required | optional):
        if name not in data:
            if name in required:
                raise ApiError(400, f"ต้องมีฟิลด์ {name} / The field {name!r} is required")
            continue
        value = data[name]
        if not isinstance(value, str):
            raise ApiError(400, f"{name} ต้องเป็นข้อความ / {name!r} must be a string")
        if name in required and not value.strip():
            raise ApiError(400, f"{name} ว่างเปล่า / {name!r} is empty")
        if len(value) > MAX_BODY:
            raise ApiError(400, f"{name} ยาวเกิน {MAX_BODY} ตัวอักษร / {name!r} is over {MAX_BODY} characters")
    return data


def _change(number: str, action: Callable[[Session, Ticket], Any]) -> Any:
    """One change in one transaction; a refused lifecycle step is 409 and leaves everything as it was."""
    try:
        with runtime().db.transaction() as session:
            ticket = _find(session, number)
            return action(session, ticket)
    except TicketError as exc:
        raise ApiError(409, str(exc)) from None


@bp.get("/tickets/<number>")
@token_required
def get_ticket(number: str) -> Response:
    with runtime().db.transaction() as session:
        return jsonify(ticket_detail(_find(session, number)))


@bp.post("/tickets/<number>/replies")
@token_required
def post_reply(number: str) -> tuple[Response, int]:
    body = _json_body({"body"})["body"]
    now = runtime().clock.now()
    message = _change(number, lambda s, t: message_json(tickets.reply(s, t, body=body, now=now, actor=g.api_actor)))
    return jsonify(message), 201


@bp.post("/tickets/<number>/notes")
@token_required
def post_note(number: str) -> tuple[Response, int]:
    body = _json_body({"body"})["body"]
    now = runtime().clock.now()
    message = _change(number, lambda s, t: message_json(tickets.add_note(s, t, body=body, now=now, actor=g.api_actor)))
    return jsonify(message), 201


@bp.post("/tickets/<number>/close")
@token_required
def post_close(number: str) -> Response:
    answer = _json_body(set(), {"answer"}).get("answer")
    now = runtime().clock.now()

    def act(session: Session, ticket: Ticket) -> dict[str, Any]:
        return ticket_detail(tickets.close(session, ticket, now=now, final_answer=answer, actor=g.api_actor))

    return jsonify(_change(number, act))


@bp.post("/tickets/<number>/reopen")
@token_required
def post_reopen(number: str) -> Response:
    _json_body(set())
    now = runtime().clock.now()
    return jsonify(_change(number, lambda s, t: ticket_detail(tickets.reopen(s, t, now=now, actor=g.api_actor))))


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
