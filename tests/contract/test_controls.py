"""The steering contract, on every backend: pause and resume, cancel, retry, clear.

Through the ``JobStore`` protocol and Huey's public API only, like test_store.py.
"""

from __future__ import annotations

import time
from pathlib import Path

from store_helpers import OWNER, claim, new_jobs, options, run_by_tokens, tokens, true_counts

from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import Counts, State
from thumbgen.jobqueue.huey_app import Queue

# -- pause and resume ---------------------------------------------------------------


def test_pause_is_kept_in_the_queue_for_every_connection(queue: Queue, backend: str) -> None:
    assert queue.store.paused() is False
    queue.store.pause()
    other = open_queue(backend)  # another process, another machine: the same answer
    try:
        assert other.store.paused() is True
        other.store.resume()
        assert queue.store.paused() is False
    finally:
        other.close()


def test_while_paused_nothing_is_claimed_and_running_jobs_finish(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    running = claim(store)
    store.pause()
    assert store.claim(OWNER) is None
    store.finish(running.id, OWNER, [], 1, 1)  # a job running at the pause ends as usual
    assert store.counts() == Counts(queued=2, done=1)
    store.resume()
    assert store.claim(OWNER) is not None


def test_no_token_is_lost_to_a_pause(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(2, prefix="before"), opts, batch="b1")
    assert queue.huey.dequeue() is not None  # a worker holds a token...
    store.pause()
    store.submit(new_jobs(3, prefix="during"), opts, batch="b2")
    assert store.claim(OWNER) is None  # ...and spends it on a paused queue
    assert store.top_up() == 0  # paused: tokens would only wake workers for nothing
    store.resume()
    assert len(run_by_tokens(queue)) == 5
    assert store.counts() == Counts(done=5)


def test_a_paused_queue_holds_no_tokens_to_run_now(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(new_jobs(4), options(tmp_path), batch="b")
    queue.store.pause()
    queue.store.submit(new_jobs(2, prefix="more"), options(tmp_path), batch="b2")
    assert queue.huey.pending_count() == 0
    queue.store.resume()
    assert queue.huey.pending_count() == 6
    queue.store.resume()  # resuming twice makes no extra tokens
    assert tokens(queue) == 6


# -- cancel -------------------------------------------------------------------------


def test_cancel_takes_queued_jobs_by_id_and_by_source(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(5), options(tmp_path), batch="b")
    running = claim(store)  # /src/img0.jpg
    records = store.jobs(State.QUEUED)
    # A running job is not cancelled; a job named twice counts once.
    n = store.cancel(ids=[running.id, records[0].id], sources=[records[0].source, "/src/img2.jpg"])
    assert n == 2
    assert store.counts() == Counts(queued=2, running=1, cancelled=2)
    assert store.counts() == true_counts(store)
    assert [j.source for j in store.jobs(State.CANCELLED)] == ["/src/img1.jpg", "/src/img2.jpg"]
    (cancelled, _) = store.jobs(State.CANCELLED)
    assert cancelled.finished_at is not None
    assert store.claim(OWNER) is not None
    assert store.claim(OWNER) is not None
    assert store.claim(OWNER) is None  # the cancelled ones are never claimed


def test_cancel_with_no_names_cancels_every_queued_job(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(4), options(tmp_path), batch="b")
    claim(store)
    assert store.cancel(ids=[], sources=[]) == 0  # names given, none matching
    assert store.cancel() == 3
    assert store.counts() == Counts(running=1, cancelled=3)
    assert run_by_tokens(queue) == []
    assert store.counts().cancelled == 3


def test_cancel_drops_the_tokens_it_leaves_spare(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(new_jobs(6), options(tmp_path), batch="b")
    assert queue.store.cancel(sources=["/src/img0.jpg", "/src/img1.jpg"]) == 2
    assert queue.huey.pending_count() == 4  # one per job still queued
    assert len(run_by_tokens(queue)) == 4


def test_a_cancelled_source_is_queued_again_by_the_next_submit(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(2), opts, batch="b")
    store.cancel()
    again = store.submit(new_jobs(2), opts, batch="b2")
    assert (again.queued, again.failed_before) == (2, [])
    assert store.counts() == Counts(queued=2)


# -- retry --------------------------------------------------------------------------


def _two_failed_one_cancelled(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    for _ in range(2):
        job = claim(store)
        store.fail(job.id, OWNER, f"Corrupt image: {job.source}")
    assert store.cancel() == 1  # /src/img2.jpg


def test_retry_with_no_names_queues_every_failure_but_not_the_cancelled(
    queue: Queue, tmp_path: Path
) -> None:
    _two_failed_one_cancelled(queue, tmp_path)
    before = tokens(queue)
    assert queue.store.retry() == 2
    assert queue.store.counts() == Counts(queued=2, cancelled=1)
    assert tokens(queue) == before + 2
    (record, _) = queue.store.jobs(State.QUEUED)
    assert (record.attempts, record.error, record.finished_at) == (0, None, None)


def test_retry_by_id_or_source_takes_failed_and_cancelled_jobs(
    queue: Queue, tmp_path: Path
) -> None:
    _two_failed_one_cancelled(queue, tmp_path)
    store = queue.store
    failed = store.jobs(State.FAILED)[0]
    assert store.retry(ids=[failed.id], sources=["/src/img2.jpg", "/src/nothing.jpg"]) == 2
    assert store.counts() == Counts(queued=2, failed=1)
    assert store.retry(ids=[failed.id]) == 0  # queued now: nothing to retry
    assert store.retry_failed() == 1
    assert store.counts() == Counts(queued=3)
    assert store.counts() == true_counts(store)


# -- clear --------------------------------------------------------------------------


def test_clear_older_than_keeps_what_finished_recently(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    old = claim(store)
    store.finish(old.id, OWNER, [], 1, 1)
    time.sleep(0.2)
    new = claim(store)
    store.finish(new.id, OWNER, [], 1, 1)
    first, second = (j.finished_at or 0.0 for j in store.jobs(State.DONE))
    # An age that falls between the two (with 0.1 s to spare for the clock moving on).
    assert store.clear([State.DONE], older_than=time.time() - (first + second) / 2) == 1
    assert [j.id for j in store.jobs(State.DONE)] == [new.id]
    # Queued jobs never finished: no age makes them old enough.
    assert store.clear([State.QUEUED], older_than=0) == 0
    assert store.clear([State.DONE, State.QUEUED]) == 2
    assert store.counts() == Counts()


def test_clear_takes_cancelled_jobs_and_their_history(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(2), options(tmp_path), batch="b")
    job = claim(store)
    store.release(job.id, OWNER)
    store.cancel()
    assert store.clear([State.CANCELLED]) == 2
    assert store.job(job.id) is None
    assert store.counts() == Counts()


def test_clearing_queued_jobs_drops_their_tokens(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(new_jobs(3), options(tmp_path), batch="b")
    assert queue.store.clear([State.QUEUED]) == 3
    assert queue.huey.pending_count() == 0
    assert queue.store.clear([]) == 0


def test_counters_match_the_rows_through_every_control(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(8), options(tmp_path), batch="b")
    jobs = [claim(store) for _ in range(3)]
    store.fail(jobs[0].id, OWNER, "bad")
    store.finish(jobs[1].id, OWNER, [], 1, 1)
    store.pause()
    store.cancel(sources=["/src/img5.jpg", "/src/img6.jpg"])
    store.resume()
    store.retry(sources=["/src/img0.jpg", "/src/img5.jpg"])
    store.clear([State.DONE, State.CANCELLED])
    assert store.counts() == true_counts(store)
    assert store.counts() == Counts(queued=5, running=1)


def test_job_ids_are_never_given_twice_even_after_clearing_everything(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    first = sorted(j.id for j in store.jobs())
    assert store.clear(list(State)) == 3
    store.submit(new_jobs(2, prefix="again"), options(tmp_path), batch="c")
    second = sorted(j.id for j in store.jobs())
    assert min(second) > max(first)
    # Clearing the newest only, the next id still passes it.
    store.cancel(ids=[second[-1]])
    assert store.clear([State.CANCELLED]) == 1
    store.submit(new_jobs(1, prefix="third"), options(tmp_path), batch="d")
    assert max(j.id for j in store.jobs()) > second[-1]
