"""Operators' endpoints: /metrics (Prometheus text), /readyz, the request id and JSON log lines."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from clinic import heartbeat, log_format, tasks, tickets
from clinic.clock import FrozenClock
from clinic.models import InboundEvent
from clinic.runtime import Runtime
from desk import operations
from tests import factories
from tests.conftest import T0
from wsgi import create_app

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _busy_clinic(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.db.transaction() as session:
        boss = factories.staff_user(session, now=clock.now(), username="boss", role="supervisor")
        boss.line_user_id = "Uboss"
        factories.ticket(session, now=clock.now() - timedelta(hours=30), user_id="U1")  # overdue
        factories.ticket(session, now=clock.now() - timedelta(hours=18), user_id="U2")  # 6 h left: at risk
        fresh = factories.ticket(session, now=clock.now(), channel="messenger", user_id="P3")
        tickets.close(session, fresh, now=clock.now(), final_answer="ตอบแล้ว")
        session.add_all([
            InboundEvent(channel="line", event_key=f"k{n}", payload={}, received_at=clock.now(), status=status)
            for n, status in enumerate(["processed", "processed", "failed", "pending"])
        ])  # fmt: skip


def test_metrics_from_loopback_name_the_figures_staff_care_about(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, clock: FrozenClock
) -> None:
    _busy_clinic(runtime, clock)
    clock.advance(seconds=20)
    tasks.tick()  # sends the SLA warnings due (late by up to ~20 s) and beats the heart
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    samples = _samples(response.get_data(as_text=True))
    assert samples[("clinic_tickets", (("state", "open"),))] == 2
    assert samples[("clinic_tickets", (("state", "overdue"),))] == 1
    assert samples[("clinic_tickets", (("state", "at_risk"),))] == 1
    assert samples[("clinic_webhook_events", (("channel", "line"), ("result", "processed")))] == 2
    assert samples[("clinic_webhook_events", (("channel", "line"), ("result", "failed")))] == 1
    assert samples[("clinic_outbox_messages", (("channel", "line"), ("status", "pending")))] >= 1
    assert ("clinic_jobs", (("state", "queued"),)) in samples and ("clinic_jobs", (("state", "failed"),)) in samples
    assert samples[("clinic_self_served_answers_total", ())] == 0
    assert samples[("clinic_sla_warning_lateness_seconds_count", ())] == 2  # the overdue and the at-risk ticket
    # The at-risk ticket's warning went out 20 s after its time; the overdue one's hours after (an outage).
    assert samples[("clinic_sla_warning_lateness_seconds_bucket", (("le", "30.0"),))] == 1
    assert samples[("clinic_sla_warning_lateness_seconds_bucket", (("le", "+Inf"),))] == 2
    assert samples[("clinic_sla_warning_lateness_seconds_bucket", (("le", "1.0"),))] == 0


def test_metrics_refuse_other_addresses_and_need_the_token_when_set(  # type: ignore[no-untyped-def]
    client, runtime: Runtime
) -> None:
    assert client.get("/metrics", environ_overrides=OUTSIDE).status_code == 403
    # A reverse proxy on the same machine connects from loopback: what it forwards is outside.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    guarded = create_app(runtime)
    runtime.config = replace(runtime.config, metrics_token="s3cret-metrics-token")
    try:
        web = guarded.test_client()
        assert web.get("/metrics").status_code == 401  # loopback is not enough once a token is set
        assert web.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = web.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}, environ_overrides=OUTSIDE)
        assert ok.status_code == 200 and b"clinic_tickets" in ok.data
    finally:
        runtime.config = replace(runtime.config, metrics_token="")


def test_readyz_names_the_failing_part(client, runtime: Runtime, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["worker"] and response.json["database"] == "ok"
    heartbeat.beat(runtime)
    clock.advance(seconds=2)
    operations._cache.clear()  # the endpoint's one-second cache runs on real time
    assert client.get("/readyz").status_code == 200
    clock.advance(seconds=61)
    operations._cache.clear()
    stale = client.get("/readyz")
    assert stale.status_code == 503 and "63 s" in stale.json["worker"]
    heartbeat.beat(runtime)
    runtime.config = replace(runtime.config, ready_max_queue=2)
    try:
        for n in range(3):
            runtime.queue.enqueue("clinic.tasks.tick", job_id=f"filler-{n}")
        operations._cache.clear()
        deep = client.get("/readyz")
        assert deep.status_code == 503 and deep.json["failing"] == ["queue"] and "3 jobs" in deep.json["queue"]
    finally:
        runtime.config = replace(runtime.config, ready_max_queue=500)
    assert client.get("/healthz").status_code == 200  # liveness does not care about the worker


def test_request_id_is_echoed_and_json_logs_carry_it(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "evil id; <script>" + "a" * 100})
    assert made.headers["X-Request-ID"] != "abc-123" and len(made.headers["X-Request-ID"]) == 32

    root = logging.getLogger()
    saved = list(root.handlers)
    log_format.configure("json")
    try:
        app = create_app(runtime)

        @app.get("/_log_test")
        def _log_test() -> str:
            logging.getLogger("clinic.test").warning("ข้อความทดสอบ %s", 42)
            return "ok"

        app.test_client().get("/_log_test", headers={"X-Request-ID": "req-7"})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
        line = next(entry for entry in lines if entry["logger"] == "clinic.test")
        assert line["message"] == "ข้อความทดสอบ 42" and line["level"] == "WARNING" and line["request_id"] == "req-7"
        assert line["time"].startswith(str(T0.year)[:2])
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
    with runtime.db.transaction() as session:
        assert session.scalars(select(InboundEvent)).first() is None
