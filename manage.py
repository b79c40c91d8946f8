"""The `clinic` command (click, through Flask's CLI).

Commands that work on the data build a Runtime from the environment; they do not need
the web app. `clinic run` starts everything (see clinic/launcher.py).
"""

from __future__ import annotations

import sys
from typing import IO, NoReturn

import click
from flask.cli import FlaskGroup

from clinic.config import Config, ConfigError
from clinic.models import ROLES


def _create_app():  # type: ignore[no-untyped-def]
    from wsgi import create_app

    return create_app()


def _config() -> Config:
    try:
        return Config.from_env()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


def _fail(exc: Exception) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ / BMA consultation clinic."""


@cli.command("run")
def run_command() -> None:
    """Start the web app, the worker and (when REDIS_URL is unset) an embedded Redis."""
    from clinic import launcher

    try:
        sys.exit(launcher.run(_config()))
    except ConfigError as exc:
        _fail(exc)


@cli.command("migrate")
def migrate_command() -> None:
    """Apply migrations and seed reference data (both idempotent)."""
    from clinic import launcher

    try:
        launcher.prepare_database(_config(), say=click.echo)
    except ConfigError as exc:
        _fail(exc)
    click.echo("ฐานข้อมูลเป็นปัจจุบัน / Database is up to date")


@cli.command("seed")
def seed_command() -> None:
    """Insert missing reference data (agency types, agencies, topics, survey items)."""
    from clinic import reference
    from clinic.db import Database

    database = Database(_config().database_url)
    with database.transaction() as session:
        added = reference.seed(session)
    click.echo(
        f"added {added.agency_types} agency types, {added.topics} topics, "
        f"{added.survey_items} survey items, {added.agencies} agencies"
    )


@cli.command("worker")
@click.option("--processes", type=click.IntRange(1, 32), default=None,
              help="worker processes (default WORKER_PROCESSES, 1)")  # fmt: skip
def worker_command(processes: int | None) -> None:
    """Run the RQ worker with its scheduler (several processes with --processes)."""
    import worker
    from clinic.launcher import run_workers

    if processes is None:
        try:
            processes = Config.from_env().worker_processes
        except ConfigError:
            processes = 1  # worker.main reports the configuration error in its own words
    sys.exit(worker.main() if processes == 1 else run_workers(processes))


@cli.group("user")
def user_group() -> None:
    """Staff accounts."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--name", "display_name", default="", help="Display name (Thai).")
@click.option("--password", default=None, help="Leave out to generate one (printed once).")
def user_create(username: str, role: str, display_name: str, password: str | None) -> None:
    """Create a staff account."""
    from clinic import staff
    from clinic.clock import Clock
    from clinic.db import Database

    generated = password is None
    password = password or staff.generate_password()
    database = Database(_config().database_url)
    try:
        with database.transaction() as session:
            staff.create_user(
                session, username=username, password=password, role=role, now=Clock().now(), display_name=display_name
            )
    except staff.StaffError as exc:
        _fail(exc)
    click.echo(f"created {role} {username}")
    if generated:
        click.echo(f"password: {password}")


@cli.group("sla")
def sla_group() -> None:
    """The SLA queue in Redis."""


@sla_group.command("rebuild", with_appcontext=False)
def sla_rebuild() -> None:
    """Rebuild the SLA queue from the open tickets and the warnings already sent."""
    import redis

    from clinic import sla
    from clinic.runtime import Runtime

    runtime = Runtime(_config())
    try:
        count = sla.rebuild(runtime)
    except redis.RedisError as exc:
        _fail(RuntimeError(f"ติดต่อ Redis ไม่ได้ / Redis is unreachable: {exc}"))
    finally:
        runtime.close()
    click.echo(f"สร้างคิว SLA ใหม่แล้ว: {count} เรื่องที่ยังเปิดอยู่ / SLA queue rebuilt: {count} open tickets")


@cli.group("search")
def search_group() -> None:
    """The tickets' full-text search index."""


@search_group.command("rebuild", with_appcontext=False)
def search_rebuild() -> None:
    """Re-index every ticket from its messages (in batches of 500)."""
    from clinic import ticket_index
    from clinic.db import Database

    database = Database(_config().database_url)
    try:
        count = ticket_index.rebuild(database)
    finally:
        database.dispose()
    click.echo(f"สร้างดัชนีค้นหาใหม่แล้ว: {count} เรื่อง / Search index rebuilt: {count} tickets")


@cli.group("token")
def token_group() -> None:
    """Bearer tokens of the JSON API (/api/v1)."""


@token_group.command("create", with_appcontext=False)
@click.option("--name", required=True, help="Which system will use the token, e.g. saraban-system.")
def token_create(name: str) -> None:
    """Create a token; it is printed once, on the last line."""
    from clinic import api_tokens
    from clinic.clock import Clock
    from clinic.db import Database

    database = Database(_config().database_url)
    try:
        with database.transaction() as session:
            _row, token = api_tokens.create(session, name=name, now=Clock().now())
    except api_tokens.TokenError as exc:
        _fail(exc)
    finally:
        database.dispose()
    click.echo(f"สร้างโทเค็น {name} แล้ว เก็บไว้ให้ดี จะไม่แสดงอีก / Token {name} created; it is shown only once:")
    click.echo(token)


@token_group.command("revoke", with_appcontext=False)
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke a token by name; requests with it are refused from now on."""
    from clinic import api_tokens
    from clinic.clock import Clock
    from clinic.db import Database

    database = Database(_config().database_url)
    try:
        with database.transaction() as session:
            api_tokens.revoke(session, name=name, now=Clock().now())
    except api_tokens.TokenError as exc:
        _fail(exc)
    finally:
        database.dispose()
    click.echo(f"เพิกถอนโทเค็น {name} แล้ว / Token {name} revoked")


@cli.command("kpi", with_appcontext=False)
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD (Bangkok time, included).")
@click.option("--to", "last", required=True, help="Last day, YYYY-MM-DD (Bangkok time, included).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def kpi_command(first: str, last: str, fmt: str, output: str | None) -> None:
    """The KPI figures (json), one row per ticket (csv), or both in a workbook (xlsx)."""
    from clinic import kpi, kpi_export
    from clinic.runtime import Runtime

    try:
        period = kpi.Period.parse(first, last)
    except kpi.KpiError as exc:
        _fail(exc)
    runtime = Runtime(_config())
    try:
        with runtime.db.transaction() as session:
            if output:
                with open(output, "wb") as out:
                    kpi_export.export(session, period, fmt, out, now=runtime.clock.now())
            else:
                stdout: IO[bytes] = sys.stdout.buffer
                kpi_export.export(session, period, fmt, stdout, now=runtime.clock.now())
    finally:
        runtime.close()


@cli.command("import-history", with_appcontext=False)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_history_command(path: str) -> None:
    """Load past consultations from a UTF-8 CSV file (all or nothing; a second run adds nothing)."""
    from clinic import history_import
    from clinic.runtime import Runtime

    runtime = Runtime(_config())
    try:
        with open(path, encoding="utf-8-sig") as handle, runtime.db.transaction() as session:
            result = history_import.import_text(session, handle.read(), now=runtime.clock.now())
    except UnicodeDecodeError:
        _fail(ValueError("ไฟล์ต้องเป็น UTF-8 / The file must be UTF-8"))
    except history_import.HistoryImportError as exc:
        _fail(exc)
    finally:
        runtime.close()
    click.echo(
        f"นำเข้า {result.imported} เรื่อง มีอยู่แล้ว {result.already_present} เรื่อง ผู้ขอรับคำปรึกษาใหม่ "
        f"{result.requesters_created} คน / Imported {result.imported}, already present {result.already_present}, "
        f"new requesters {result.requesters_created}"
    )


@cli.command("retention", with_appcontext=False)
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
def retention_command(dry_run: bool) -> None:
    """Remove what is past its retention now (the worker also does it daily); counts per kind."""
    from clinic import retention
    from clinic.runtime import Runtime

    runtime = Runtime(_config())
    try:
        with runtime.db.transaction() as session:
            removed = retention.apply(session, now=runtime.clock.now(), dry_run=dry_run)
            if not dry_run:
                from clinic import audit

                audit.record(session, now=runtime.clock.now(), action="retention.manual", actor="cli",
                             target_type="retention", removed=removed.as_dict())  # fmt: skip
    finally:
        runtime.close()
    click.echo("ที่จะลบ / would remove (dry run):" if dry_run else "ลบแล้ว / removed:")
    for line in retention.describe(removed):
        click.echo(f"  {line}")


@cli.command("backup", with_appcontext=False)
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path: str) -> None:
    """Write a consistent backup of the database (attachments included) to PATH (.tar.gz)."""
    from pathlib import Path

    from clinic import backup

    try:
        backup.backup(_config(), Path(path), say=click.echo)
    except backup.BackupError as exc:
        _fail(exc)


@cli.command("restore", with_appcontext=False)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore_command(path: str) -> None:
    """Restore a backup into an empty VAR_DIR (and empty database), then rebuild the SLA queue."""
    from pathlib import Path

    import redis

    from clinic import backup, sla
    from clinic.runtime import Runtime

    config = _config()
    try:
        backup.restore(config, Path(path), say=click.echo)
    except backup.BackupError as exc:
        _fail(exc)
    runtime = Runtime(config)
    try:
        click.echo(f"SLA queue rebuilt: {sla.rebuild(runtime)} open tickets")
    except redis.RedisError:
        click.echo("Redis is not running: the worker rebuilds the SLA queue when it starts")
    finally:
        runtime.close()


@cli.group("kb")
def kb_group() -> None:
    """The knowledge base (คลังความรู้)."""


@kb_group.command("import", with_appcontext=False)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def kb_import(path: str) -> None:
    """Create or update articles from a UTF-8 CSV (key,topic,title,questions,answer,reference); all or nothing."""
    from clinic import knowledge
    from clinic.runtime import Runtime

    runtime = Runtime(_config())
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        _fail(ValueError("ไฟล์ต้องเป็น UTF-8 / The file must be UTF-8"))
    try:
        with runtime.db.transaction() as session:
            result = knowledge.import_csv(session, text, now=runtime.clock.now(), actor="cli:kb-import")
            if result.errors:
                session.rollback()
    finally:
        runtime.close()
    if result.errors:
        for error in result.errors:
            click.echo(error, err=True)
        click.echo("ไม่ได้บันทึกบทความใด / Nothing was saved", err=True)
        sys.exit(2)
    click.echo(
        f"สร้าง {result.created} ปรับปรุง {result.updated} ไม่เปลี่ยน {result.unchanged} บทความ / "
        f"Created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
    )


@kb_group.command("export", with_appcontext=False)
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def kb_export(path: str) -> None:
    """Write every article to a UTF-8 CSV in the import format."""
    from clinic import knowledge
    from clinic.db import Database

    database = Database(_config().database_url)
    try:
        with database.transaction() as session:
            text = knowledge.export_csv(session)
    finally:
        database.dispose()
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    click.echo(f"{text.count(chr(10)) and len(text.splitlines())} lines written to {path}")


@cli.group("line")
def line_group() -> None:
    """The LINE Official Account."""


@line_group.command("rich-menu", with_appcontext=False)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="Only write the PNG here; LINE is not called."
)
def line_rich_menu(output: str | None) -> None:
    """Draw the rich menu, create and upload it, make it the default; delete the product's earlier one."""
    from bot import rich_menu
    from bot.channel_error import ChannelApiError
    from bot.line_api import LineApi

    if output:
        try:
            with open(output, "wb") as out:
                out.write(rich_menu.draw())
        except OSError as exc:
            _fail(RuntimeError(f"เขียนไฟล์ไม่ได้ / Cannot write {output}: {exc.strerror}"))
        click.echo(
            f"เขียนภาพเมนู {rich_menu.WIDTH} × {rich_menu.HEIGHT} ที่ {output} / Rich menu image written to {output}"
        )
        return
    config = _config()
    if not config.line_enabled:
        _fail(RuntimeError("ยังไม่ได้ตั้งค่า LINE / LINE is not configured (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN)"))
    try:
        installed = rich_menu.install(LineApi(config))
    except ChannelApiError as exc:
        _fail(RuntimeError(f"LINE ไม่รับ / LINE refused: {exc}"))
    deleted = f", ลบเมนูเดิม / deleted {', '.join(installed.deleted)}" if installed.deleted else ""
    click.echo(f"ตั้งริชเมนูเป็นค่าเริ่มต้นแล้ว / Rich menu set as default: {installed.rich_menu_id}{deleted}")
    if installed.not_deleted:
        click.echo(f"ลบเมนูเดิมไม่ได้ / Could not delete: {', '.join(installed.not_deleted)}", err=True)


@cli.group("messenger")
def messenger_group() -> None:
    """The Facebook page on Messenger."""


@messenger_group.command("setup", with_appcontext=False)
def messenger_setup() -> None:
    """Set the page's Get Started button, greeting and persistent menu."""
    from bot import messenger_profile
    from bot.channel_error import ChannelApiError
    from bot.messenger_api import MessengerApi

    config = _config()
    if not config.messenger_enabled:
        _fail(RuntimeError("ยังไม่ได้ตั้งค่า Messenger / Messenger is not configured (MESSENGER_PAGE_ACCESS_TOKEN)"))
    try:
        messenger_profile.setup(MessengerApi(config))
    except ChannelApiError as exc:
        _fail(RuntimeError(f"Graph API ไม่รับ / Graph API refused: {exc}"))
    click.echo("ตั้งปุ่มเริ่มต้นใช้งาน คำทักทาย และเมนูของเพจแล้ว / Get Started, greeting and menu are set")


if __name__ == "__main__":
    cli()
