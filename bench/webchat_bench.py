"""Open web-chat tabs polling: what 1,000 of them cost the server (`make bench` part `webchat`).

Each tab is a browser of its own (a distinct signed cookie) with a few messages of history
(its start, three questions, three bot answers), among 100,000 LINE events and outbox rows of
other people, so an unindexed filter would have to read past them. Every tab polls
GET /chat/api/messages every 5 s with its cursor, as the page does, spread evenly over the
5 s; the server is the product under gunicorn (the same settings as part `intake`).

Measured: CPU seconds of the gunicorn processes (master and workers, from
/proc/<pid>/stat utime + stime) per wall second, as a percentage of one core, and the
poll latency. On PostgreSQL the backends serving those processes are added separately
(found by their application_name), since the database does the filtering.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import URLSafeSerializer
from sqlalchemy import insert, select, text

from clinic.models import InboundEvent, OutboxMessage, Requester

POLL_SECONDS = 5.0
TABS = 1_000
BACKGROUND_ROWS = 100_000
CLIENT_THREADS = 20
GOAL_PERCENT = 10.0
COOKIE = "clinic_chat"  # bot/webchat.py COOKIE
COOKIE_SALT = "clinic-webchat"  # bot/webchat.py _serializer()


@dataclass
class PollResult:
    polls: int
    failed: int
    seconds: float
    server_cpu_seconds: float
    database_cpu_seconds: float | None
    p50_ms: float
    p99_ms: float

    @property
    def server_percent(self) -> float:
        return 100.0 * self.server_cpu_seconds / self.seconds

    @property
    def database_percent(self) -> float | None:
        return None if self.database_cpu_seconds is None else 100.0 * self.database_cpu_seconds / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "polls": self.polls,
            "failed": self.failed,
            "seconds": round(self.seconds, 2),
            "polls_per_second": round(self.polls / self.seconds, 1),
            "server_cpu_seconds": round(self.server_cpu_seconds, 3),
            "server_percent_of_one_core": round(self.server_percent, 2),
            "database_cpu_seconds": None if self.database_cpu_seconds is None else round(self.database_cpu_seconds, 3),
            "database_percent_of_one_core": None if self.database_percent is None else round(self.database_percent, 2),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
        }


# --- data ------------------------------------------------------------------------------


def fill(database: Any, secret_key: str, *, tabs: int = TABS, background: int = BACKGROUND_ROWS) -> list[str]:
    """Store the tabs' histories and the other channels' rows; return each tab's cookie value."""
    now = datetime.now(UTC) - timedelta(hours=1)
    users = [uuid.uuid4().hex for _ in range(tabs)]
    with database.transaction() as session:
        session.execute(
            insert(Requester),
            [{"channel": "web", "channel_user_id": user, "created_at": now} for user in users],
        )
        ids = dict(
            session.execute(select(Requester.channel_user_id, Requester.id).where(Requester.channel == "web"))
            .tuples()
            .all()
        )
        events: list[dict[str, Any]] = []
        replies: list[dict[str, Any]] = []
        for n, user in enumerate(users):
            at = now + timedelta(milliseconds=n)
            events.append(_event("web", f"{user}:start", "start", {"user": user, "kind": "start"}, at, user))
            for k in range(3):
                text_ = f"คำถามที่ {k + 1} ของแท็บ {n}"
                events.append(_event("web", f"{user}:{uuid.uuid4().hex}", "text",
                                     {"user": user, "kind": "text", "text": text_}, at, user))  # fmt: skip
                replies.append(_reply(ids[user], user, f"คำตอบที่ {k + 1}", at))
        session.execute(insert(InboundEvent), events)
        session.execute(insert(OutboxMessage), replies)
    # Everyone else's traffic: what an unindexed filter has to read past.
    for start in range(0, background, 20_000):
        chunk = range(start, min(start + 20_000, background))
        with database.transaction() as session:
            session.execute(insert(InboundEvent), [
                _event("line", f"line-{uuid.uuid4().hex}", "message", {"text": "สวัสดี"}, now, None) for _ in chunk
            ])  # fmt: skip
            session.execute(insert(OutboxMessage), [_reply(None, f"U{k:032d}", "ตอบ", now) for k in chunk])
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    signer = URLSafeSerializer(secret_key, salt=COOKIE_SALT)
    return [signer.dumps(user) for user in users]


def _event(
    channel: str, key: str, kind: str, payload: dict[str, Any], at: datetime, user: str | None
) -> dict[str, Any]:
    return {"channel": channel, "event_key": key, "event_type": kind, "payload": payload, "received_at": at,
            "status": "processed", "attempts": 1, "processed_at": at, "channel_user_id": user}  # fmt: skip


def _reply(requester_id: int | None, recipient: str, body: str, at: datetime) -> dict[str, Any]:
    return {"created_at": at, "channel": "web" if requester_id else "line", "recipient": recipient, "kind": "auto",
            "payload": [{"type": "text", "text": body}], "requester_id": requester_id, "retry_key": str(uuid.uuid4()),
            "status": "sent"}  # fmt: skip


# --- CPU -------------------------------------------------------------------------------


def _ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def process_tree(root: int) -> list[int]:
    """The root and its children (gunicorn's master and workers)."""
    children = Path(f"/proc/{root}/task/{root}/children")
    pids = [root]
    if children.exists():
        for child in children.read_text().split():
            pids += process_tree(int(child))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += _ticks(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass  # a process that ended between listing and reading
    return total / os.sysconf("SC_CLK_TCK")


def database_backends(database: Any, application_name: str) -> list[int] | None:
    """PostgreSQL backends of the product's connections, if the database runs on this machine."""
    if database.engine.dialect.name != "postgresql":
        return None
    with database.engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"), {"name": application_name}
        ).scalars().all()  # fmt: skip
    visible = [pid for pid in pids if Path(f"/proc/{pid}/stat").exists()]
    return visible or None


# --- load ------------------------------------------------------------------------------


def poll(url: str, cookies: list[str], seconds: float, pids: list[int], db_pids: list[int] | None) -> PollResult:
    """Every tab polls once per POLL_SECONDS, evenly spread, for `seconds`; CPU is read around it."""
    parts = urlsplit(url)
    cursors = ["0.0"] * len(cookies)
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    started = time.monotonic() + 0.2
    gap = POLL_SECONDS / len(cookies)

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        errors = 0
        n = offset
        while True:
            at = started + n * gap
            if at >= started + seconds:
                break
            pause = at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            tab = n % len(cookies)
            begin = time.perf_counter()
            try:
                connection.request("GET", f"/chat/api/messages?after={cursors[tab]}",
                                   headers={"Cookie": f"{COOKIE}={cookies[tab]}"})  # fmt: skip
                answer = connection.getresponse()
                body = answer.read()
                if answer.status == 200:
                    cursors[tab] = json.loads(body)["cursor"]
                    mine.append(time.perf_counter() - begin)
                else:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            n += CLIENT_THREADS
        connection.close()
        with lock:
            latencies.extend(mine)
            failed[0] += errors

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENT_THREADS)]
    cpu_before = cpu_seconds(pids)
    db_before = cpu_seconds(db_pids) if db_pids else None
    wall_before = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - wall_before
    server = cpu_seconds(pids) - cpu_before
    database = cpu_seconds(db_pids) - db_before if db_pids and db_before is not None else None
    latencies.sort()
    return PollResult(
        polls=len(latencies),
        failed=failed[0],
        seconds=wall,
        server_cpu_seconds=server,
        database_cpu_seconds=database,
        p50_ms=1000 * statistics.median(latencies) if latencies else float("nan"),
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    )
