"""Baseline (c): only the durable work of a webhook, one request at a time, in a bare Flask route.

Per request: one `INSERT ... ON CONFLICT DO NOTHING RETURNING` of the body's events and a
commit through the product's own pool (`clinic.inbound.store`), then the same Redis enqueue
(one RQ job per new event in one pipeline, `Runtime.enqueue_each`). No signature check, no
group commit: what the plain durable design costs by itself. Served by gunicorn as
`bench.baseline_durable:app` with the product's environment (DATABASE_URL, REDIS_URL, ...).
"""

from __future__ import annotations

import json

from flask import Flask, request

from clinic import inbound
from clinic.config import Config
from clinic.runtime import Runtime

app = Flask(__name__)
runtime = Runtime(Config.from_env())


@app.post("/webhook/line")
def webhook() -> tuple[str, int]:
    events = json.loads(request.get_data()).get("events", [])
    rows = [(str(e.get("webhookEventId", "")), str(e.get("type", ""))[:40], e) for e in events]
    with runtime.db.engine.begin() as connection:
        new_ids = inbound.store(connection, channel="line", events=rows, now=runtime.clock.now())
    runtime.enqueue_each(inbound.PROCESS_JOB, [(event_id,) for event_id in new_ids])
    return "OK", 200
