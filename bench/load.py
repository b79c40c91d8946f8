"""Load generation against a webhook: Debian's `wrk` when present, else a Python generator.

Either way each request carries a distinct signed body, sent once, so the product's
dedupe never short-cuts the work.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.line_events import SignedEvent

LUA_SCRIPT = Path(__file__).with_name("webhook.lua")
WEBHOOK_PATH = "/webhook/line"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    failed: int  # non-2xx answers and socket errors
    tool: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def tool_name() -> str:
    if wrk_path():
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
        match = re.search(r"wrk (\S+)", version)
        return f"wrk {match.group(1)}" if match else "wrk"
    return "python (wrk not installed)"


def run(
    base_url: str, events: list[SignedEvent], *, seconds: float, connections: int, allow_repeats: bool = False
) -> LoadResult:
    """Closed-loop load for `seconds`; unless `allow_repeats`, running out of distinct bodies is an error."""
    if wrk_path():
        return _run_wrk(base_url, events, seconds=seconds, connections=connections, allow_repeats=allow_repeats)
    return _run_python(base_url, events, seconds=seconds, connections=connections)


def _run_wrk(
    base_url: str, events: list[SignedEvent], *, seconds: float, connections: int, allow_repeats: bool
) -> LoadResult:
    threads = 2 if connections >= 2 else 1
    with tempfile.NamedTemporaryFile("wb", suffix=".bodies", delete=False) as handle:
        for event in events:
            handle.write(event.signature.encode() + b"\t" + event.body + b"\n")
        bodies = handle.name
    try:
        args = [
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(LUA_SCRIPT), base_url + WEBHOOK_PATH, "--", bodies, str(threads),
        ]  # fmt: skip
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        out = done.stdout
    finally:
        Path(bodies).unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    if data["requests"] > len(events) and not allow_repeats:
        raise RuntimeError(f"wrk sent {data['requests']} requests but only {len(events)} distinct bodies exist")
    return LoadResult(
        requests=data["requests"],
        requests_per_s=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        failed=data["status_errors"] + data["socket_errors"],
        tool="wrk",
    )


def _run_python(base_url: str, events: list[SignedEvent], *, seconds: float, connections: int) -> LoadResult:
    """Closed-loop keep-alive clients in threads: weaker than wrk, and said so in the results."""
    parts = urlsplit(base_url)
    latencies: list[float] = []
    failed = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = time.monotonic()

    def client(offset: int) -> None:
        nonlocal failed
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, bad = [], 0
        for event in events[offset::connections]:
            if time.monotonic() >= deadline:
                break
            sent = time.perf_counter()
            try:
                connection.request(
                    "POST", WEBHOOK_PATH, body=event.body,
                    headers={"Content-Type": "application/json", "X-Line-Signature": event.signature},
                )  # fmt: skip
                answer = connection.getresponse()
                answer.read()
                bad += answer.status >= 300
            except (OSError, http.client.HTTPException):
                bad += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - sent)
        connection.close()
        with lock:
            latencies.extend(mine)
            failed += bad

    workers = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return LoadResult(
        requests=len(latencies),
        requests_per_s=len(latencies) / elapsed,
        p50_ms=quantiles[49] * 1000,
        p99_ms=quantiles[98] * 1000,
        failed=failed,
        tool="python",
    )
