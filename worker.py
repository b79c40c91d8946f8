"""The RQ worker, with RQ's scheduler, the clock tick that drives the sweeps, and the SLA timer.

Run: `python -m worker` (or `clinic worker`). On start it rebuilds the SLA queue from
the database, so a flushed or replaced Redis loses no deadline, and (in the background)
adds to the search index any ticket that has none (tickets older than the index).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Any

import redis
from rq import SimpleWorker

from clinic import log_format, sla, sla_timer, thai_text, ticket_index
from clinic.config import Config, ConfigError
from clinic.launcher import check_redis
from clinic.runtime import Runtime, redis_url, set_runtime
from clinic.tasks import TICK_JOB, TICK_SECONDS, schedule_tick

log = logging.getLogger("clinic.worker")


def _tick_loop(runtime: Runtime, stop: threading.Event) -> None:
    """Queue the tick every few seconds; the tick job itself runs in the worker."""
    while not stop.is_set():
        try:
            schedule_tick(runtime)
        except redis.RedisError as exc:
            log.warning("tick not queued (%s); retrying", exc)
        stop.wait(TICK_SECONDS)


# Jobs the worker runs for itself, not for a person: their start and finish tell nobody anything.
ROUTINE_JOBS = (TICK_JOB, "clinic.tasks.refresh_knowledge")
# RQ's closing lines of every job; a failed job is logged at WARNING or above instead.
_DONE_LINES = ("Successfully completed", "result is kept for", "Result discarded", ": Job OK (")


class RoutineJobFilter(logging.Filter):
    """Drops RQ's INFO lines about routine jobs (the 15 s tick, the knowledge base's refresh) and the
    closing lines of every job: a person reading the log needs which job started, and what failed.

    Other jobs (sending a reply, fetching a file) keep their start line, and any job that fails
    still logs at WARNING or above.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        text = record.getMessage()
        if any(line in text for line in _DONE_LINES):
            return False
        return not any(job in text for job in ROUTINE_JOBS) and "-tick-" not in text


def quiet_rq_logs() -> None:
    for name in ("rq.worker", "rq.scheduler", "rq.queue", "rq.job"):
        logging.getLogger(name).addFilter(RoutineJobFilter())


def _index_missing_tickets(runtime: Runtime) -> None:
    """Load the Thai dictionary before the first ticket needs it, then index tickets that have no document."""
    try:
        thai_text.segmented("หนังสือภายนอก")  # a compound: loads both dictionaries (seconds, once)
        with runtime.db.transaction() as session:
            missing = ticket_index.missing(session)
        if missing:
            log.info("search index: indexing %d tickets that have no document", missing)
            log.info("search index: %d tickets indexed", ticket_index.rebuild(runtime.db, only_missing=True))
    except Exception:  # noqa: BLE001 - the index can be rebuilt by hand; the worker must keep serving
        log.exception("search index: indexing the missing tickets failed; run `clinic search rebuild`")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_rq_logs()
    try:
        config = Config.from_env()
        check_redis(redis_url(config))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    log_format.configure(config.log_format)
    runtime = Runtime(config)
    set_runtime(runtime)
    rebuilt = sla.rebuild(runtime)
    log.info("SLA queue rebuilt from the database: %d open tickets", rebuilt)
    # Articles seeded or changed while no worker ran get their embeddings now, in batches.
    runtime.enqueue("clinic.tasks.refresh_knowledge")

    threading.Thread(target=_index_missing_tickets, args=(runtime,), name="clinic-index", daemon=True).start()
    stop = threading.Event()
    threading.Thread(target=_tick_loop, args=(runtime, stop), name="clinic-tick", daemon=True).start()
    # Warnings go out at their due second, not at the next 15 s tick (docs/sla.md).
    threading.Thread(
        target=sla_timer.run,
        args=(runtime, stop, sla_timer.blocking_connection(redis_url(config))),
        name="clinic-sla-timer",
        daemon=True,
    ).start()
    # SimpleWorker runs jobs in this process: our jobs are short database work, and
    # forking a horse per job would dominate their cost.
    # The worker gets a connection of its own: RQ blocks on BLPOP for minutes and raises the
    # socket timeout for that, but only on connections not yet opened; the runtime's pooled
    # connection (5 s, opened by the rebuild above) made the worker quit after 5 idle seconds.
    connection = redis.Redis.from_url(redis_url(config), socket_connect_timeout=2, health_check_interval=30)
    try:
        while True:
            worker = ClinicWorker([runtime.queue], connection=connection)
            try:
                worker.work(with_scheduler=True, logging_level="INFO")
            except redis.RedisError as exc:
                log.warning("the RQ worker lost Redis (%s)", exc)  # raised by its teardown
            if worker.stop_requested:
                break
            # RQ ends its loop when Redis goes away mid-job; a Redis restart must not end the
            # worker (and with it `clinic run`), so wait for Redis and serve again.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # RQ's handlers outlive work()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            log.warning("the RQ worker stopped without being asked to; starting a new one once Redis answers")
            _wait_for_redis(connection)
            log.info("SLA queue rebuilt after the restart: %d open tickets", sla.rebuild(runtime))
    finally:
        stop.set()
    return 0


class ClinicWorker(SimpleWorker):
    """SimpleWorker that remembers a stop request (SIGTERM, Ctrl-C), to tell it from a lost Redis."""

    stop_requested = False

    def perform_job(self, job: Any, queue: Any) -> bool:
        """Run a job with its id as the log lines' request_id (LOG_FORMAT=json)."""
        token = log_format.request_id.set(job.id)
        try:
            return bool(super().perform_job(job, queue))
        finally:
            log_format.request_id.reset(token)

    def request_stop(self, signum: int, frame: object) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)


def _wait_for_redis(connection: redis.Redis) -> None:
    delay = 0.5
    while True:
        time.sleep(delay)
        try:
            connection.ping()
            return
        except (redis.RedisError, OSError):
            delay = min(delay * 2, 10.0)


if __name__ == "__main__":
    sys.exit(main())
