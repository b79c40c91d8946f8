"""The SLA sweep under load: `python -m bench.sla_bench [--sizes 1000,100000] [--full] [--backend sqlite]`.

For each size N it fills a fresh database with N open tickets (posted over the last
36 h, so a third are overdue), records the warnings a running worker would already have
sent up to 15 s ago, rebuilds the Redis queue from that, and then measures:

- `steady`: 20 consecutive ticks 15 s apart (five minutes of a running worker);
- `idle`: a sweep right after, with nothing due (its cost must not grow with N);
- `backlog_1h`: one sweep after the worker was down for an hour;
- `live`: then the worker's SLA timer (clinic/sla_timer.py) runs for real for 20 s, on the
  wall clock, while a few tickets get a nearer warning (due in 1-10 s, as a reopen would):
  worst lateness from each warning's due time to the commit of the sweep that sent it.

Worst lateness is the time from a warning's due moment to the end of the sweep that
committed it: for the ticks an upper bound that includes the wait for the tick; for `live`
what a running worker achieves. The clock is the
real clock shifted to the chosen moment, so times inside a sweep are real. Prints JSON.
Data is generated into a throw-away SQLite file or PostgreSQL schema, never committed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from rq import Queue
from sqlalchemy import func, insert, select

from bench import dataset
from clinic import settings, sla, sla_timer
from clinic.clock import Clock
from clinic.config import Config
from clinic.models import FINISHED_STATUSES, SlaNotice, Ticket
from clinic.runtime import Runtime
from clinic.sla_schedule import latest_until
from clinic.tasks import TICK_SECONDS
from clinic.thaidate import BANGKOK, fiscal_quarter

DEFAULT_SIZES = (1_000, 100_000)
FULL_SIZES = (1_000, 100_000, 1_000_000)
BACKLOG = timedelta(hours=1)
STEADY_TICKS = 20  # five minutes of a running worker's ticks
LIVE_SECONDS = 20.0  # the SLA timer running for real
LIVE_NEARER = 10  # tickets given a nearer warning while it runs
LIVE_GOAL_SECONDS = 1.0


class ShiftedClock(Clock):
    """The real clock, moved to a chosen moment: time inside a sweep passes for real."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)


def _record_sent_until(runtime: Runtime, until: datetime) -> int:
    """Insert the notices a running worker would have sent by `until` (the latest per ticket is enough)."""
    with runtime.db.transaction() as session:
        timings = settings.sla(session, runtime.config)
        tickets = session.execute(select(Ticket.id, Ticket.sla_started_at, Ticket.due_at)).all()
    rows = []
    for ticket_id, started_at, due_at in tickets:
        notice = latest_until(started_at, due_at, timings, until)
        if notice is not None:
            rows.append(
                {"ticket_id": ticket_id, "due_at": due_at, "kind": notice.kind, "scheduled_for": notice.at,
                 "created_at": notice.at}
            )  # fmt: skip
    for start in range(0, len(rows), 20_000):
        with runtime.db.transaction() as session:
            session.execute(insert(SlaNotice), rows[start : start + 20_000])
    return len(rows)


def _timed_sweep(runtime: Runtime, clock: ShiftedClock, at: datetime | None) -> dict[str, Any]:
    """One sweep at `at` (None: now on the running clock), timed, with its worst lateness."""
    with runtime.db.transaction() as session:
        before = session.scalar(select(func.max(SlaNotice.id))) or 0
    if at is not None:
        clock.set(at)
    started = time.perf_counter()
    result = sla.sweep(runtime)
    elapsed = time.perf_counter() - started
    ended = clock.now()
    with runtime.db.transaction() as session:
        earliest, latest_created = session.execute(
            select(func.min(SlaNotice.scheduled_for), func.max(SlaNotice.created_at)).where(SlaNotice.id > before)
        ).one()
    return {
        "sweep_seconds": round(elapsed, 4),
        "tickets_claimed": result.claimed,
        "warnings_sent": result.sent,
        "warnings_per_second": round(result.sent / elapsed, 1) if elapsed and result.sent else None,
        "worst_lateness_seconds": round((ended - earliest).total_seconds(), 3) if earliest else None,
        "result": result,
    }


def _live(runtime: Runtime, clock: ShiftedClock, at: datetime, redis_url: str) -> dict[str, Any]:
    """Run the worker's SLA timer for LIVE_SECONDS of wall clock from `at`; time each warning it sends."""
    clock.set(at)
    # What came due while the backlog sweep ran is sent first, untimed: the timer is measured running, not catching up.
    sla.sweep(runtime)
    sweeps: list[dict[str, Any]] = []

    def measured(rt: Runtime) -> sla.SweepResult:
        timed = _timed_sweep(runtime, clock, None)
        sweeps.append(timed)
        return timed.pop("result")

    stop = threading.Event()
    connection = sla_timer.blocking_connection(redis_url)
    timer = threading.Thread(target=sla_timer.run, args=(runtime, stop, connection), kwargs={"sweep": measured})
    timer.start()
    try:
        with runtime.db.transaction() as session:
            ids = session.scalars(select(Ticket.id).where(Ticket.status.not_in(FINISHED_STATUSES))
                                  .order_by(Ticket.id.desc()).limit(LIVE_NEARER)).all()  # fmt: skip
        for n, ticket_id in enumerate(ids):
            # As a reopen does: a new start and deadline, here with the 6-hour warning due in 1-10 s.
            time.sleep(0.5)  # spread over the run, each while the timer waits for something later
            with runtime.db.transaction() as session:
                ticket = session.get_one(Ticket, ticket_id)
                warn_at = clock.now().replace(microsecond=0) + timedelta(seconds=1 + n)
                ticket.due_at = warn_at + timedelta(hours=6)
                ticket.sla_started_at = ticket.due_at - timedelta(hours=24)
                sla.track(session, ticket)
        remaining = LIVE_SECONDS - (clock.now() - at).total_seconds()
        if remaining > 0:
            stop.wait(remaining)
    finally:
        stop.set()
        sla.wake(runtime)
        timer.join(timeout=60)
        connection.close()
    sent = [s for s in sweeps if s["warnings_sent"]]
    return {
        "seconds": LIVE_SECONDS,
        "sweeps": len(sweeps),
        "warnings_sent": sum(s["warnings_sent"] for s in sent),
        "nearer_warnings_added": len(ids),
        "max_sweep_seconds": max((s["sweep_seconds"] for s in sent), default=0.0),
        "worst_lateness_seconds": max((s["worst_lateness_seconds"] or 0.0 for s in sent), default=None),
        "goal_seconds": LIVE_GOAL_SECONDS,
    }


def _clean_redis(runtime: Runtime) -> None:
    Queue(runtime.config.queue_name, connection=runtime.redis).empty()
    keys = list(runtime.redis.scan_iter(match=f"{runtime.config.key_prefix}*", count=1000))
    keys += list(runtime.redis.scan_iter(match=f"rq:*{runtime.config.queue_name}*", count=1000))
    for start in range(0, len(keys), 1000):
        runtime.redis.delete(*keys[start : start + 1000])


def run_size(size: int, *, backend: str, workdir: Path, redis_url: str, postgres_url: str = "") -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    with dataset.bench_database(backend, workdir=workdir, postgres_url=postgres_url) as db:
        fill_started = time.perf_counter()
        year_be, _ = fiscal_quarter(now.astimezone(BANGKOK).date())
        dataset.fill(db, size, fiscal_year_be=year_be, open_share=1.0, now=now)
        tag = uuid.uuid4().hex[:10]
        config = Config.from_env(
            {
                "DATABASE_URL": db.url,
                "REDIS_URL": redis_url,
                "VAR_DIR": str(workdir / "var"),
                "SECRET_KEY": "bench-secret-key",
                "QUEUE_NAME": f"bench-sla-{tag}",
                "REDIS_KEY_PREFIX": f"bench-sla-{tag}:",
                "STAFF_LINE_GROUP_ID": "Cbench-staff-group",
            },
            load_dotenv=False,
        )
        clock = ShiftedClock()
        runtime = Runtime(config, clock=clock, database=db.database)
        try:
            tick = timedelta(seconds=TICK_SECONDS)
            already_sent = _record_sent_until(runtime, now - tick)
            fill_seconds = time.perf_counter() - fill_started
            clock.set(now - tick)
            started = time.perf_counter()
            rebuilt = sla.rebuild(runtime)
            rebuild_seconds = time.perf_counter() - started
            redis_bytes = sum(
                runtime.redis.memory_usage(key) or 0 for key in (sla.due_key(runtime), sla.next_key(runtime))
            )
            ticks = [_timed_sweep(runtime, clock, now + k * tick) for k in range(STEADY_TICKS)]
            for one in ticks:
                one.pop("result")
            steady = {
                "ticks": STEADY_TICKS,
                "warnings_sent": sum(t["warnings_sent"] for t in ticks),
                "median_sweep_seconds": round(statistics.median(t["sweep_seconds"] for t in ticks), 4),
                "max_sweep_seconds": max(t["sweep_seconds"] for t in ticks),
                "max_warnings_in_one_sweep": max(t["warnings_sent"] for t in ticks),
                "worst_lateness_seconds": max((t["worst_lateness_seconds"] or 0.0) for t in ticks),
            }
            last = now + (STEADY_TICKS - 1) * tick
            idle = _timed_sweep(runtime, clock, last + timedelta(seconds=1))
            idle.pop("result")
            backlog = _timed_sweep(runtime, clock, last + BACKLOG)
            backlog.pop("result")
            # From where the backlog sweep's clock ended: the warnings of the next seconds are still to send.
            live = _live(runtime, clock, clock.now(), redis_url)
            return {
                "backend": backend,
                "open_tickets": rebuilt,
                "notices_already_sent": already_sent,
                "fill_seconds": round(fill_seconds, 2),
                "rebuild_seconds": round(rebuild_seconds, 3),
                "redis_index_bytes": redis_bytes,
                "steady": steady,
                "idle": idle,
                "backlog_1h": {key: value for key, value in backlog.items() if key != "worst_lateness_seconds"},
                "live": live,
            }
        finally:
            _clean_redis(runtime)
            runtime.redis.close()


def run(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    backend: str = "sqlite",
    redis_url: str | None = None,
    postgres_url: str = "",
) -> dict[str, Any]:
    """Measure the sweep for each size; the result is what `__main__` prints as JSON."""
    redis_url = redis_url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    with tempfile.TemporaryDirectory(prefix="sla-bench-") as workdir:
        results = {
            str(size): run_size(size, backend=backend, workdir=Path(workdir), redis_url=redis_url,
                                postgres_url=postgres_url)
            for size in sizes
        }  # fmt: skip
    return {
        "part": "sla",
        "tick_seconds": TICK_SECONDS,
        "goal": f"a warning at most {LIVE_GOAL_SECONDS:.0f} s late while a worker runs (live); sweep cost grows with "
        "warnings due, not open tickets",
        "sizes": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated ticket counts (default 1000,100000)")
    parser.add_argument("--full", action="store_true", help="add 1,000,000 open tickets")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    sizes = (
        [int(part) for part in args.sizes.split(",")]
        if args.sizes
        else list(FULL_SIZES if args.full else DEFAULT_SIZES)
    )
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL") or ""
    if args.backend == "postgresql" and not postgres_url:
        parser.error("--backend postgresql needs BENCH_POSTGRES_URL or TEST_DATABASE_URL")
    json.dump(run(sizes, backend=args.backend, postgres_url=postgres_url), sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
