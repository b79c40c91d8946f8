"""What a process needs to do the clinic's work: config, database, Redis, queue, clock.

The web app and the worker each build one; tests build their own with a frozen clock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import redis
from rq import Queue, Retry
from sqlalchemy.orm import Session

from clinic.clock import Clock
from clinic.config import Config
from clinic.db import Database

log = logging.getLogger(__name__)

# Seconds between tries of a job that failed (RQ retries with the worker's scheduler).
JOB_RETRY = Retry(max=5, interval=[2, 5, 15, 60, 300])


def redis_url(config: Config) -> str:
    """REDIS_URL, or in embedded mode the socket of the server `clinic run` keeps under VAR_DIR."""
    return config.redis_url or f"unix://{config.var_dir / 'redis' / 'redis.sock'}"


class Runtime:
    def __init__(self, config: Config, *, clock: Clock | None = None, database: Database | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.db = database or Database(config.database_url)
        # Services find the runtime through their session (see `runtime_of`), so
        # they take a session and nothing else to reach Redis, the queue or the clock.
        self.db.Session.configure(info={"runtime": self})
        self.redis = redis.Redis.from_url(
            redis_url(config), socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        self.queue = Queue(config.queue_name, connection=self.redis, default_timeout=120)

    def key(self, name: str) -> str:
        """A Redis key in this deployment's namespace."""
        return f"{self.config.key_prefix}{name}"

    def enqueue(self, func: str, *args: Any, job_id: str | None = None, **kwargs: Any) -> bool:
        """Queue a job by dotted name; False if Redis is unreachable.

        Callers store their work in the database first, so a False here only delays
        it until the worker's recovery sweep picks it up.
        """
        try:
            # Through a pipeline: RQ then sends the queue registration and the job in one round trip.
            with self.redis.pipeline() as pipe:
                self.queue.enqueue(
                    func, args=args, kwargs=kwargs or None, job_id=job_id, retry=JOB_RETRY, pipeline=pipe
                )
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not enqueue %s (%s); the recovery sweep will pick it up", func, exc)
            return False
        return True

    def enqueue_each(self, func: str, arg_tuples: Sequence[tuple[Any, ...]]) -> bool:
        """Queue one job per argument tuple in one Redis round trip; False if Redis is unreachable.

        As with `enqueue`, the work is in the database already; a False only delays it.
        """
        if not arg_tuples:
            return True
        jobs = [Queue.prepare_data(func, args=args, retry=JOB_RETRY) for args in arg_tuples]
        try:
            with self.redis.pipeline() as pipe:
                self.queue.enqueue_many(jobs, pipeline=pipe)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not enqueue %d x %s (%s); the recovery sweep will pick them up", len(jobs), func, exc)
            return False
        return True

    def close(self) -> None:
        self.db.dispose()
        self.redis.close()


def runtime_of(session: Session) -> Runtime:
    runtime = session.info.get("runtime")
    if runtime is None:
        raise RuntimeError("this session was not made by a Runtime's database")
    return runtime


_current: Runtime | None = None


def get_runtime() -> Runtime:
    """The process's runtime, built from the environment on first use (worker jobs)."""
    global _current
    if _current is None:
        _current = Runtime(Config.from_env())
    return _current


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    _current = runtime
