"""`clinic backup FILE` and `clinic restore FILE`: one archive holding the whole database.

The archive is a .tar.gz with `manifest.json` and the database: `clinic.db` (SQLite, copied
with SQLite's online backup API, a consistent snapshot while web and worker keep writing) or
`clinic.pgdump` (PostgreSQL, `pg_dump --format=custom`, itself a consistent snapshot).
Attachments live in the database, so they are in it. Redis is not: it holds only jobs and the
SLA index, which `restore` rebuilds from the database (and the worker rebuilds on start).

The secret key (`$VAR_DIR/secret_key` or SECRET_KEY) is NOT in the archive: a stolen backup
must not let anyone forge staff sessions, and nothing stored depends on the key (API tokens
are kept as SHA-256 hashes, passwords as password hashes). After a restore with a new key,
staff simply sign in again. Keep SECRET_KEY in your secrets store, not beside the backups.

`restore` refuses a non-empty target: VAR_DIR must be empty (a freshly generated `secret_key`
is allowed) and, for PostgreSQL, the database must have no tables. It also refuses any
archive member that is not one of the names above (so no absolute path, no `..`, no link).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from clinic import migrate
from clinic.config import Config
from clinic.db import Database
from clinic.models import Attachment, Message, Requester, Ticket

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "clinic.db"
PG_FILE = "clinic.pgdump"
ALLOWED = (MANIFEST, SQLITE_FILE, PG_FILE)
# Files `Config.from_env` may have created in an otherwise empty VAR_DIR before restore runs.
ALLOWED_IN_EMPTY_VAR_DIR = ("secret_key",)


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class Summary:
    path: Path
    database: str
    counts: dict[str, int]


def _counts(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (("tickets", Ticket), ("messages", Message), ("attachments", Attachment),
                                ("requesters", Requester))
        }  # fmt: skip


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_path(config: Config) -> Path:
    database = make_url(config.database_url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names no SQLite file")
    return Path(database)


def _libpq_url(config: Config) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore read it (no `+psycopg` driver part)."""
    return make_url(config.database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            f"{name} is not installed here. Install the PostgreSQL client (apt-get install postgresql-client), "
            f'or run it where it is, e.g.: pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" '
            f"--file=clinic.pgdump (with postgresql:// instead of postgresql+psycopg://)"
        )
    return tool


def backup(config: Config, target: Path, *, say: Callable[[str], None] = print) -> Summary:
    target = Path(target)
    database = Database(config.database_url)
    try:
        counts = _counts(database)
        with tempfile.TemporaryDirectory(prefix="clinic-backup-") as work:
            work_dir = Path(work)
            if config.is_sqlite:
                data = work_dir / SQLITE_FILE
                source = sqlite3.connect(_sqlite_path(config), timeout=30)
                copy = sqlite3.connect(data)
                try:
                    # The online backup API: a consistent snapshot while others keep writing (WAL included).
                    source.backup(copy, pages=1024)
                finally:
                    copy.close()
                    source.close()
                snapshot = Database(f"sqlite:///{data}")
                try:  # the counts of the copy itself, not of the live database a moment earlier
                    counts = _counts(snapshot)
                finally:
                    snapshot.dispose()
                kind = "sqlite"
            else:
                data = work_dir / PG_FILE
                subprocess.run(
                    [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                     f"--dbname={_libpq_url(config)}", f"--file={data}"],
                    check=True, capture_output=True, text=True, timeout=3600,
                )  # fmt: skip
                kind = "postgresql"
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(),
                "database": kind,
                "file": data.name,
                "sha256": _sha256(data),
                "counts": counts,
                "secret_key_included": False,
            }
            (work_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))
            partial = target.with_name(f".{target.name}.partial")
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(work_dir / MANIFEST, arcname=MANIFEST)
                archive.add(data, arcname=data.name)
            partial.chmod(0o600)  # the whole personal data of the clinic: owner only
            os.replace(partial, target)
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"pg_dump failed: {exc.stderr.strip()}") from None
    finally:
        database.dispose()
    say(f"backup written: {target} ({kind}; " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")
    return Summary(target, kind, counts)


def _safe_members(archive: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    for member in archive.getmembers():
        name = member.name
        if name.startswith("/") or ".." in Path(name).parts or name not in ALLOWED:
            raise BackupError(f"refused: the archive holds an unexpected member {name!r}")
        if not member.isfile():
            raise BackupError(f"refused: {name!r} is not a regular file")
        members[name] = member
    if MANIFEST not in members:
        raise BackupError("refused: no manifest.json; not a clinic backup")
    return members


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    assert handle is not None
    return handle.read()


def restore(config: Config, source: Path, *, say: Callable[[str], None] = print) -> Summary:
    """Restore into an empty VAR_DIR (and empty database); return what the database holds after."""
    leftovers = [p.name for p in config.var_dir.iterdir() if p.name not in ALLOWED_IN_EMPTY_VAR_DIR] \
        if config.var_dir.exists() else []  # fmt: skip
    if leftovers:
        raise BackupError(f"refused: VAR_DIR {config.var_dir} is not empty ({', '.join(sorted(leftovers)[:5])})")
    try:
        archive = tarfile.open(source, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None
    with archive:
        members = _safe_members(archive)
        manifest = json.loads(_read(archive, members[MANIFEST]))
        if manifest.get("format") != FORMAT or manifest.get("file") not in members:
            raise BackupError("refused: unknown backup format or missing database file")
        kind = manifest["database"]
        if kind != ("sqlite" if config.is_sqlite else "postgresql"):
            raise BackupError(f"refused: the backup is of {kind}, DATABASE_URL is not")
        config.var_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="clinic-restore-", dir=config.var_dir) as work:
            data = Path(work) / manifest["file"]
            data.write_bytes(_read(archive, members[manifest["file"]]))
            if _sha256(data) != manifest["sha256"]:
                raise BackupError("refused: the database file does not match its checksum")
            if kind == "sqlite":
                target = _sqlite_path(config)
                if target.exists():
                    raise BackupError(f"refused: {target} exists")
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(data, target)
            else:
                _restore_postgresql(config, data)
    database = Database(config.database_url)
    try:
        migrate.upgrade(database.engine)  # a backup from an older release gets the newer schema
        counts = _counts(database)
    finally:
        database.dispose()
    say(f"restored from {source}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return Summary(Path(source), kind, counts)


def _restore_postgresql(config: Config, data: Path) -> None:
    database = Database(config.database_url)
    try:
        if inspect(database.engine).get_table_names():
            raise BackupError("refused: the PostgreSQL database already has tables; restore into an empty one")
    finally:
        database.dispose()
    try:
        subprocess.run(
            [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
             f"--dbname={_libpq_url(config)}", str(data)],
            check=True, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"pg_restore failed: {exc.stderr.strip()}") from None
