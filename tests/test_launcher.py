"""`clinic run` as an operator runs it: a real process tree on the embedded defaults."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CLINIC = [sys.executable, "-c", "from manage import cli; cli()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "MESSENGER_", "REDIS_", "DATABASE_"))}
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(_free_port()), WEB_WORKERS="1", **extra)
    env.pop("SECRET_KEY", None)
    return env


def _wait_healthy(port: str, process: subprocess.Popen, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "clinic run exited early"
        try:
            # The first request waits for a gunicorn worker to import the app: slow on a busy machine.
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    raise AssertionError("clinic run did not come up")


def test_clinic_run_embedded_end_to_end(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    process = subprocess.Popen(CLINIC + ["run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        response = _wait_healthy(env["PORT"], process)
        assert response.status_code == 200, response.text
        assert response.json()["redis"] == "ok"
        assert (tmp_path / "var" / "clinic.db").exists()
        assert (tmp_path / "var" / "redis" / "redis.sock").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "username: admin" in output
    assert not (tmp_path / "var" / "redis" / "redis.sock").exists()  # the embedded Redis stopped too

    # A second run reuses the data: no new admin password is printed.
    env["PORT"] = str(_free_port())
    process = subprocess.Popen(CLINIC + ["run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait_healthy(env["PORT"], process).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "username: admin" not in output


def _run_expecting_error(tmp_path: Path, **extra: str) -> str:
    result = subprocess.run(
        CLINIC + ["run"], env=_clean_env(tmp_path, **extra), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # one clear line, not a traceback
    return lines[0]


def test_unreachable_redis_stops_start_up_with_one_line(tmp_path: Path) -> None:
    assert "REDIS_URL" in _run_expecting_error(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")


def test_malformed_database_url_stops_start_up_with_one_line(tmp_path: Path) -> None:
    assert "DATABASE_URL" in _run_expecting_error(tmp_path, DATABASE_URL="postgres//broken")


def test_missing_line_secret_stops_start_up_with_one_line(tmp_path: Path) -> None:
    assert "LINE_CHANNEL_SECRET" in _run_expecting_error(tmp_path, LINE_CHANNEL_ACCESS_TOKEN="token")


def test_user_create_prints_generated_password(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    subprocess.run(CLINIC + ["migrate"], env=env, check=True, capture_output=True, timeout=60)
    result = subprocess.run(
        CLINIC + ["user", "create", "somchai", "--role", "supervisor"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "created supervisor somchai"
    assert result.stdout.splitlines()[1].startswith("password: ")
    again = subprocess.run(CLINIC + ["user", "create", "somchai"], env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "somchai" in again.stderr


def test_idle_clinic_run_is_quiet_and_ctrl_c_stops_it_cleanly(tmp_path: Path) -> None:
    """Polls and ticks log nothing; SIGINT stops web and worker, then Redis, with exit 0 and no traceback."""
    import threading

    import redis

    env = _clean_env(tmp_path)
    process = subprocess.Popen(CLINIC + ["run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        assert _wait_healthy(env["PORT"], process).status_code == 200
        # The worker logs its start-up once it listens; count from when everything is up.
        deadline = time.monotonic() + 60
        while not any("Listening on" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.2)
        started = len(lines)
        sock = tmp_path / "var" / "redis" / "redis.sock"
        ticks = redis.Redis(unix_socket_path=str(sock))
        # What an open desk page does every 5 s, and a monitor's health checks.
        for _ in range(10):
            requests.get(f"http://127.0.0.1:{env['PORT']}/live", timeout=10, allow_redirects=False)
            requests.get(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=10)
        # Idle until the worker has run at least two ticks (15 s apart), bounded.
        deadline = time.monotonic() + 60
        while len(ticks.keys("clinic:tick:*")) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(ticks.keys("clinic:tick:*")) >= 2, "the worker did not tick"
        time.sleep(1)  # the second tick's job runs and would log now
        idle = lines[started:]
        # A page view that failed is still logged: errors are what a person looks for.
        requests.get(f"http://127.0.0.1:{env['PORT']}/no-such-page", timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=10)
    output = "".join(lines)
    assert process.returncode == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert idle == [], idle  # 20 polls, 20 health checks and two ticks: not one line
    assert any('"GET /no-such-page HTTP/1.1" 404' in line for line in lines), output
    assert not (tmp_path / "var" / "redis" / "redis.sock").exists()  # Redis stopped last, and stopped
    stop_at = next(i for i, line in enumerate(lines) if "Stopping" in line)
    assert len(lines) - stop_at < 15, output[-3000:]  # a short, orderly stop
