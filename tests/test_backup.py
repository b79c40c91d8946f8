"""`clinic backup` and `clinic restore` on the test's database: what a restore refuses, and what it brings back.

The backup taken while the product runs as processes is in tests/faults/test_backup_while_running.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest

from clinic import backup
from clinic.config import Config
from clinic.runtime import Runtime
from tests import factories

CLINIC = [sys.executable, "-c", "from manage import cli; cli()"]


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the file-level checks need the SQLite backend; PostgreSQL goes through pg_dump")


def _clinic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLINIC + list(args), env=env, capture_output=True, text=True, timeout=120)


def _restore_env(config_env: dict[str, str], var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in config_env.items() if k != "DATABASE_URL"}
    import os

    return {**os.environ, **env, "VAR_DIR": str(var_dir), "REDIS_KEY_PREFIX": config_env["REDIS_KEY_PREFIX"] + "r:"}


def _evil_archive(path: Path, name: str) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for member_name, data in (("manifest.json", json.dumps({"format": 1}).encode()), (name, b"owned")):
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name", ["../escaped.txt", "/tmp/clinic-absolute-escape.txt", "clinic.db/../../x"])
def test_restore_refuses_members_outside_the_target(
    sqlite_only: None, runtime: Runtime, config_env: dict[str, str], tmp_path: Path, name: str
) -> None:
    archive = tmp_path / "evil.tar.gz"
    _evil_archive(archive, name)
    target = tmp_path / "restored"
    config = Config.from_env({**config_env, "VAR_DIR": str(target), "DATABASE_URL": ""})
    with pytest.raises(backup.BackupError, match="unexpected member"):
        backup.restore(config, archive)
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/clinic-absolute-escape.txt").exists()
    assert not target.exists() or not any(target.iterdir())


def test_backup_then_restore_into_an_empty_var_dir_only(
    sqlite_only: None, runtime: Runtime, config_env: dict[str, str], tmp_path: Path
) -> None:
    import os

    with runtime.db.transaction() as session:
        factories.ticket(session, now=runtime.clock.now(), body="คำถามที่ต้องไม่หาย")
    archive = tmp_path / "clinic-backup.tar.gz"
    made = _clinic({**os.environ, **config_env}, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert "tickets 1" in made.stdout and oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as opened:
        assert sorted(opened.getnames()) == ["clinic.db", "manifest.json"]  # no secret key in it
        manifest = json.loads(opened.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["secret_key_included"] is False and manifest["counts"]["tickets"] == 1

    target = tmp_path / "restored"
    env = _restore_env(config_env, target)
    done = _clinic(env, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "tickets 1" in done.stdout and "SLA queue rebuilt: 1 open tickets" in done.stdout
    again = _clinic(env, "restore", str(archive))
    assert again.returncode == 2 and "not empty" in again.stderr
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar at all")
    assert "cannot read" in _clinic(_restore_env(config_env, tmp_path / "other"), "restore", str(broken)).stderr


def test_postgresql_backup_and_restore_through_pg_dump(redis_server_url: str, tmp_path: Path) -> None:
    """Two throwaway databases on the test server: one backed up with pg_dump, restored into the other."""
    import os
    import shutil
    import uuid

    from sqlalchemy import select, text
    from sqlalchemy.engine import make_url

    from clinic import migrate, reference
    from clinic.clock import FrozenClock
    from clinic.db import Database
    from clinic.models import Attachment, Ticket
    from clinic.tickets import NewAttachment, open_ticket
    from tests.conftest import T0

    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not shutil.which("pg_dump"):
        pytest.skip("needs TEST_DATABASE_URL and the PostgreSQL client tools")
    names = [f"ops_backup_{uuid.uuid4().hex[:8]}", f"ops_restore_{uuid.uuid4().hex[:8]}"]
    admin = Database(base, isolation_level="AUTOCOMMIT")
    with admin.engine.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    source_url, target_url = (make_url(base).set(database=name).render_as_string(hide_password=False) for name in names)
    tag = uuid.uuid4().hex[:8]
    env = {"REDIS_URL": redis_server_url, "SECRET_KEY": "k", "QUEUE_NAME": f"q-{tag}", "REDIS_KEY_PREFIX": f"p-{tag}:"}
    try:
        source = Config.from_env({**env, "DATABASE_URL": source_url, "VAR_DIR": str(tmp_path / "a")})
        runtime = Runtime(source, clock=FrozenClock(T0))
        migrate.upgrade(runtime.db.engine)
        with runtime.db.transaction() as session:
            reference.seed(session)
            who = factories.requester(session, now=T0)
            open_ticket(session, requester=who, topic_code="saraban", body="คำถามใน PostgreSQL", now=T0,
                        attachments=[NewAttachment("file", "a.pdf", "application/pdf", b"%PDF-pg")])  # fmt: skip
        runtime.close()
        archive = tmp_path / "pg.tar.gz"
        assert backup.backup(source, archive).counts["attachments"] == 1
        with tarfile.open(archive) as opened:
            assert sorted(opened.getnames()) == ["clinic.pgdump", "manifest.json"]

        target = Config.from_env({**env, "DATABASE_URL": target_url, "VAR_DIR": str(tmp_path / "b")})
        assert backup.restore(target, archive).counts["tickets"] == 1
        restored = Database(target_url)
        with restored.transaction() as session:
            ticket = session.scalars(select(Ticket)).unique().one()
            assert ticket.messages[0].body == "คำถามใน PostgreSQL" and ticket.due_at == T0 + timedelta(hours=24)
            assert session.scalar(select(Attachment.content)) == b"%PDF-pg"
        restored.dispose()
        with pytest.raises(backup.BackupError, match="already has tables"):
            backup.restore(Config.from_env({**env, "DATABASE_URL": target_url, "VAR_DIR": str(tmp_path / "c")}),
                           archive)  # fmt: skip
    finally:
        with admin.engine.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
