"""`clinic backup` while web and worker run and tickets keep arriving; `clinic restore` brings back a
consistent snapshot: every ticket with its messages, attachments and deadline, and the SLA queue."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from clinic import sla, tickets
from clinic.clock import FrozenClock
from clinic.config import Config
from clinic.db import Database
from clinic.models import Ticket
from clinic.runtime import Runtime
from clinic.tickets import NewAttachment
from tests import factories
from tests.faults.conftest import Product

CLINIC = [sys.executable, "-c", "from manage import cli; cli()"]


def _snapshot(database: Database) -> dict[str, tuple]:
    """Each ticket with what a restore must bring back."""
    with database.transaction() as session:
        return {
            t.number: (t.status, t.due_at, tuple((m.kind, m.body, tuple(a.content for a in m.attachments))
                                                 for m in t.messages))
            for t in session.scalars(select(Ticket).order_by(Ticket.id)).unique()
        }  # fmt: skip


def test_backup_while_running_and_restore(
    product: Product, runtime: Runtime, config_env: dict[str, str], live_clock: FrozenClock, tmp_path: Path
) -> None:
    if not config_env["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("the PostgreSQL path is pg_dump's own snapshot; this test covers the SQLite online backup")
    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=live_clock.now())
        for n in range(5):
            ticket = factories.ticket(session, now=live_clock.now() - timedelta(hours=n), body=f"คำถามที่ {n}",
                                      channel="web")  # fmt: skip
            tickets.reply(session, ticket, body=f"คำตอบที่ {n}", now=live_clock.now(), staff=agent)
            if n % 2:
                tickets.close(session, ticket, now=live_clock.now(), final_answer="ปิดเรื่อง", staff=agent)
    product.start_web()
    product.start_worker()

    stop = threading.Event()
    written: list[str] = []

    def keep_writing() -> None:  # a ticket with an attachment every few milliseconds, each in one transaction
        n = 0
        while not stop.is_set():
            with runtime.db.transaction() as session:
                who = factories.requester(session, now=live_clock.now(), channel="web")
                made = tickets.open_ticket(session, requester=who, topic_code="letters", body=f"ระหว่างสำรอง {n}",
                                           now=live_clock.now(), attachments=[NewAttachment(
                                               "file", f"f{n}.pdf", "application/pdf", os.urandom(2048))])  # fmt: skip
                written.append(made.number)
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.05)
        archive = tmp_path / "backup.tar.gz"
        made = subprocess.run(CLINIC + ["backup", str(archive)], env={**os.environ, **config_env},
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert requests.get(f"{product.url}/healthz", timeout=10).status_code == 200  # served throughout
        while len(written) < 40:  # and writes went on after the copy
            stop.wait(0.05)
    finally:
        stop.set()
        writer.join(timeout=30)
    live = _snapshot(runtime.db)

    target = tmp_path / "restored"
    env = {**os.environ, **{k: v for k, v in config_env.items() if k != "DATABASE_URL"}, "VAR_DIR": str(target),
           "REDIS_KEY_PREFIX": config_env["REDIS_KEY_PREFIX"] + "restored:"}  # fmt: skip
    done = subprocess.run(CLINIC + ["restore", str(archive)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    restored_config = Config.from_env(env)
    restored = Runtime(restored_config)
    try:
        back = _snapshot(restored.db)
        # A consistent snapshot: a prefix of what was written, each ticket whole, identical to the live one.
        assert 5 + 20 <= len(back) < len(live)
        numbers = list(live)
        assert list(back) == numbers[: len(back)]
        for number, row in back.items():
            assert row == live[number], number
            assert row[2], number
        open_tickets = [n for n, row in back.items() if row[0] != "closed"]
        assert f"SLA queue rebuilt: {len(open_tickets)} open tickets" in done.stdout
        due = {member.decode(): score for member, score in restored.redis.zrange(sla.due_key(restored), 0, -1,
                                                                                 withscores=True)}  # fmt: skip
        with restored.db.transaction() as session:
            expected = {str(t.id): t.due_at.timestamp()
                        for t in session.scalars(select(Ticket).where(Ticket.status != "closed")).unique()}  # fmt: skip
        assert due == expected
    finally:
        keys = list(restored.redis.scan_iter(match=f"{env['REDIS_KEY_PREFIX']}*"))
        if keys:
            restored.redis.delete(*keys)
        restored.close()
