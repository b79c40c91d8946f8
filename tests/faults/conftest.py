"""The fault suite's fixtures: the real product as processes on the test's database and Redis.

Each test gets gunicorn serving `wsgi:create_app()` and `python -m worker` processes
configured like the test's runtime (same database, queue name and key prefix), the
fake LINE API in the test process, and stops only the processes it started.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq import Worker as RqWorker

from bench.processes import Gunicorn, Worker
from clinic.clock import FrozenClock
from clinic.runtime import Runtime

FAULTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if FAULTS_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


class Product:
    """The web app and workers of one test, restartable, with their logs kept for failures."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.web: Gunicorn | None = None
        self.workers: list[Worker] = []

    def start_web(self, *, ready_path: str = "/healthz", **overrides: str) -> Gunicorn:
        """Serve the app; `ready_path` other than /healthz waits for any answer (for a broken database)."""
        if self.web is not None:
            self.web.stop()
        self.web = Gunicorn(
            "wsgi:create_app()", {**self.env, **overrides}, workers=2, threads=4,
            log_path=self.logs / "web.log", ready_path=ready_path,
        )  # fmt: skip
        return self.web

    def start_worker(self, **overrides: str) -> Worker:
        """Start `python -m worker` and wait until it has registered with RQ (it is then listening)."""
        env = {**self.env, **overrides}
        worker = Worker(env, log_path=self.logs / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        connection = redis.Redis.from_url(env["REDIS_URL"])
        queue = Queue(env["QUEUE_NAME"], connection=connection)
        try:
            deadline = time.monotonic() + 30
            while RqWorker.count(queue=queue) < sum(w.alive for w in self.workers):
                if not worker.alive or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start:\n{worker.log_tail()}")
                time.sleep(0.1)
        finally:
            connection.close()
        return worker

    @property
    def url(self) -> str:
        assert self.web is not None, "start_web() first"
        return self.web.url

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-30:])
                         for p in sorted(self.logs.glob("*.log")))  # fmt: skip

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.web is not None:
            self.web.stop()


@pytest.fixture
def once_per_run(database_url: str) -> None:
    """Long fault tests run on one backend: PostgreSQL when the run has it, else SQLite."""
    if os.environ.get("TEST_DATABASE_URL") and database_url.startswith("sqlite"):
        pytest.skip("a long fault test: it runs once per run, on PostgreSQL")


@pytest.fixture
def live_clock(clock: FrozenClock) -> FrozenClock:
    """The test's clock set to the real time, which the product's processes run on."""
    clock.set(datetime.now(UTC))
    return clock


@pytest.fixture
def product(runtime: Runtime, config_env: dict[str, str], tmp_path: Path, live_clock: FrozenClock) -> Iterator[Product]:
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Product(config_env, logs)
    yield running
    running.stop()
