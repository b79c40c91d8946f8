"""Group commit of webhook bodies: concurrent requests stored in one transaction, each answered with its own result."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from clinic import inbound
from clinic.db import Database
from clinic.group_commit import GroupCommit, StoreFailed, group_commit_of
from clinic.models import InboundEvent
from clinic.runtime import Runtime
from tests.bot_support import line_body, line_text, post_line

Body = tuple[str, Sequence[inbound.EventRow]]


def _together(group: GroupCommit, bodies: list[Body]) -> list[list[int] | BaseException]:
    """Submit the bodies from one thread each, all announced first, so they make one batch."""
    results: list[list[int] | BaseException] = [[] for _ in bodies]
    with ExitStack() as stack:
        announcements = [stack.enter_context(group.announce()) for _ in bodies]

        def run(index: int) -> None:
            channel, events = bodies[index]
            try:
                results[index] = announcements[index].submit(channel, events)
            except StoreFailed as exc:
                results[index] = exc

        threads = [threading.Thread(target=run, args=(index,)) for index in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
    return results


def _commits(database: Database) -> list[int]:
    counted: list[int] = []
    event.listen(database.engine, "commit", lambda _connection: counted.append(1))
    return counted


def _stored(runtime: Runtime) -> dict[str, int]:
    with runtime.db.Session() as session:
        return {row.event_key: row.id for row in session.scalars(select(InboundEvent))}


def _queued(runtime: Runtime) -> list[int]:
    jobs = [runtime.queue.fetch_job(job_id) for job_id in runtime.queue.job_ids]
    return sorted(job.args[0] for job in jobs if job is not None and job.func_name == inbound.PROCESS_JOB)


def test_two_threads_bodies_commit_in_one_transaction(runtime: Runtime) -> None:
    group = GroupCommit(runtime, max_wait=10.0)  # generous: the batch closes when both have submitted
    commits = _commits(runtime.db)
    first = ("line", [("a1", "message", {"n": 1}), ("a2", "message", {"n": 2})])
    second = ("messenger", [("b1", "message", {"n": 3})])

    results = _together(group, [first, second])

    assert len(commits) == 1  # one transaction for both requests
    stored = _stored(runtime)
    assert results == [sorted([stored["a1"], stored["a2"]]), [stored["b1"]]]
    assert _queued(runtime) == sorted(stored.values())  # one job per new event, after the commit


def test_dedupe_is_exact_within_and_across_batches(runtime: Runtime) -> None:
    group = GroupCommit(runtime, max_wait=10.0)
    group.submit("line", [("k1", "message", {})])
    # A redelivery of k1, and k2 sent twice in the same batch (a platform retry racing its twin).
    results = _together(
        group, [("line", [("k1", "message", {}), ("k2", "message", {})]), ("line", [("k2", "message", {})])]
    )
    stored = _stored(runtime)
    assert sorted(stored) == ["k1", "k2"]
    new = [ids for ids in results if isinstance(ids, list)]
    assert sorted(event_id for ids in new for event_id in ids) == [stored["k2"]]  # k2 is new once, k1 not at all
    assert _queued(runtime) == sorted(stored.values())


def test_one_bad_body_does_not_fail_the_others(runtime: Runtime) -> None:
    group = GroupCommit(runtime, max_wait=10.0)
    unstorable: dict[str, Any] = {"not json": {1, 2}}  # the payload column refuses it when the batch is bound
    results = _together(group, [("line", [("good", "message", {})]), ("line", [("bad", "message", unstorable)])])

    stored = _stored(runtime)
    assert results[0] == [stored["good"]]
    assert isinstance(results[1], StoreFailed)
    assert sorted(stored) == ["good"]
    assert _queued(runtime) == [stored["good"]]


def test_database_down_fails_the_whole_batch_and_queues_nothing(runtime: Runtime, tmp_path: Path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'no-such-directory' / 'clinic.db'}")
    down = Runtime(runtime.config, clock=runtime.clock, database=broken)
    try:
        group = GroupCommit(down, max_wait=10.0)
        results = _together(group, [("line", [("x1", "message", {})]), ("line", [("x2", "message", {})])])
        assert all(isinstance(result, StoreFailed) for result in results)
        assert runtime.queue.count == 0
    finally:
        down.close()


def test_a_malformed_body_is_refused_before_it_joins_a_batch(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    group = group_commit_of(runtime)
    commits = _commits(runtime.db)
    assert post_line(client, b"{not json").status_code == 400
    assert post_line(client, b'{"events": "nope"}').status_code == 400
    assert post_line(client, line_body(line_text("hello"))).status_code == 200
    assert group._announced == 0  # the refused requests withdrew; no leader waits for them
    assert len(commits) == 1  # only the valid body was stored
    assert len(_stored(runtime)) == 1


@pytest.mark.parametrize("bodies", [70])
def test_a_batch_larger_than_max_batch_is_split(runtime: Runtime, bodies: int) -> None:
    group = GroupCommit(runtime, max_wait=10.0, max_batch=16)
    results = _together(group, [("line", [(f"m{index}", "message", {})]) for index in range(bodies)])
    stored = _stored(runtime)
    assert len(stored) == bodies
    assert sorted(event_id for ids in results if isinstance(ids, list) for event_id in ids) == sorted(stored.values())
