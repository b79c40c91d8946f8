"""Operators' endpoints: `/readyz` (readiness, JSON) and `/metrics` (Prometheus text format).

`/metrics` owner: the monitoring system. With METRICS_TOKEN set it wants `Authorization: Bearer
<token>`; unset, it answers only callers on this machine (loopback, and not forwarded by a proxy:
a request carrying X-Forwarded-For came from outside). `/readyz` is public like `/healthz` and
names only which part fails. Both answer from a short per-process cache, so a flood of requests
costs a few queries a second at most.
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from clinic import metrics, readiness
from desk.current import runtime

bp = Blueprint("operations", __name__)
READY_CACHE_SECONDS = 1.0
METRICS_CACHE_SECONDS = 5.0
LOOPBACK = ("127.0.0.1", "::1")

_lock = threading.Lock()
_cache: dict[str, tuple[float, Any]] = {}


def _cached(name: str, seconds: float, compute: Any) -> Any:
    with _lock:
        hit = _cache.get(name)
        if hit is not None and time.monotonic() - hit[0] < seconds:
            return hit[1]
    value = compute()
    with _lock:
        _cache[name] = (time.monotonic(), value)
    return value


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    rt = runtime()
    state = _cached(f"ready:{id(rt)}", READY_CACHE_SECONDS, lambda: readiness.check(rt))
    failing = [part for part, value in state.items() if value != "ok"]
    status = 503 if failing else 200
    return jsonify(status="ready" if not failing else "not ready", failing=failing, **state), status


def _allowed() -> bool:
    token = runtime().config.metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


@bp.get("/metrics")
def metrics_text() -> Response:
    if not _allowed():
        abort(401 if runtime().config.metrics_token else 403)
    rt = runtime()
    body = _cached(f"metrics:{id(rt)}", METRICS_CACHE_SECONDS, lambda: generate_latest(metrics.registry(rt)))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
