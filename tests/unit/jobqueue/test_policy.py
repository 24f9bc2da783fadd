"""The queue's decisions, without a database, a disk or a process table.

Every branch of ``submit``'s decision table, the batch bookkeeping around it,
and the liveness rule ``recover`` judges workers by.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import pytest

from thumbgen import errors
from thumbgen.jobqueue import liveness, policy
from thumbgen.jobqueue.contract import NewJob, State, SubmitResult, WorkerInfo
from thumbgen.jobqueue.policy import Decision, ExistingJob, decide_submit

NEW = NewJob("/src/a.jpg", "", 100, 1, "/out/a_*.*")
OUT = ("/out/a_64.jpg", "/out/a_128.jpg")


def _existing(
    state: State = State.DONE,
    size: int = 100,
    mtime_ns: int = 1,
    outputs: tuple[str, ...] | None = OUT,
    error: str | None = None,
    source_fault: bool = True,
    version: str = "",
) -> ExistingJob:
    return ExistingJob(7, state, size, mtime_ns, outputs, error, source_fault, version)


def _decide(
    existing: ExistingJob | None,
    *,
    owner: str = NEW.source,
    force: bool = False,
    on_disk: frozenset[str] = frozenset(OUT),
) -> Decision:
    return policy.decide_submit(NEW, existing, owner, force=force, exists=on_disk.__contains__)


# -- the decision table ---------------------------------------------------------


def test_a_source_without_a_job_is_new() -> None:
    assert _decide(None) is Decision.NEW


@pytest.mark.parametrize("state", [State.QUEUED, State.RUNNING])
def test_a_queued_or_running_job_is_pending_even_when_forced_or_changed(state: State) -> None:
    assert _decide(_existing(state)) is Decision.PENDING
    assert _decide(_existing(state, size=1), force=True) is Decision.PENDING


@pytest.mark.parametrize("state", [State.DONE, State.FAILED])
@pytest.mark.parametrize(("size", "mtime_ns"), [(101, 1), (100, 2)])
def test_a_changed_source_is_queued_again(state: State, size: int, mtime_ns: int) -> None:
    assert _decide(_existing(state, size, mtime_ns)) is Decision.CHANGED


@pytest.mark.parametrize("state", [State.DONE, State.FAILED])
def test_a_new_version_of_the_same_size_and_time_is_queued_again(state: State) -> None:
    # An object rewritten within its store's one-second Last-Modified: only the ETag differs.
    new = dataclasses.replace(NEW, version='"etag-2"')
    existing = _existing(state, version='"etag-1"')
    assert decide_submit(new, existing, new.source, force=False, exists=OUT.__contains__) is (
        Decision.CHANGED
    )
    same = _existing(state, version='"etag-2"')
    assert decide_submit(new, same, new.source, force=False, exists=OUT.__contains__) is not (
        Decision.CHANGED
    )


@pytest.mark.parametrize(("old", "new"), [("", '"etag"'), ('"etag"', "")])
def test_an_unknown_version_is_no_change(old: str, new: str) -> None:
    # Jobs queued before versions were kept have none: an upgrade re-queues nothing.
    job = dataclasses.replace(NEW, version=new)
    existing = _existing(version=old)
    assert decide_submit(job, existing, job.source, force=False, exists=OUT.__contains__) is (
        Decision.UP_TO_DATE
    )


@pytest.mark.parametrize("state", [State.DONE, State.FAILED])
def test_force_queues_an_unchanged_finished_job(state: State) -> None:
    assert _decide(_existing(state), force=True) is Decision.FORCED


def test_an_unchanged_failure_is_failed_before_even_with_its_outputs_gone() -> None:
    assert _decide(_existing(State.FAILED, error="bad"), on_disk=frozenset()) is (
        Decision.FAILED_BEFORE
    )


def test_done_with_every_output_on_disk_is_up_to_date() -> None:
    assert _decide(_existing()) is Decision.UP_TO_DATE


def test_done_with_one_output_gone_is_made_again() -> None:
    assert _decide(_existing(), on_disk=frozenset(OUT[:1])) is Decision.OUTPUTS_MISSING


def test_done_without_recorded_outputs_is_made_again() -> None:
    assert _decide(_existing(outputs=None)) is Decision.OUTPUTS_MISSING


def test_an_existing_owner_of_the_target_refuses_the_source_first() -> None:
    other = "/src/a.png"
    on_disk = frozenset({other, *OUT})
    for existing in (None, _existing(), _existing(State.QUEUED)):
        assert _decide(existing, owner=other, on_disk=on_disk) is Decision.CONFLICT
        assert _decide(existing, owner=other, force=True, on_disk=on_disk) is Decision.CONFLICT


def test_a_vanished_owner_no_longer_blocks_the_target() -> None:
    assert _decide(None, owner="/src/a.png", on_disk=frozenset()) is Decision.NEW


def test_a_failure_that_was_not_the_sources_fault_is_queued_again() -> None:
    # Its output could not be written, or a transient error outlasted its tries.
    existing = _existing(State.FAILED, error="Cannot write /out/a_64.jpg", source_fault=False)
    assert _decide(existing) is Decision.FAILED_NOT_SOURCE
    assert _decide(existing, on_disk=frozenset()) is Decision.FAILED_NOT_SOURCE
    assert Decision.FAILED_NOT_SOURCE.queues


def test_a_changed_or_forced_source_says_so_whoever_was_at_fault() -> None:
    existing = _existing(State.FAILED, source_fault=False)
    assert _decide(existing._replace(size=1)) is Decision.CHANGED
    assert _decide(existing, force=True) is Decision.FORCED


def test_a_cancelled_job_is_queued_again_unchanged_or_not() -> None:
    assert _decide(_existing(State.CANCELLED)) is Decision.CANCELLED
    assert _decide(_existing(State.CANCELLED, outputs=None)) is Decision.CANCELLED
    assert _decide(_existing(State.CANCELLED, size=1)) is Decision.CHANGED


def test_a_vanished_job_whose_source_is_back_is_queued_again() -> None:
    assert _decide(_existing(State.VANISHED, outputs=None)) is Decision.VANISHED
    assert _decide(_existing(State.VANISHED, size=1)) is Decision.CHANGED


def test_failures_are_the_sources_fault_unless_output_or_transient() -> None:
    assert policy.blames_source(errors.CorruptImage("Corrupt image: a.jpg"))
    assert policy.blames_source(errors.NotAnImage("Not an image: a.jpg"))
    assert policy.blames_source(errors.SourceMissing("Not found: a.jpg"))
    assert not policy.blames_source(errors.OutputError("Cannot write /out/a_64.jpg"))
    assert not policy.blames_source(errors.TransientError("I/O error reading a.jpg"))


def test_only_new_changed_forced_missing_outputs_and_not_held_against_it_queue() -> None:
    queueing = {d for d in Decision if d.queues}
    assert queueing == {
        Decision.NEW,
        Decision.CHANGED,
        Decision.FORCED,
        Decision.OUTPUTS_MISSING,
        Decision.FAILED_NOT_SOURCE,
        Decision.CANCELLED,
        Decision.VANISHED,
    }


# -- a whole submit ---------------------------------------------------------------


def _job(name: str, target: str | None = None) -> NewJob:
    return NewJob(f"/src/{name}", "", 100, 1, target or f"/out/{name}_*.*")


def test_plan_sorts_each_source_into_its_outcome() -> None:
    jobs = {f"k{i}": _job(f"{i}.jpg") for i in range(6)}
    existing = {
        "k1": ExistingJob(11, State.QUEUED, 100, 1, None, None),
        "k2": ExistingJob(12, State.DONE, 100, 1, ("/o2",), None),
        "k3": ExistingJob(13, State.DONE, 100, 1, ("/o3",), None),
        "k4": ExistingJob(14, State.FAILED, 100, 1, None, "Corrupt image"),
        "k5": ExistingJob(15, State.FAILED, 100, 1, None, None),
    }
    plan = policy.plan_submit(jobs, existing, {}, force=False, exists={"/o2"}.__contains__)
    assert plan.inserts == [("k0", jobs["k0"])]
    assert plan.requeues == [(13, jobs["k3"])]
    assert plan.result == SubmitResult(
        queued=2,
        up_to_date=1,
        pending_ids=[11],
        failed_before=[("/src/4.jpg", "Corrupt image"), ("/src/5.jpg", "failed")],
    )


def test_plan_requeues_cancelled_jobs_and_failures_that_were_not_the_sources() -> None:
    jobs = {f"k{i}": _job(f"{i}.jpg") for i in range(3)}
    existing = {
        "k0": ExistingJob(10, State.CANCELLED, 100, 1, None, None),
        "k1": ExistingJob(11, State.FAILED, 100, 1, None, "Cannot write", False),
        "k2": ExistingJob(12, State.FAILED, 100, 1, None, "Corrupt image", True),
    }
    plan = policy.plan_submit(jobs, existing, {}, force=False, exists=lambda p: False)
    assert plan.requeues == [(10, jobs["k0"]), (11, jobs["k1"])]
    assert plan.result.queued == 2
    assert plan.result.failed_before == [("/src/2.jpg", "Corrupt image")]


def test_a_dry_run_plan_lists_what_it_would_queue_and_counts_nothing_queued() -> None:
    jobs = {f"k{i}": _job(f"{i}.jpg") for i in range(4)}
    existing = {
        "k1": ExistingJob(11, State.QUEUED, 100, 1, None, None),
        "k2": ExistingJob(12, State.DONE, 100, 2, ("/o2",), None),  # changed
    }
    real = policy.plan_submit(jobs, existing, {}, force=False, exists=lambda p: False)
    dry = policy.plan_submit(jobs, existing, {}, force=False, exists=lambda p: False, dry_run=True)
    # The same decisions, so a store could write them; only the result differs.
    assert (dry.inserts, dry.requeues) == (real.inserts, real.requeues)
    assert dry.result.would_queue == ["/src/0.jpg", "/src/2.jpg", "/src/3.jpg"]
    assert (dry.result.queued, real.result.queued) == (0, 3)
    assert real.result.would_queue == []
    assert dry.result.pending_ids == real.result.pending_ids == [11]


def test_plan_gives_a_target_to_the_stored_owner_then_to_the_first_in_the_batch() -> None:
    jobs = {
        "a": _job("a.jpg", "/out/a_*.*"),
        "b": _job("a.png", "/out/a_*.*"),
        "c": _job("c.jpg", "/out/c_*.*"),
        "d": _job("c.png", "/out/c_*.*"),
    }
    owners = {"/out/a_*.*": "/src/a.gif"}
    on_disk = {"/src/a.gif", "/src/c.jpg"}.__contains__
    plan = policy.plan_submit(jobs, {}, owners, force=False, exists=on_disk)
    assert [key for key, _ in plan.inserts] == ["c"]
    assert plan.result.conflicts == [
        ("/src/a.jpg", "/src/a.gif"),
        ("/src/a.png", "/src/a.gif"),
        ("/src/c.png", "/src/c.jpg"),
    ]
    assert plan.result.queued == 1


def test_a_job_key_hashes_the_bytes_of_a_name_that_is_not_utf8() -> None:
    bad = os.fsdecode(b"/src/bad\xffbyte.jpg")  # U+DCFF stands for the byte
    key = policy.job_key(bad, "", "d1")
    assert key == policy.job_key(bad, "", "d1")
    assert key != policy.job_key("/src/bad\xffbyte.jpg", "", "d1")  # U+00FF is another name
    # UTF-8 names keep the keys they always had (queue files made before still match).
    expected = hashlib.sha1("/src/é.jpg\0\0d1".encode()).hexdigest()[:24]
    assert policy.job_key("/src/é.jpg", "", "d1") == expected


def test_a_job_key_depends_on_source_folder_and_options() -> None:
    key = policy.job_key("/src/a.jpg", "", "d1")
    assert len(key) == 24
    assert key == policy.job_key("/src/a.jpg", "", "d1")
    others = {
        policy.job_key("/src/b.jpg", "", "d1"),
        policy.job_key("/src/a.jpg", "x", "d1"),
        policy.job_key("/src/a.jpg", "", "d2"),
    }
    assert key not in others
    assert len(others) == 3


# -- liveness ---------------------------------------------------------------------

NOW = 1_000_000.0
HERE = "here"


def _stat(pid: int, state: str, started: int) -> bytes:
    """A /proc/PID/stat line; the command name holds a space and a parenthesis."""
    rest = [state, *["0"] * 18, str(started), "0"]
    return f"{pid} (thumb gen) worker) {' '.join(rest)}".encode()


#: A fake process table: pid -> its stat line (absent: no such process).
PROCS = {
    100: _stat(100, "S", 5000),  # the registered worker, running
    101: _stat(101, "Z", 5001),  # SIGKILLed, not reaped yet
    102: _stat(102, "R", 9999),  # a later process that got a dead worker's pid
}
HOST = liveness.Host(
    HERE, lambda pid: liveness.start_time_from_stat(PROCS[pid]) if pid in PROCS else None
)


def _worker(
    pid: int, *, host: str = HERE, started: str | None = None, beat: float = NOW
) -> WorkerInfo:
    return WorkerInfo(f"w{pid}", host, pid, started, NOW - 100, beat, 0, None)


def test_a_running_process_with_its_start_time_is_alive() -> None:
    assert policy.worker_alive(_worker(100, started="5000"), NOW, HOST)


def test_a_gone_pid_is_dead_however_fresh_its_heartbeat() -> None:
    assert not policy.worker_alive(_worker(4242, started="1"), NOW, HOST)


def test_a_zombie_is_dead() -> None:
    assert liveness.start_time_from_stat(PROCS[101]) is None
    assert not policy.worker_alive(_worker(101, started="5001"), NOW, HOST)


def test_a_reused_pid_does_not_keep_a_dead_worker_alive() -> None:
    assert not policy.worker_alive(_worker(102, started="5002"), NOW, HOST)


def test_a_worker_that_recorded_no_start_time_lives_by_its_pid() -> None:
    assert policy.worker_alive(_worker(102, started=None), NOW, HOST)
    assert not policy.worker_alive(_worker(4242, started=None), NOW, HOST)


@pytest.mark.parametrize(
    ("age", "alive"),
    [(0.0, True), (policy.LEASE_SECONDS - 1, True), (policy.LEASE_SECONDS, False), (3600, False)],
)
def test_a_worker_on_another_host_lives_by_its_heartbeat(age: float, alive: bool) -> None:
    # Its pid means nothing here, even if a local process has it.
    worker = _worker(100, host="other", started="5000", beat=NOW - age)
    assert policy.worker_alive(worker, NOW, HOST) is alive


def test_without_a_process_table_local_workers_live_by_their_heartbeat() -> None:
    host = liveness.Host(HERE, None)
    assert policy.worker_alive(_worker(4242, beat=NOW - 1), NOW, host)
    assert not policy.worker_alive(_worker(100, beat=NOW - policy.LEASE_SECONDS - 1), NOW, host)


def test_start_time_is_field_22_counted_past_the_command_name() -> None:
    assert liveness.start_time_from_stat(PROCS[100]) == "5000"


def test_dead_owners_are_owners_of_running_jobs_without_a_live_worker() -> None:
    workers = [_worker(100, started="5000"), _worker(101, started="5001"), _worker(4242)]
    running = ["w100", "w101", "unregistered"]
    dead = policy.dead_owners(
        workers, running, NOW, lambda w, now: policy.worker_alive(w, now, HOST)
    )
    assert dead.owners == ["w101", "unregistered"]
    # Dead workers are forgotten whether or not they held a job.
    assert dead.workers == ["w101", "w4242"]


def test_dead_owners_passes_its_clock_to_the_rule() -> None:
    seen: list[float] = []

    def is_alive(worker: WorkerInfo, now: float) -> bool:
        seen.append(now)
        return True

    assert policy.dead_owners([_worker(100)], ["w100"], NOW, is_alive) == policy.Dead([], [])
    assert seen == [NOW]
