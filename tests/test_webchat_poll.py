"""The web chat's poll: by index, and with nothing new for the browser, without SQL; never missing a message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, text

from clinic import tickets, webchat_changes
from clinic.models import InboundEvent, Ticket
from clinic.runtime import Runtime


@contextmanager
def _statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements run on the runtime's engine inside the block."""
    seen: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", _record)


def _open_ticket_in_chat(client) -> str:  # type: ignore[no-untyped-def]
    client.get("/chat")
    client.post("/chat/api/start", json={})
    for answer in ("2", "พระนคร", "ข้าม", "ข้าม", "1", "ขอแบบฟอร์มหนังสือภายนอก"):
        assert client.post("/chat/api/messages", json={"text": answer}).status_code == 200
    first = client.get("/chat/api/messages?after=0.0").json
    assert first["has_ticket"] is True
    return first["cursor"]


def test_a_poll_with_nothing_new_runs_no_sql_and_answers_the_same(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    cursor = _open_ticket_in_chat(client)  # its last poll read the database and remembered the answer
    with _statements(runtime) as statements:
        for _ in range(3):
            answer = client.get(f"/chat/api/messages?after={cursor}").json
            assert answer == {"messages": [], "cursor": cursor, "has_ticket": True}
    assert statements == []
    # What the database says for that cursor is the same answer.
    runtime.redis.delete(*runtime.redis.keys(runtime.key("webchat:quiet:*")))
    with _statements(runtime) as statements:
        assert client.get(f"/chat/api/messages?after={cursor}").json == answer
    assert statements
    # Another cursor (a second tab of the same browser, behind) still reads the database.
    with _statements(runtime) as statements:
        behind = client.get("/chat/api/messages?after=0.0").json
    assert statements and behind["messages"] and behind["cursor"] == cursor


def test_a_staff_reply_after_a_quiet_poll_shows_at_the_next_one(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    cursor = _open_ticket_in_chat(client)
    client.get(f"/chat/api/messages?after={cursor}")
    client.get(f"/chat/api/messages?after={cursor}")  # answered from Redis
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        tickets.reply(session, ticket, body="แนบแบบฟอร์มให้แล้วค่ะ", now=runtime.clock.now(), actor="test")
    staff = client.get(f"/chat/api/messages?after={cursor}").json
    assert [(m["from"], m["text"]) for m in staff["messages"]] == [("staff", "แนบแบบฟอร์มให้แล้วค่ะ")]


def test_the_browsers_own_message_after_a_quiet_poll_shows_at_the_next_one(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    cursor = _open_ticket_in_chat(client)
    client.get(f"/chat/api/messages?after={cursor}")
    client.get(f"/chat/api/messages?after={cursor}")
    assert client.post("/chat/api/messages", json={"text": "ขอบคุณค่ะ"}).status_code == 200
    mine = client.get(f"/chat/api/messages?after={cursor}").json["messages"]
    assert ("user", "ขอบคุณค่ะ") in [(m["from"], m["text"]) for m in mine]


def test_a_change_committed_while_a_poll_reads_is_not_lost(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    """The counter is read before the database: a change after that read makes the remembered answer stale."""
    cursor = _open_ticket_in_chat(client)
    user = select(InboundEvent.channel_user_id).where(InboundEvent.channel == "web").limit(1)
    with runtime.db.transaction() as session:
        browser = session.scalar(user)
    assert browser
    _, version = webchat_changes.quiet_answer(runtime, browser, cursor)  # the poll begins
    with runtime.db.transaction() as session:  # a reply commits while it reads the database
        tickets.reply(session, session.scalars(select(Ticket)).one(), body="ตอบ", now=runtime.clock.now(), actor="t")
    webchat_changes.remember(runtime, browser, version, cursor, True)  # the poll's (now old) answer
    fresh = client.get(f"/chat/api/messages?after={cursor}").json["messages"]
    assert [m["text"] for m in fresh] == ["ตอบ"]


def test_web_events_carry_their_browser_and_the_poll_uses_the_index(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    _open_ticket_in_chat(client)
    with runtime.db.transaction() as session:
        rows = session.execute(select(InboundEvent.event_key, InboundEvent.channel_user_id)).all()
    assert rows and all(key.split(":")[0] == browser for key, browser in rows)
    if runtime.db.engine.dialect.name == "sqlite":
        with runtime.db.engine.connect() as connection:
            plan = connection.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM inbound_events WHERE channel = 'web' AND channel_user_id = 'x' "
                "AND id > 0 ORDER BY id"
            )).all()  # fmt: skip
        assert "ix_inbound_channel_user" in " ".join(str(row) for row in plan)
