"""The tests' fake LINE/Graph API server, with arrival times, and runnable as its own process.

`python -m bench.fake_api --delay 0.2` serves it on a free loopback port and prints its
URL, so the slow API of baseline (b) does not share the bench process's interpreter.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakeapi import FakeApiServer, Recorded

# The stdlib default backlog of 5 drops connection bursts (each a 1 s SYN retry);
# the real API never does that, so neither may the stand-in a baseline is judged against.
ThreadingHTTPServer.request_queue_size = 1024


class TimedFakeApi(FakeApiServer):
    """FakeApiServer that also notes when each request arrived (epoch seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[tuple[float, Recorded]] = []

    def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict]:
        at = time.time()
        result = super()._answer(method, raw_path, headers, body)
        with self._lock:
            recorded = next(r for r in reversed(self.requests) if r.body is body)
            self.arrived.append((at, recorded))
        return result

    def first_deliveries(self) -> dict[str, float]:
        """When each message to a requester was first accepted: by replyToken, and by "to:<user>" for a push."""
        with self._lock:
            arrived = list(self.arrived)
        first: dict[str, float] = {}
        for at, recorded in arrived:
            if recorded.status != 200 or recorded.method != "POST":
                continue
            payload = recorded.json or {}
            if recorded.path == "/v2/bot/message/reply":
                first.setdefault(payload.get("replyToken", ""), at)
            elif recorded.path == "/v2/bot/message/push":
                first.setdefault(f"to:{payload.get('to', '')}", at)
        return first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    server = FakeApiServer()
    server.delay = args.delay
    server.start()
    print(server.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
