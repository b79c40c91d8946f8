"""Bad input, over real HTTP to gunicorn: each gets a clear 4xx and changes nothing.

"Changes nothing" is checked by counting the rows of every table, and the jobs in the
queue, before and after each request.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime

import pytest
import requests
from sqlalchemy import func, select

from bench.line_events import body_of, sign, signed_text, text_event
from clinic import api_tokens
from clinic.db import Base
from clinic.models import InboundEvent, Ticket
from clinic.runtime import Runtime
from tests import factories
from tests.fakeapi import FakeApiServer
from tests.faults.conftest import Product
from tests.faults.ledger import all_processed, outbox_settled, wait_until

THAI_10K = ("ขอสอบถามเรื่องการลงทะเบียนรับหนังสือราชการ " * 250)[:10_000]


def snapshot(runtime: Runtime) -> dict[str, int]:
    counts = {"rq jobs": runtime.queue.count}
    with runtime.db.Session() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = session.scalar(select(func.count()).select_from(table)) or 0
    return counts


@pytest.fixture
def served(product: Product) -> str:
    product.start_web()
    return product.url


def _line(url: str, body: bytes, signature: str) -> requests.Response:
    return requests.post(f"{url}/webhook/line", data=body, timeout=15,
                         headers={"Content-Type": "application/json", "X-Line-Signature": signature})  # fmt: skip


def _assert_refused(runtime: Runtime, send: object, status: int | tuple[int, ...]) -> requests.Response:
    before = snapshot(runtime)
    answer = send()  # type: ignore[operator]
    wanted = status if isinstance(status, tuple) else (status,)
    assert answer.status_code in wanted, (answer.status_code, answer.text[:300])
    assert answer.text.strip(), "a refusal says why"
    assert snapshot(runtime) == before
    return answer


def test_line_webhook_bad_input(served: str, runtime: Runtime) -> None:
    secret = runtime.config.line_channel_secret
    good = signed_text(secret, "U" + uuid.uuid4().hex, "สวัสดีครับ")
    broken = b'{"destination": "U1", "events": [{"type": "message",'
    nested = b'{"destination": "U1", "events": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    huge = body_of([text_event("U" + uuid.uuid4().hex, "ก" * (2 * 1024 * 1024))])
    latin1 = body_of([text_event("U" + uuid.uuid4().hex, "é")]).replace("é".encode(), b"\xe9")
    with_nul = body_of([text_event("U" + uuid.uuid4().hex, "abc")]).replace(b"abc", b"a\x00c")

    _assert_refused(runtime, lambda: _line(served, good.body, "d3Jvbmc="), 400)  # wrong signature
    _assert_refused(runtime, lambda: _line(served, good.body, ""), 400)  # no signature
    _assert_refused(runtime, lambda: _line(served, good.body, sign("another-secret", good.body)), 400)
    _assert_refused(runtime, lambda: _line(served, broken, sign(secret, broken)), 400)
    _assert_refused(runtime, lambda: _line(served, nested, sign(secret, nested)), 400)
    _assert_refused(runtime, lambda: _line(served, huge, sign(secret, huge)), 413)
    _assert_refused(runtime, lambda: _line(served, latin1, sign(secret, latin1)), 400)  # invalid UTF-8
    _assert_refused(runtime, lambda: _line(served, with_nul, sign(secret, with_nul)), 400)  # raw NUL byte
    not_events = b'{"destination": "U1", "events": {"type": "message"}}'
    _assert_refused(runtime, lambda: _line(served, not_events, sign(secret, not_events)), 400)


def test_line_unknown_event_type_is_stored_and_ignored(served: str, runtime: Runtime, product: Product,
                                                      api_server: FakeApiServer) -> None:  # fmt: skip
    """LINE wants 200 for every verified webhook (else it retries and flags the bot), so an
    unknown event type is acknowledged, stored once, marked ignored, and does nothing else."""
    event = text_event("U" + uuid.uuid4().hex, "x")
    event["type"] = "somethingNew"
    body = body_of([event])
    product.start_worker()
    before = snapshot(runtime)
    assert _line(served, body, sign(runtime.config.line_channel_secret, body)).status_code == 200
    wait_until(lambda: _event_status(runtime, event["webhookEventId"]) == "ignored", timeout=20,
               what="the unknown event marked ignored")  # fmt: skip
    after = snapshot(runtime)
    assert after.pop("inbound_events") == before.pop("inbound_events") + 1
    after.pop("rq jobs"), before.pop("rq jobs")
    # The worker's own housekeeping on its first tick (the daily retention pass records its day and is
    # audited; the LINE quota sampler keeps its samples) is not the event's doing.
    for table in ("settings", "audit_log"):
        after.pop(table), before.pop(table)
    assert after == before
    assert not api_server.matching("POST", r"^/v2/bot/message/")


def _event_status(runtime: Runtime, key: str) -> str | None:
    with runtime.db.Session() as session:
        return session.scalar(select(InboundEvent.status).where(InboundEvent.event_key == key))


def test_line_10000_thai_characters_processed_not_failed(served: str, runtime: Runtime, product: Product) -> None:
    """LINE itself caps a text at 5,000 characters; a longer one is still stored and answered, never a crash."""
    product.start_worker()
    event = signed_text(runtime.config.line_channel_secret, "U" + uuid.uuid4().hex, THAI_10K)
    assert _line(served, event.body, event.signature).status_code == 200
    wait_until(lambda: all_processed(runtime.db, [event]), timeout=20, what="the long message processed")
    wait_until(lambda: outbox_settled(runtime.db), timeout=20, what="its answer sent")


def test_web_chat_bad_input(served: str, runtime: Runtime) -> None:
    chat = requests.Session()
    assert chat.get(f"{served}/chat", timeout=10).status_code == 200

    def send(data: bytes, content_type: str = "application/json") -> requests.Response:
        return chat.post(f"{served}/chat/api/messages", data=data, headers={"Content-Type": content_type}, timeout=10)

    _assert_refused(runtime, lambda: send(json.dumps({"text": THAI_10K}).encode()), 400)
    _assert_refused(runtime, lambda: send(b'{"text": "a\x00b"}'), 400)
    _assert_refused(runtime, lambda: send(b'{"text": "\xff\xfe"}'), 400)
    _assert_refused(runtime, lambda: send(b'{"text": '), 400)
    _assert_refused(runtime, lambda: send(b"[" * 100_000 + b"]" * 100_000), 400)
    _assert_refused(runtime, lambda: send(b'{"text": "hi"}', "text/plain"), 415)
    _assert_refused(runtime, lambda: send(json.dumps({"text": "hi", "admin": True}).encode()), 400)


def _signed_in(url: str, username: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    page = browser.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "the login form carries a CSRF token"
    form = {"username": username, "password": factories.PASSWORD, "csrf_token": token.group(1)}
    answer = browser.post(f"{url}/login", data=form, timeout=10, allow_redirects=False)
    assert answer.status_code == 302
    return browser, token.group(1)


def test_desk_and_api_refusals(served: str, runtime: Runtime) -> None:
    now: datetime = runtime.clock.now()
    with runtime.db.transaction() as session:
        factories.staff_user(session, now=now, username="agent1", role="agent")
        ticket = factories.ticket(session, now=now)
        number = ticket.number
        _, revoked = api_tokens.create(session, name="old-system", now=now)
        api_tokens.revoke(session, name="old-system", now=now)
    agent, _ = _signed_in(served, "agent1")
    assert agent.get(f"{served}/tickets/{number}", timeout=10).status_code == 200

    forged = {"body": "คำตอบปลอม / forged reply"}
    _assert_refused(runtime, lambda: agent.post(f"{served}/tickets/{number}/reply", data=forged, timeout=10), 400)
    _assert_refused(runtime, lambda: agent.post(f"{served}/tickets/{number}/close", data={}, timeout=10), 400)
    stranger = requests.Session()  # not signed in, no token
    _assert_refused(runtime, lambda: stranger.post(f"{served}/tickets/{number}/reply", data=forged, timeout=10,
                                                   allow_redirects=False), (400, 401, 302))  # fmt: skip
    for page in ("/admin", "/admin/staff", "/admin/sla", "/admin/audit"):
        _assert_refused(runtime, lambda page=page: agent.get(f"{served}{page}", timeout=10), 403)

    api = f"{served}/api/v1"
    reply = {"body": "ตอบผ่าน API / via the API"}
    _assert_refused(runtime, lambda: requests.get(f"{api}/tickets", timeout=10), 401)
    _assert_refused(runtime, lambda: requests.post(f"{api}/tickets/{number}/replies", json=reply, timeout=10), 401)
    revoked_auth = {"Authorization": f"Bearer {revoked}"}
    _assert_refused(runtime, lambda: requests.get(f"{api}/tickets", headers=revoked_auth, timeout=10), 401)
    _assert_refused(runtime, lambda: requests.post(f"{api}/tickets/{number}/replies", json=reply,
                                                   headers=revoked_auth, timeout=10), 401)  # fmt: skip
    _assert_refused(runtime, lambda: requests.get(f"{api}/tickets", headers={"Authorization": "Bearer clinic_x"},
                                                  timeout=10), 401)  # fmt: skip
    with runtime.db.Session() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.number == number)) == "open"
