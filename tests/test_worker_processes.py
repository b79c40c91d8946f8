"""`clinic worker --processes N` (WORKER_PROCESSES): N supervised worker processes serving one queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from rq import Worker

from clinic.config import Config, ConfigError
from clinic.runtime import Runtime, redis_url

CLINIC = [sys.executable, "-c", "from manage import cli; cli()"]


def _workers(runtime: Runtime) -> int:
    return len(Worker.all(queue=runtime.queue))


def _wait(predicate, timeout: float = 60) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


def test_processes_serve_one_queue_and_stop_together(runtime: Runtime) -> None:
    config = runtime.config
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "MESSENGER_", "REDIS_", "DATABASE_"))}
    env.update(
        DATABASE_URL=config.database_url,
        REDIS_URL=redis_url(config),
        QUEUE_NAME=config.queue_name,
        REDIS_KEY_PREFIX=config.key_prefix,
        SECRET_KEY=config.secret_key,
        VAR_DIR=str(config.var_dir),
    )
    process = subprocess.Popen([*CLINIC, "worker", "--processes", "2"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert _wait(lambda: _workers(runtime) == 2), f"{_workers(runtime)} workers registered"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        # Both children stopped with their supervisor (each unregisters on a clean stop).
        assert _wait(lambda: _workers(runtime) == 0, timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("raw", ["0", "33", "two", "-1"])
def test_worker_processes_out_of_range_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="WORKER_PROCESSES"):
        Config.from_env({"WORKER_PROCESSES": raw}, load_dotenv=False)


def test_worker_processes_default_is_one() -> None:
    assert Config.from_env({}, load_dotenv=False).worker_processes == 1
