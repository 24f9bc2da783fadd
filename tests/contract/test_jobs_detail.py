"""One job and its history, priorities, dry runs and whose fault a failure was, on every backend.

Through the ``JobStore`` protocol and Huey's public API only, like test_store.py.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from store_helpers import OWNER, claim, new_jobs, options, run_by_tokens, tokens

from thumbgen.jobqueue import liveness
from thumbgen.jobqueue.contract import HISTORY_LIMIT, Counts, NewJob, Outcome, State, WorkerInfo
from thumbgen.jobqueue.huey_app import Queue

# -- job(): one job with its attempts -----------------------------------------------


def _register(queue: Queue, worker_id: str, host: str, pid: int, started: str | None) -> None:
    now = time.time()
    queue.store.register_worker(WorkerInfo(worker_id, host, pid, started, now, now, 0, None))


def test_job_shows_every_attempt_with_worker_host_and_outcome(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    opts = options(tmp_path)
    _register(queue, OWNER, "host-a", os.getpid(), liveness.start_time(os.getpid()))
    store.submit(new_jobs(1), opts, batch="b", priority=3)
    job = claim(store)
    store.retry_later(job.id, OWNER, "Cannot read: I/O error", delay=0)
    store.release(claim(store).id, OWNER)
    claim(store)
    running = store.job(job.id)
    assert running is not None
    assert running.attempts[-1].outcome is None  # the third try is still running
    assert running.attempts[-1].ended_at is None
    store.finish(job.id, OWNER, ["/out/img0_64.jpg"], 100, 1)

    detail = store.job(job.id)
    assert detail is not None
    assert (detail.job.id, detail.job.state, detail.job.priority) == (job.id, State.DONE, 3)
    assert detail.job.outputs == ("/out/img0_64.jpg",)
    assert detail.job.attempts == 2  # the released try does not count
    assert detail.options == opts
    assert [(a.number, a.outcome, a.error) for a in detail.attempts] == [
        (1, Outcome.RETRY, "Cannot read: I/O error"),
        (2, Outcome.RELEASED, None),
        (3, Outcome.DONE, None),
    ]
    for attempt in detail.attempts:
        assert (attempt.worker, attempt.host) == (OWNER, "host-a")
        assert attempt.ended_at is not None
        assert attempt.started_at <= attempt.ended_at


def test_a_failed_try_and_a_dead_workers_try_are_in_the_history(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    # A worker on another host whose heartbeat stopped long ago.
    _register(queue, "gone", "other-host", 1, "1")
    store.heartbeat("gone", 0.0)
    job = claim(store, "gone")
    assert store.recover(time.time()) == 1
    store.fail(claim(store).id, OWNER, "Corrupt image: /src/img0.jpg")
    detail = store.job(job.id)
    assert detail is not None
    assert [(a.worker, a.host, a.outcome) for a in detail.attempts] == [
        ("gone", "other-host", Outcome.REQUEUED),
        (OWNER, "", Outcome.FAILED),  # OWNER never registered: no host known
    ]
    assert detail.attempts[1].error == "Corrupt image: /src/img0.jpg"


def test_job_keeps_the_newest_tries_and_numbers_on(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    tries = HISTORY_LIMIT + 3
    for _ in range(tries - 1):
        store.release(claim(store).id, OWNER)
    job = claim(store)
    store.finish(job.id, OWNER, [], 100, 1)
    detail = store.job(job.id)
    assert detail is not None
    numbers = [a.number for a in detail.attempts]
    assert numbers == list(range(tries - HISTORY_LIMIT + 1, tries + 1))
    assert [a.outcome for a in detail.attempts][-2:] == [Outcome.RELEASED, Outcome.DONE]


def test_job_by_source_finds_its_most_recently_queued_job(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(2), options(tmp_path, "64"), batch="b1")
    store.submit(new_jobs(1), options(tmp_path, "128"), batch="b2")
    detail = store.job("/src/img0.jpg")
    assert detail is not None
    assert detail.options == options(tmp_path, "128")
    assert detail.attempts == ()
    assert store.job("/src/absent.jpg") is None
    assert store.job(10_000) is None


def test_a_stale_owner_cannot_close_the_new_attempt(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    first = claim(store, "stale")
    assert store.recover(time.time()) == 1  # "stale" never registered: counted as dead
    claim(store, "new")
    store.fail(first.id, "stale", "late news from a worker presumed dead")
    detail = store.job(first.id)
    assert detail is not None
    assert detail.job.state == State.RUNNING
    assert [(a.worker, a.outcome) for a in detail.attempts] == [
        ("stale", Outcome.REQUEUED),
        ("new", None),
    ]


# -- priorities ---------------------------------------------------------------------


def test_claim_takes_the_highest_priority_first_then_the_oldest(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(2, prefix="low"), opts, batch="b1")
    store.submit(new_jobs(2, prefix="high"), opts, batch="b2", priority=10)
    store.submit(new_jobs(1, prefix="neg"), opts, batch="b3", priority=-1)
    store.submit(new_jobs(1, prefix="mid"), opts, batch="b4", priority=5)
    order = [claim(store).source for _ in range(6)]
    assert order == [
        "/src/high0.jpg",
        "/src/high1.jpg",
        "/src/mid0.jpg",
        "/src/low0.jpg",
        "/src/low1.jpg",
        "/src/neg0.jpg",
    ]
    assert [r.priority for r in store.jobs()] == [0, 0, 10, 10, -1, 5]


def test_a_high_priority_job_waiting_for_its_retry_lets_others_run(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(1, prefix="high"), opts, batch="b1", priority=10)
    store.submit(new_jobs(1, prefix="low"), opts, batch="b2")
    job = claim(store)
    store.retry_later(job.id, OWNER, "busy", delay=60)
    assert claim(store).source == "/src/low0.jpg"


def test_a_requeued_job_takes_the_new_priority_a_pending_one_keeps_its_own(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(2), opts, batch="b1", priority=1)
    job = claim(store)
    store.finish(job.id, OWNER, [], 100, 1)
    store.submit(new_jobs(2, size=200), opts, batch="b2", priority=7)  # img0 changed
    assert {r.source: r.priority for r in store.jobs()} == {
        "/src/img0.jpg": 7,
        "/src/img1.jpg": 1,
    }


# -- dry runs -----------------------------------------------------------------------


def test_a_dry_run_decides_everything_and_writes_nothing(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(2), opts, batch="b1")
    job = claim(store)
    store.fail(job.id, OWNER, "Corrupt image: /src/img0.jpg")
    before = (store.jobs(), store.counts(), tokens(queue))

    result = store.submit(new_jobs(4), opts, batch="dry", dry_run=True, priority=9)
    assert result.would_queue == ["/src/img2.jpg", "/src/img3.jpg"]
    assert result.queued == 0
    assert result.failed_before == [("/src/img0.jpg", "Corrupt image: /src/img0.jpg")]
    assert len(result.pending_ids) == 1
    assert (store.jobs(), store.counts(), tokens(queue)) == before
    assert store.batch_counts("dry") == Counts()
    # A real submit leaves would_queue empty: listing sources costs time.
    assert store.submit(new_jobs(4), opts, batch="b2").would_queue == []


def test_a_dry_run_on_an_empty_queue_lists_every_source(queue: Queue, tmp_path: Path) -> None:
    result = queue.store.submit(new_jobs(3), options(tmp_path), batch="dry", dry_run=True)
    assert result.would_queue == [f"/src/img{i}.jpg" for i in range(3)]
    assert queue.store.counts() == Counts()


# -- whose fault a failure was ------------------------------------------------------


@pytest.mark.parametrize(
    ("source_fault", "queued_again"), [(True, False), (False, True)], ids=["source", "output"]
)
def test_only_failures_that_were_the_sources_fault_are_failed_before(
    queue: Queue, tmp_path: Path, source_fault: bool, queued_again: bool
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(1), opts, batch="b1")
    job = claim(store)
    store.fail(job.id, OWNER, "Cannot write /out/img0_64.jpg", source_fault=source_fault)
    assert store.counts() == Counts(failed=1)
    again = store.submit(new_jobs(1), opts, batch="b2")
    assert again.queued == int(queued_again)
    assert len(again.failed_before) == int(not queued_again)
    if queued_again:
        # Queued afresh: a later failure of the source's own is held against it.
        store.fail(claim(store).id, OWNER, "Corrupt image: /src/img0.jpg")
        assert store.submit(new_jobs(1), opts, batch="b3").failed_before == [
            ("/src/img0.jpg", "Corrupt image: /src/img0.jpg")
        ]


def test_run_by_tokens_sees_one_token_per_queued_job(queue: Queue, tmp_path: Path) -> None:
    jobs = [NewJob(f"/src/{i}.jpg", "", 1, 1, f"/out/{i}") for i in range(3)]
    queue.store.submit(jobs, options(tmp_path), batch="b")
    assert sorted(run_by_tokens(queue)) == [j.source for j in jobs]
