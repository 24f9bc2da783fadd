"""The job store contract, on every backend: each transition, its counters and its tokens.

Tests see a backend only through the ``JobStore`` protocol (``queue.store``)
and Huey's public API (``queue.huey``, where the tokens wait); what is
particular to one backend is tested beside it (test_sqlite_backend.py).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thumbgen.jobqueue import liveness as procs
from thumbgen.jobqueue import policy
from thumbgen.jobqueue.contract import Counts, NewJob, State, WorkerInfo
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import Options, build_options

OWNER = "test-owner"


def _options(tmp_path: Path, size: str = "64"):
    return build_options([size], out_dir=tmp_path / "out")


def _jobs(n: int, size: int = 100, mtime: int = 1) -> list[NewJob]:
    return [NewJob(f"/src/img{i}.jpg", "", size, mtime, f"/out/img{i}_*.*") for i in range(n)]


def _tokens(queue: Queue) -> int:
    """Tokens waiting in the transport: due now plus scheduled."""
    return int(queue.huey.pending_count()) + int(queue.huey.scheduled_count())


def _true_counts(queue: Queue) -> Counts:
    """Jobs per state counted one by one, not from the store's counters."""
    states = collections.Counter(job.state for job in queue.store.jobs())
    return Counts(**{s.value: states[s] for s in State})


def _register(queue: Queue, worker_id: str, pid: int, started: str | None) -> None:
    now = time.time()
    queue.store.register_worker(
        WorkerInfo(worker_id, procs.hostname(), pid, started, now, now, 0, None)
    )


def test_submit_queues_each_job_with_one_token(queue: Queue, tmp_path: Path) -> None:
    result = queue.store.submit(_jobs(5), _options(tmp_path), batch="b1")
    assert result.queued == 5
    assert queue.store.counts() == Counts(queued=5)
    assert _tokens(queue) == 5


def test_submitting_again_finds_the_jobs_pending(queue: Queue, tmp_path: Path) -> None:
    options = _options(tmp_path)
    queue.store.submit(_jobs(3), options, batch="b1")
    again = queue.store.submit(_jobs(3), options, batch="b2")
    assert again.queued == 0
    assert len(again.pending_ids) == 3
    assert _tokens(queue) == 3


def test_other_options_make_other_jobs(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(2), _options(tmp_path, "64"), batch="b1")
    other = queue.store.submit(_jobs(2), _options(tmp_path, "128"), batch="b2")
    assert other.queued == 2
    assert queue.store.counts().queued == 4


def test_a_target_belongs_to_the_first_source_that_still_exists(
    queue: Queue, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.jpg", tmp_path / "a.png"
    first.write_bytes(b"x")
    options = _options(tmp_path)
    jobs = [NewJob(str(p), "", 1, 1, "/out/a_*.*") for p in (first, second)]
    result = queue.store.submit(jobs, options, batch="b")
    assert (result.queued, result.conflicts) == (1, [(str(second), str(first))])
    first.unlink()  # a vanished owner no longer blocks the name
    assert queue.store.submit(jobs[1:], options, batch="b2").queued == 1


def test_claim_takes_the_oldest_due_job_once(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(2), _options(tmp_path), batch="b")
    first = queue.store.claim(OWNER)
    second = queue.store.claim(OWNER)
    assert first is not None
    assert second is not None
    assert (first.source, second.source) == ("/src/img0.jpg", "/src/img1.jpg")
    assert first.attempts == 1
    assert first.options == _options(tmp_path)
    assert queue.store.claim(OWNER) is None
    assert queue.store.counts() == Counts(running=2)


def _one_done_job(queue: Queue, options: Options, tmp_path: Path) -> Path:
    """Submit, claim and finish ``_jobs(1)`` with a real output file; return that file."""
    queue.store.submit(_jobs(1), options, batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    output = tmp_path / "thumb.jpg"
    output.write_bytes(b"x")
    queue.store.finish(job.id, OWNER, [str(output)], 100, 1)
    return output


def test_finish_records_outputs_and_then_the_job_is_up_to_date(
    queue: Queue, tmp_path: Path
) -> None:
    options = _options(tmp_path)
    output = _one_done_job(queue, options, tmp_path)
    assert queue.store.counts() == Counts(done=1)

    again = queue.store.submit(_jobs(1), options, batch="b2")
    assert (again.queued, again.up_to_date) == (0, 1)

    output.unlink()  # a deleted thumbnail is made again
    assert queue.store.submit(_jobs(1), options, batch="b3").queued == 1


def test_whether_outputs_are_still_stored_is_asked_of_the_callers_storage(
    queue: Queue, tmp_path: Path
) -> None:
    options = _options(tmp_path)
    output = _one_done_job(queue, options, tmp_path)
    asked: list[str] = []

    def gone(location: str) -> bool:
        asked.append(location)
        return False

    # The file is there, but the storage the service layer passes says it is not.
    assert queue.store.submit(_jobs(1), options, batch="b2", exists=gone).queued == 1
    assert str(output) in asked


def test_the_version_read_is_recorded_and_a_new_one_is_queued_again(
    queue: Queue, tmp_path: Path
) -> None:
    options = _options(tmp_path)
    store = queue.store
    listed = [dataclasses.replace(j, version='"v1"') for j in _jobs(1)]
    store.submit(listed, options, batch="b")
    queued = store.jobs()[0]
    assert queued.version == '"v1"'
    job = store.claim(OWNER)
    assert job is not None
    output = tmp_path / "thumb.jpg"
    output.write_bytes(b"x")
    # Overwritten between the listing and the read: the job names what it read.
    store.finish(job.id, OWNER, [str(output)], 100, 1, '"v2"')
    assert store.jobs()[0].version == '"v2"'
    read = [dataclasses.replace(j, version='"v2"') for j in _jobs(1)]
    assert store.submit(read, options, batch="b2").up_to_date == 1
    # Same size and time, new ETag: an object rewritten within one second.
    rewritten = [dataclasses.replace(j, version='"v3"') for j in _jobs(1)]
    assert store.submit(rewritten, options, batch="b3").queued == 1
    assert store.jobs()[0].version == '"v3"'


@pytest.mark.parametrize(("size", "mtime"), [(101, 1), (100, 2)])
def test_a_changed_source_is_queued_again(
    queue: Queue, tmp_path: Path, size: int, mtime: int
) -> None:
    options = _options(tmp_path)
    _one_done_job(queue, options, tmp_path)
    assert queue.store.submit(_jobs(1, size, mtime), options, batch="b2").queued == 1


def test_force_requeues_fresh_jobs(queue: Queue, tmp_path: Path) -> None:
    options = _options(tmp_path)
    _one_done_job(queue, options, tmp_path)
    assert queue.store.submit(_jobs(1), options, batch="b2", force=True).queued == 1


def test_failures_are_remembered_until_the_source_changes_or_retry(
    queue: Queue, tmp_path: Path
) -> None:
    options = _options(tmp_path)
    queue.store.submit(_jobs(1), options, batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.fail(job.id, OWNER, "Corrupt image: /src/img0.jpg (broken)")
    again = queue.store.submit(_jobs(1), options, batch="b2")
    assert again.queued == 0
    assert again.failed_before == [("/src/img0.jpg", "Corrupt image: /src/img0.jpg (broken)")]
    failures = queue.store.failures()
    assert [f.source for f in failures] == ["/src/img0.jpg"]

    assert queue.store.retry_failed() == 1
    assert queue.store.counts() == Counts(queued=1)
    assert _tokens(queue) == 2  # the submit's (consumed by nobody yet) and the retry's


def test_retry_later_delays_the_job_behind_a_scheduled_token(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.retry_later(job.id, OWNER, "Cannot write: disk full", delay=60)
    assert queue.store.counts() == Counts(queued=1)
    assert queue.store.claim(OWNER) is None  # not due yet
    assert queue.huey.scheduled_count() == 1  # beside the submit's token, still unused
    (token,) = queue.huey.scheduled()
    # Huey keeps naive UTC times (the queue's Huey runs with utc=True).
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert token.eta > now + datetime.timedelta(seconds=50)


def test_release_puts_the_job_back_without_counting_the_try(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.release(job.id, OWNER)
    again = queue.store.claim(OWNER)
    assert again is not None
    assert again.id == job.id
    assert again.attempts == 1


def test_only_the_owner_can_finish_a_job(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.finish(job.id, "someone-else", [], 100, 1)
    assert queue.store.counts() == Counts(running=1)


def _dead_pid() -> tuple[int, str | None]:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    started = procs.start_time(proc.pid)
    proc.wait()
    return proc.pid, started


def test_recover_requeues_jobs_of_dead_workers_only(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(2), _options(tmp_path), batch="b")
    pid, started = _dead_pid()
    _register(queue, "dead", pid, started)
    _register(queue, "alive", os.getpid(), procs.start_time(os.getpid()))
    assert queue.store.claim("dead") is not None
    assert queue.store.claim("alive") is not None
    tokens = _tokens(queue)

    assert queue.store.recover(time.time()) == 1
    assert queue.store.counts() == Counts(queued=1, running=1)
    assert _tokens(queue) == tokens + 1
    assert [w.id for w in queue.store.workers()] == ["alive"]


def test_a_zombie_worker_counts_as_dead(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _register(queue, "zombie", proc.pid, procs.start_time(proc.pid))
        assert queue.store.claim("zombie") is not None
        assert queue.store.recover(time.time()) == 0  # still running
        os.kill(proc.pid, signal.SIGKILL)
        # Not reaped: the process is a zombie now, and must count as dead.
        time.sleep(0.2)
        assert queue.store.recover(time.time()) == 1
    finally:
        proc.kill()
        proc.wait()


def test_a_reused_pid_does_not_keep_a_dead_worker_alive(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    # Our own pid, but a start time that is not ours: an earlier process's pid.
    _register(queue, "old", os.getpid(), "1")
    assert queue.store.claim("old") is not None
    assert queue.store.recover(time.time()) == 1


def test_a_worker_holds_its_job_until_it_is_requeued_and_claimed_by_another(
    queue: Queue, tmp_path: Path
) -> None:
    # Asked before storing thumbnails: a worker whose claim lapsed must not store
    # over what the job's next owner stored.
    store = queue.store
    store.submit(_jobs(1), _options(tmp_path), batch="b")
    _register(queue, "old", os.getpid(), "1")  # our pid with another start time: dead
    _register(queue, "new", os.getpid(), procs.start_time(os.getpid()))
    job = store.claim("old")
    assert job is not None
    assert store.holds(job.id, "old")
    assert not store.holds(job.id, "new")
    assert store.recover(time.time()) == 1
    assert not store.holds(job.id, "old")  # requeued
    again = store.claim("new")
    assert again is not None
    assert again.id == job.id
    assert store.holds(job.id, "new")
    assert not store.holds(job.id, "old")
    store.finish(job.id, "new", [], 1, 1)
    assert not store.holds(job.id, "new")  # done: nobody runs it


def test_workers_on_other_hosts_live_by_their_heartbeat(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(2), _options(tmp_path), batch="b")
    now = time.time()
    stale = now - policy.LEASE_SECONDS - 5
    for worker_id, beat in (("fresh", now), ("stale", stale)):
        queue.store.register_worker(
            WorkerInfo(worker_id, "other-host", 1, "1", stale, beat, 0, None)
        )
        assert queue.store.claim(worker_id) is not None
    assert queue.store.recover(now) == 1
    assert [w.id for w in queue.store.workers()] == ["fresh"]


def test_top_up_replaces_lost_tokens(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(4), _options(tmp_path), batch="b")
    for _ in range(3):  # popped by workers that died before claiming
        assert queue.huey.dequeue() is not None
    assert _tokens(queue) == 1
    assert queue.store.top_up() == 3
    assert _tokens(queue) == 4
    assert queue.store.top_up() == 0


def test_counters_match_the_rows_through_every_transition(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(_jobs(6), _options(tmp_path), batch="b")
    jobs = [store.claim(OWNER) for _ in range(5)]
    assert all(jobs)
    store.finish(jobs[0].id, OWNER, [], 1, 1)  # type: ignore[union-attr]
    store.fail(jobs[1].id, OWNER, "bad")  # type: ignore[union-attr]
    store.retry_later(jobs[2].id, OWNER, "busy", 0)  # type: ignore[union-attr]
    store.release(jobs[3].id, OWNER)  # type: ignore[union-attr]
    assert store.counts() == _true_counts(queue)
    store.retry_failed()
    store.clear([State.DONE])
    assert store.counts() == _true_counts(queue)
    assert store.counts().total == 5


def test_batch_counts_follow_one_add_and_its_pending_jobs(queue: Queue, tmp_path: Path) -> None:
    options = _options(tmp_path)
    store = queue.store
    first = store.submit(_jobs(2), options, batch="first")
    assert first.queued == 2
    second = store.submit(_jobs(3), options, batch="second")
    assert (second.queued, len(second.pending_ids)) == (1, 2)
    assert store.batch_counts("second", second.pending_ids) == Counts(queued=3)
    job = store.claim(OWNER)
    assert job is not None
    store.finish(job.id, OWNER, [], 1, 1)
    assert store.batch_counts("second", second.pending_ids) == Counts(queued=2, done=1)


def test_batch_failures_are_only_those_of_the_batch(queue: Queue, tmp_path: Path) -> None:
    options = _options(tmp_path)
    store = queue.store
    mine = [NewJob(f"/mine/{i}.jpg", "", 1, 1, f"/out/m{i}") for i in range(2)]
    theirs = [NewJob(f"/theirs/{i}.jpg", "", 1, 1, f"/out/t{i}") for i in range(2)]
    store.submit(theirs[:1], options, batch="theirs")
    store.submit(mine, options, batch="mine")
    pending = store.submit(theirs, options, batch="mine-too").pending_ids  # one was pending
    for _ in range(4):
        job = store.claim(OWNER)
        assert job is not None
        store.fail(job.id, OWNER, f"bad {job.source}")
    assert [f.source for f in store.batch_failures("mine")] == ["/mine/0.jpg", "/mine/1.jpg"]
    assert [f.source for f in store.batch_failures("mine-too", pending)] == [
        "/theirs/0.jpg",
        "/theirs/1.jpg",
    ]


def test_clear_all_also_drops_tokens(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(3), _options(tmp_path), batch="b")
    assert queue.store.clear(list(State)) == 3
    assert _tokens(queue) == 0
    assert queue.store.counts() == Counts()


def test_outputs_are_kept_as_a_list(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.finish(job.id, OWNER, ["/a.jpg", "/b.jpg"], 1, 1)
    (record,) = queue.store.jobs()
    assert record.outputs == ("/a.jpg", "/b.jpg")


def test_jobs_lists_every_job_with_its_record(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    before = time.time()
    store.submit(_jobs(3), _options(tmp_path), batch="b")
    done, failed = store.claim(OWNER), store.claim(OWNER)
    assert done is not None
    assert failed is not None
    store.finish(done.id, OWNER, ["/out/img0_64.jpg"], 200, 5)
    store.fail(failed.id, OWNER, "Corrupt image: /src/img1.jpg")
    after = time.time()

    records = store.jobs()
    assert [(r.source, r.state) for r in records] == [
        ("/src/img0.jpg", State.DONE),
        ("/src/img1.jpg", State.FAILED),
        ("/src/img2.jpg", State.QUEUED),
    ]
    first, second, third = records
    assert (first.id, first.attempts, first.error) == (done.id, 1, None)
    # The signature the worker read, not the one submitted.
    assert (first.size, first.mtime_ns, first.outputs) == (200, 5, ("/out/img0_64.jpg",))
    assert first.queued_at is not None
    assert first.started_at is not None
    assert first.finished_at is not None
    assert before <= first.queued_at <= first.started_at <= first.finished_at <= after
    assert (second.attempts, second.error, second.outputs) == (
        1,
        "Corrupt image: /src/img1.jpg",
        (),
    )
    assert second.finished_at is not None
    assert (third.attempts, third.error, third.size, third.mtime_ns) == (0, None, 100, 1)
    assert (third.outputs, third.started_at, third.finished_at) == ((), None, None)


def test_jobs_filters_by_state_and_limits(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(_jobs(4), _options(tmp_path), batch="b")
    job = store.claim(OWNER)
    assert job is not None
    assert [r.id for r in store.jobs(State.RUNNING)] == [job.id]
    queued = store.jobs(State.QUEUED)
    assert [r.source for r in queued] == [f"/src/img{i}.jpg" for i in (1, 2, 3)]
    assert store.jobs(State.QUEUED, limit=2) == queued[:2]
    assert [r.source for r in store.jobs(limit=1)] == ["/src/img0.jpg"]
    assert store.jobs(limit=0) == []
    assert store.jobs(State.DONE) == []


def test_job_records_follow_retries_and_releases(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = store.claim(OWNER)
    assert job is not None
    store.retry_later(job.id, OWNER, "Cannot write: disk full", delay=0)
    (record,) = store.jobs()
    # The reason stays visible while the retry waits.
    assert (record.state, record.attempts, record.error) == (
        State.QUEUED,
        1,
        "Cannot write: disk full",
    )
    again = store.claim(OWNER)
    assert again is not None
    store.release(again.id, OWNER)
    assert store.jobs()[0].attempts == 1
    again = store.claim(OWNER)
    assert again is not None
    store.fail(again.id, OWNER, "still full")
    assert store.retry_failed() == 1
    (record,) = store.jobs()
    assert (record.state, record.attempts, record.error) == (State.QUEUED, 0, None)
