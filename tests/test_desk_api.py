"""The JSON API at /api/v1: bearer tokens, tickets by number, clear errors that change nothing, OpenAPI."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinic import api_tokens, tickets
from clinic.models import ApiToken, AuditEntry, Message, OutboxMessage
from clinic.runtime import Runtime
from tests import factories


@pytest.fixture
def token(runtime: Runtime) -> str:
    with runtime.db.transaction() as session:
        return api_tokens.create(session, name="saraban-system", now=runtime.clock.now())[1]


@pytest.fixture
def api(client, token):  # type: ignore[no-untyped-def]
    class Api:
        def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
            return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

        def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
            return client.post(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return Api()


def _counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Message)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor.like("api:%"))) or 0,
        )


def test_requests_without_a_valid_token_are_refused(client, runtime: Runtime, token: str) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"Authorization": "Bearer clinic_wrong"}, {"Authorization": f"Basic {token}"}):
        response = client.get("/api/v1/tickets", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in response.json["error"]["message"]
    with runtime.db.transaction() as session:
        api_tokens.revoke(session, name="saraban-system", now=runtime.clock.now())
        assert session.scalar(select(ApiToken.token_hash)) == api_tokens.digest(token)  # only the hash is kept
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_list_tickets_with_filters_search_and_next_page(api, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        first = factories.ticket(session, now=now - timedelta(hours=2), body="การลงทะเบียนหนังสือรับ")
        for minute in range(3):
            factories.ticket(session, now=now + timedelta(minutes=minute), topic="ceremony", channel="messenger")
        done = factories.ticket(session, now=now, body="เรื่องปิดแล้ว")
        tickets.close(session, done, now=now)
    body = api.get("/tickets", query_string={"per_page": 2}).json
    assert [item["number"] for item in body["items"]][0] == first.number  # soonest deadline first
    assert body["total"] == 4 and body["next"].startswith("/api/v1/tickets?page=2")
    item = body["items"][0]
    assert item == {
        "number": first.number, "status": "open", "subject": "การลงทะเบียนหนังสือรับ", "topic": "saraban",
        "agency_type": "district", "agency": "สำนักงานเขตพระนคร", "channel": "line", "assignee": None,
        "posted_at": "2026-11-25T01:00:00Z", "due_at": "2026-11-26T01:00:00Z", "closed_at": None,
    }  # fmt: skip
    second = api.get(body["next"].removeprefix("/api/v1")).json
    assert len(second["items"]) == 2 and second["next"] is None
    # Ranked: the ticket with the words side by side first, then those that have both words elsewhere.
    found = [i["number"] for i in api.get("/tickets", query_string={"q": "หนังสือรับ"}).json["items"]]
    assert found[0] == first.number and len(found) == 4
    closed = api.get("/tickets", query_string={"status": "closed"}).json["items"]
    assert [i["number"] for i in closed] == [done.number] and closed[0]["closed_at"] == "2026-11-25T03:00:00Z"
    assert len(api.get("/tickets", query_string={"channel": "messenger", "topic": "ceremony"}).json["items"]) == 3


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"status": "pending"}, "status must be one of"),
        ({"topic": "nope"}, "Unknown topic"),
        ({"agency_type": "nope"}, "Unknown agency type"),
        ({"assignee": "ghost"}, "Unknown staff member"),
        ({"page": "0"}, "page must be an integer"),
        ({"per_page": "500"}, "per_page must be an integer"),
        ({"colour": "red"}, "Unknown parameter"),
    ],
)
def test_bad_list_parameters_get_a_clear_json_error(api, query: dict, needle: str) -> None:  # type: ignore[no-untyped-def]
    response = api.get("/tickets", query_string=query)
    assert response.status_code == 400
    assert needle in response.json["error"]["message"]


def test_ticket_detail_reply_note_close_reopen(api, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        number = factories.ticket(session, now=now, body="ขอแบบฟอร์ม").number
    detail = api.get(f"/tickets/{number}").json
    assert detail["number"] == number and [m["kind"] for m in detail["messages"]] == ["inbound"]
    reply = api.post(f"/tickets/{number}/replies", json={"body": "ตามระเบียบข้อ 12"})
    assert reply.status_code == 201
    assert reply.json["kind"] == "outbound" and reply.json["delivery_status"] == "pending"
    note = api.post(f"/tickets/{number}/notes", json={"body": "บันทึกจากระบบสารบรรณ"})
    assert note.status_code == 201 and note.json["kind"] == "note"
    closed = api.post(f"/tickets/{number}/close", json={"answer": "สรุปคำตอบสุดท้าย"})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert [m["kind"] for m in closed.json["messages"]] == ["inbound", "outbound", "note", "outbound", "system"]
    with runtime.db.transaction() as session:
        sent = [row[0]["text"] for row in session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id))]
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.target_id == number)))
    assert sent[:2] == ["ตามระเบียบข้อ 12", "สรุปคำตอบสุดท้าย"]
    assert actors == {"api:saraban-system"}
    runtime.clock.advance(timedelta(hours=1))
    reopened = api.post(f"/tickets/{number}/reopen")
    assert reopened.status_code == 200 and reopened.json["status"] == "open"
    assert reopened.json["due_at"] == "2026-11-26T04:00:00Z"
    closed_without_answer = api.post(f"/tickets/{number}/close")
    assert closed_without_answer.status_code == 200


@pytest.mark.parametrize(
    ("path", "payload", "status", "needle"),
    [
        ("replies", None, 400, "JSON object"),
        ("replies", {}, 400, "'body' is required"),
        ("replies", {"body": "   "}, 400, "'body' is empty"),
        ("replies", {"body": 12}, 400, "must be a string"),
        ("replies", {"body": "x", "urgent": True}, 400, "Unknown field"),
        ("replies", {"body": "ก" * 5001}, 400, "over 5000"),
        ("notes", ["body"], 400, "JSON object"),
        ("close", {"answer": 5}, 400, "must be a string"),
        ("reopen", {}, 409, "not closed"),
    ],
)
def test_bad_changes_get_a_clear_error_and_change_nothing(api, runtime: Runtime, path, payload, status, needle) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        number = factories.ticket(session, now=runtime.clock.now()).number
    before = _counts(runtime)
    if payload is None:
        response = api.post(f"/tickets/{number}/{path}", data="not json", content_type="application/json")
    else:
        response = api.post(f"/tickets/{number}/{path}", json=payload)
    assert response.status_code == status
    assert needle in response.json["error"]["message"]
    assert _counts(runtime) == before


def test_replying_to_a_closed_ticket_is_a_conflict(api, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, now=runtime.clock.now())
        tickets.close(session, ticket, now=runtime.clock.now())
    before = _counts(runtime)
    response = api.post(f"/tickets/{ticket.number}/replies", json={"body": "ตอบ"})
    assert response.status_code == 409 and "closed" in response.json["error"]["message"]
    assert api.post(f"/tickets/{ticket.number}/close", json={}).status_code == 409
    assert _counts(runtime) == before


def test_unknown_tickets_routes_and_methods_are_json_errors(api) -> None:  # type: ignore[no-untyped-def]
    missing = api.get("/tickets/CL-2569-99999")
    assert missing.status_code == 404 and "CL-2569-99999" in missing.json["error"]["message"]
    assert api.post("/tickets/CL-2569-99999/replies", json={"body": "x"}).status_code == 404
    assert api.get("/nowhere").json["error"]["status"] == 404
    assert api.get("/tickets/CL-2569-00001/replies").json["error"]["status"] == 405


def test_openapi_document_describes_every_api_route(client, app) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in described, f"{method} {rule.rule} is not in the OpenAPI document"
    for path, method in described:
        assert any(
            r.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}") == path and method.upper() in r.methods
            for r in app.url_map.iter_rules()
        ), f"{method} {path} is documented but not served"


def test_clinic_token_create_prints_the_token_last_and_revoke_stops_it(config_env, client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    import os

    env = {**os.environ, **config_env}
    created = subprocess.run(
        [sys.executable, "-m", "manage", "token", "create", "--name", "reports"], env=env, capture_output=True,
        text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)),
    )  # fmt: skip
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("clinic_")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    duplicate = subprocess.run(
        [sys.executable, "-m", "manage", "token", "create", "--name", "reports"], env=env, capture_output=True,
        text=True, cwd=os.path.dirname(os.path.dirname(__file__)),
    )  # fmt: skip
    assert duplicate.returncode == 2 and "exists" in duplicate.stderr
    subprocess.run(
        [sys.executable, "-m", "manage", "token", "revoke", "reports"], env=env, check=True, capture_output=True,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )  # fmt: skip
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401
