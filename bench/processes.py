"""The servers under test as child processes: gunicorn, the RQ worker, the slow fake API.

The bench and the fault suite both start the real product this way, each process
with its own environment, and stop only the processes they started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_env(env: dict[str, str]) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "LINE_", "MESSENGER_"))}
    merged.update(env)
    merged["PYTHONPATH"] = str(ROOT)
    return merged


class Child:
    """One child process, stopped with SIGTERM (then SIGKILL) or killed on purpose."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path | None = None) -> None:
        self.args = args
        self.log_path = log_path
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - lives with the child
        self.process = subprocess.Popen(
            args, env=_child_env(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, as when a machine dies."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Gunicorn(Child):
    """gunicorn (gthread) serving `app_spec` on a free loopback port."""

    def __init__(
        self,
        app_spec: str,
        env: dict[str, str],
        *,
        workers: int = 2,
        threads: int = 8,
        log_path: Path | None = None,
        ready_path: str = "/healthz",
        timeout: float = 30.0,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--threads", str(threads),
            "--worker-class", "gthread",
            "--log-level", "warning",
            "--graceful-timeout", "5",
            app_spec,
        ]  # fmt: skip
        super().__init__(args, env, log_path)
        self._wait_ready(ready_path, timeout)

    def _wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                # Any answer means a worker is serving; the product's /healthz must also say ok.
                answer = requests.get(self.url + path, timeout=2)
                if path != "/healthz" or answer.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not become ready in {timeout:.0f} s:\n{self.log_tail()}")


class Worker(Child):
    """The product's RQ worker (`python -m worker`)."""

    def __init__(self, env: dict[str, str], *, log_path: Path | None = None) -> None:
        super().__init__([sys.executable, "-m", "worker"], env, log_path)


class SlowFakeApi(Child):
    """tests/fakeapi.py as its own process, answering after `delay` seconds."""

    def __init__(self, delay: float, *, log_path: Path | None = None) -> None:
        args = [sys.executable, "-m", "bench.fake_api", "--delay", str(delay)]
        self.process = subprocess.Popen(
            args, env=_child_env({}), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, text=True,
        )  # fmt: skip
        self.args, self.log_path = args, log_path
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError("the fake API server did not start")
