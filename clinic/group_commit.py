"""Group commit of webhook bodies: the durable work of many concurrent requests done once.

A webhook may answer 200 only once its events are committed. Done one request at a time,
that is one INSERT, one commit (a WAL flush) and one Redis round trip per request, and a
bare route doing only that was faster than the product. Here the request threads of a
process hand their bodies to whichever of them is the leader at the moment; the leader stores every body waiting in one
INSERT ... ON CONFLICT DO NOTHING and one transaction, queues all their jobs in one Redis
pipeline, and then releases each waiting request with its own result. Requests that arrive
while a batch is being committed form the next one, so under load batches grow by
themselves. Two batches may be in flight per process (one commits while the next forms and
its requests check their signatures). A leader may also wait a little (`max_wait`,
INTAKE_GROUP_WAIT_MS, default 0) for bodies other threads have announced and are still
verifying, never when it is alone.

- A 200 still means committed: `submit` returns only after the batch's commit.
- Dedupe stays exact: a key already stored, or twice in one batch, is new once.
- Database down: the whole batch fails and nobody's job is queued (each request answers 503).
  A batch that fails for another reason (one body's row the database refuses) is retried
  body by body, so one bad body fails only its own request.
- Redis down: the rows are committed and the requests answered; the recovery sweep queues them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from clinic import inbound
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 0.0  # the longest a leader waits for announced bodies (INTAKE_GROUP_WAIT_MS)
MAX_BATCH = 64  # bodies per transaction; more wait for the next one
MAX_LEADERS = 2  # batches in flight per process: one forms (and checks signatures) while one commits


class StoreFailed(Exception):
    """The body's events were not committed (the database refused or was unreachable)."""


@dataclass(eq=False)
class _Body:
    channel: str
    events: Sequence[inbound.EventRow]
    done: bool = False
    new_ids: list[int] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommit:
    """One per process and runtime: `announce()` when a webhook starts, `submit` when its body is valid."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        max_wait: float = MAX_WAIT_SECONDS,
        max_batch: int = MAX_BATCH,
        max_leaders: int = MAX_LEADERS,
    ) -> None:
        self.runtime = runtime
        self.max_wait = max_wait
        self.max_batch = max_batch
        self.max_leaders = max_leaders
        self._cond = threading.Condition()
        self._pending: list[_Body] = []
        self._announced = 0  # requests that said they will submit and have not yet submitted or withdrawn
        self._leaders = 0  # batches being formed or committed now

    @contextmanager
    def announce(self) -> Iterator[Announcement]:
        """Tell a leader a body is coming (it is being verified), so the leader may wait for it."""
        with self._cond:
            self._announced += 1
        announcement = Announcement(self)
        try:
            yield announcement
        finally:
            if not announcement.submitted:
                with self._cond:
                    self._announced -= 1
                    self._cond.notify_all()

    def submit(self, channel: str, events: Sequence[inbound.EventRow], *, announced: bool = False) -> list[int]:
        """Store one body's events, committed with whatever else is waiting; the ids of its new events.

        Raises StoreFailed if they were not committed. Jobs for the new ids are queued by then
        (or left to the recovery sweep if Redis is down).
        """
        body = _Body(channel, events)
        with self._cond:
            if announced:
                self._announced -= 1
            self._pending.append(body)
            self._cond.notify_all()
        while True:
            with self._cond:
                while (self._leaders >= self.max_leaders or body not in self._pending) and not body.done:
                    self._cond.wait()
                if body.done:
                    return self._result(body)
                self._leaders += 1
                # Wait briefly for bodies other threads announced, but not when nobody else is coming.
                deadline = time.monotonic() + self.max_wait
                while self._announced > 0 and len(self._pending) < self.max_batch and body in self._pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                if not batch:  # another leader took ours while we waited: it answers us
                    self._leaders -= 1
                    self._cond.notify_all()
                    continue
            try:
                self._commit(batch)
            except BaseException as exc:  # not expected (_commit answers every body); never a false 200
                for item in batch:
                    item.error = item.error or exc
                raise
            finally:
                with self._cond:
                    for item in batch:
                        item.done = True
                    self._leaders -= 1
                    self._cond.notify_all()  # the finished return; one of the rest leads the next batch
            # Our body is done unless the batch was cut at max_batch before it: then lead again.

    @staticmethod
    def _result(body: _Body) -> list[int]:
        if body.error is not None:
            raise StoreFailed(str(body.error)) from body.error
        return body.new_ids

    def _commit(self, batch: list[_Body]) -> None:
        runtime = self.runtime
        try:
            self._store(batch)
        except Exception as exc:  # noqa: BLE001 - whatever it is, every waiting request gets an answer
            if _unreachable(exc) or len(batch) == 1:
                # The database is unreachable (or locked): nobody in the batch is stored or queued.
                for item in batch:
                    item.error = exc
                return
            self._store_one_by_one(batch)
        new_ids = [(event_id,) for item in batch if item.error is None for event_id in item.new_ids]
        # Committed: only now may a worker see the ids. All of them in one Redis round trip; if
        # Redis is down they stay pending and the recovery sweep queues them.
        try:
            runtime.enqueue_each(inbound.PROCESS_JOB, new_ids)
        except Exception:  # noqa: BLE001 - committed is committed: the recovery sweep queues them
            log.exception("jobs of %d stored webhook events not queued", len(new_ids))

    def _store(self, batch: list[_Body]) -> None:
        runtime = self.runtime
        with runtime.db.engine.begin() as connection:
            results = inbound.store_batch(
                connection, [(item.channel, item.events) for item in batch], now=runtime.clock.now()
            )
        for item, ids in zip(batch, results, strict=True):
            item.new_ids = ids

    def _store_one_by_one(self, batch: list[_Body]) -> None:
        """After a batch the database refused for a reason of its own rows: each body alone."""
        log.warning("a batch of %d webhook bodies was refused; storing them one by one", len(batch))
        for item in batch:
            try:
                self._store([item])
            except Exception as exc:  # noqa: BLE001 - this body's own failure, answered to it alone
                item.error = exc


def _unreachable(exc: Exception) -> bool:
    """The database, not a row, is the problem: retrying body by body would only fail again, slower."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class Announcement:
    """A webhook request that will submit a body once it is verified."""

    def __init__(self, group: GroupCommit) -> None:
        self.group = group
        self.submitted = False

    def submit(self, channel: str, events: Sequence[inbound.EventRow]) -> list[int]:
        self.submitted = True
        return self.group.submit(channel, events, announced=True)


_lock = threading.Lock()


def group_commit_of(runtime: Runtime) -> GroupCommit:
    """The runtime's group commit, made on first use (in each gunicorn worker, after the fork)."""
    group = getattr(runtime, "_group_commit", None)
    if group is None:
        with _lock:
            group = getattr(runtime, "_group_commit", None)
            if group is None:
                group = GroupCommit(runtime, max_wait=runtime.config.intake_group_wait_ms / 1000)
                runtime._group_commit = group  # type: ignore[attr-defined]
    return group
