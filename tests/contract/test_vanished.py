"""The vanished outcome, on every backend: a job whose source was gone when it ran.

Not a failure: counted apart (in the counters, per batch and job by job),
never listed among failures, queued again by a submit or a named retry once
the file is back. Both backends here run on this machine, the one that
queued the jobs, so the store believes the worker (the other-host case is
tests/e2e/test_redis_errors.py).
"""

from __future__ import annotations

from pathlib import Path

from store_helpers import OWNER, claim, new_jobs, options, tokens, true_counts

from thumbgen.jobqueue.contract import Counts, Outcome, State
from thumbgen.jobqueue.huey_app import Queue

REASON = "Source file not found: /src/img0.jpg (moved or deleted?)"


def test_a_vanished_job_is_counted_apart_and_is_not_a_failure(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    job = claim(store)
    store.vanish(job.id, OWNER, REASON)
    assert store.counts() == Counts(queued=2, vanished=1)
    assert true_counts(store) == store.counts()
    assert store.batch_counts("b") == Counts(queued=2, vanished=1)
    assert store.failures() == []
    assert store.batch_failures("b") == []
    (record,) = store.jobs(State.VANISHED)
    assert (record.id, record.error) == (job.id, REASON)
    assert record.finished_at is not None
    detail = store.job(job.id)
    assert detail is not None
    assert [(a.outcome, a.error) for a in detail.attempts] == [(Outcome.VANISHED, REASON)]


def test_only_the_owner_of_a_running_job_can_call_it_vanished(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    job = claim(store)
    store.vanish(job.id, "someone-else", REASON)
    assert store.counts() == Counts(running=1)
    store.finish(job.id, OWNER, [], 1, 1)
    store.vanish(job.id, OWNER, REASON)  # late: the job is done
    assert store.counts() == Counts(done=1)


def test_a_vanished_source_that_is_back_is_queued_again_by_submit(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(1), opts, batch="b")
    store.vanish(claim(store).id, OWNER, REASON)
    again = store.submit(new_jobs(1), opts, batch="b2")
    assert again.queued == 1
    assert again.failed_before == []
    assert store.counts() == Counts(queued=1)
    assert tokens(queue) >= 1  # the claim spent none: a spare token is harmless


def test_retry_brings_back_a_vanished_job_only_when_named(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(2), options(tmp_path), batch="b")
    first = claim(store)
    store.vanish(first.id, OWNER, REASON)
    store.fail(claim(store).id, OWNER, "Corrupt image: /src/img1.jpg")
    assert store.retry() == 1  # nothing named: failures only
    assert store.counts() == Counts(queued=1, vanished=1)
    assert store.retry(ids=[first.id]) == 1
    assert store.counts() == Counts(queued=2)
    assert true_counts(store) == store.counts()
    assert tokens(queue) >= 2
    (record,) = [r for r in store.jobs() if r.id == first.id]
    assert (record.state, record.attempts, record.error) == (State.QUEUED, 0, None)


def test_cancel_as_vanished_takes_queued_jobs_of_a_source(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    running = claim(store)  # /src/img0.jpg stays running
    n = store.cancel(sources=["/src/img0.jpg", "/src/img1.jpg"], vanished=True)
    assert n == 1
    assert store.counts() == Counts(queued=1, running=1, vanished=1)
    assert true_counts(store) == store.counts()
    assert store.jobs(State.CANCELLED) == []
    assert tokens(queue) == 1  # the vanished job's token went with it
    store.finish(running.id, OWNER, [], 1, 1)


def test_clear_forgets_vanished_jobs(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(2), options(tmp_path), batch="b")
    store.vanish(claim(store).id, OWNER, REASON)
    assert store.clear([State.VANISHED]) == 1
    assert store.counts() == Counts(queued=1)
    assert true_counts(store) == store.counts()
