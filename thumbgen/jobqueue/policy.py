"""What the queue decides, as pure functions every backend calls.

A backend reads what a decision needs, calls a function here and writes the
outcome atomically; it never decides itself. So the decision table of
``submit`` (new, pending, changed, up to date, failed before, name conflict)
and the liveness rule of ``recover`` are written once, and tested once
without a database (tests/unit/jobqueue/test_policy.py). Whatever touches
the file system or the process table comes in as a callable.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from thumbgen.errors import OutputError, ThumbgenError

from . import liveness
from .records import NewJob, State, SubmitResult, WorkerInfo

#: A worker whose heartbeat is older than this is presumed dead (other hosts),
#: and loses its running jobs even if its process lives (THUMBGEN_LEASE_SECONDS,
#: for tests).
LEASE_SECONDS = float(os.environ.get("THUMBGEN_LEASE_SECONDS") or 30.0)

#: Tries of one job that may end with their worker's death (an out-of-memory
#: kill, a decoder crash) before the job fails instead of killing another.
MAX_WORKER_DEATHS = 2
#: The reason such a job fails with.
WORKER_DIED = "Worker died while processing this file (out of memory?)"


def job_key(source: str, rel_dir: str, digest: str) -> str:
    """A job's identity: one job per source, output folder and options digest.

    Names are hashed as their bytes: a Linux name that is not UTF-8 reaches
    Python with surrogate escapes, which ``surrogateescape`` turns back into
    the original bytes (what :func:`os.fsencode` does on Linux, but the same
    on every host, which a shared Redis needs). UTF-8 names hash as before.
    """
    text = f"{source}\0{rel_dir}\0{digest}"
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def blames_source(error: ThumbgenError) -> bool:
    """Whether a job's final failure is its source's fault (and so worth remembering).

    Only then does a later submit of the unchanged source report it as
    "failed before". A thumbnail that could not be written, or a transient
    error that outlasted its tries, says nothing about the file: once the
    output folder or the disk is fixed, the next ``add`` queues it again.
    """
    return not (error.transient or isinstance(error, OutputError))


# -- submitting -----------------------------------------------------------------


class ExistingJob(NamedTuple):
    """What ``submit`` needs to know of the job a store already holds for a key.

    A named tuple rather than a frozen dataclass: a submit makes one per known
    source, and a tuple is made four times faster.
    """

    id: int
    state: State
    size: int
    mtime_ns: int
    #: None until the job has been done once.
    outputs: Sequence[str] | None
    error: str | None
    #: For a failed job: whether the failure was the source's fault (see blames_source).
    source_fault: bool = True
    version: str = ""


class Decision(enum.Enum):
    """What ``submit`` does with one source; ``queues``: whether it gets a token."""

    NEW = "new", True
    CHANGED = "changed", True
    FORCED = "forced", True
    OUTPUTS_MISSING = "outputs missing", True
    #: Failed before, but not through the source's fault: tried again.
    FAILED_NOT_SOURCE = "failed before, not the source's fault", True
    #: Cancelled before: cancelling is not failing, so it is queued again.
    CANCELLED = "cancelled before", True
    #: Its source was gone when it was to run; now it is back.
    VANISHED = "vanished before", True
    PENDING = "pending", False
    FAILED_BEFORE = "failed before", False
    UP_TO_DATE = "up to date", False
    CONFLICT = "conflict", False

    def __init__(self, label: str, queues: bool) -> None:
        self.label = label
        # An attribute, not a property: submit asks once per source.
        self.queues = queues


# Plain module names for the members the per-source code uses: on Python
# 3.11 a look-up such as ``Decision.NEW`` costs about 0.2 us, and with them a
# re-submit of known sources spent three times as long deciding.
_NEW = Decision.NEW
_CHANGED = Decision.CHANGED
_FORCED = Decision.FORCED
_OUTPUTS_MISSING = Decision.OUTPUTS_MISSING
_FAILED_NOT_SOURCE = Decision.FAILED_NOT_SOURCE
_CANCELLED = Decision.CANCELLED
_VANISHED = Decision.VANISHED
_PENDING = Decision.PENDING
_FAILED_BEFORE = Decision.FAILED_BEFORE
_UP_TO_DATE = Decision.UP_TO_DATE
_CONFLICT = Decision.CONFLICT
_FAILED = State.FAILED
_CANCELLED_STATE = State.CANCELLED
_VANISHED_STATE = State.VANISHED
_PENDING_STATES = frozenset({State.QUEUED, State.RUNNING})


def decide_submit(
    new: NewJob,
    existing: ExistingJob | None,
    target_owner: str,
    *,
    force: bool,
    exists: Callable[[str], bool],
) -> Decision:
    """The decision table of ``submit`` for one source.

    ``target_owner`` is the source that owns ``new.target`` (``new.source``
    itself when nobody did); ``exists`` tells whether a path is on disk.
    """
    # A target belongs to the first source queued for it, while that source
    # exists: two sources with one target would overwrite each other.
    if target_owner != new.source and exists(target_owner):
        return _CONFLICT
    if existing is None:
        return _NEW
    if existing.state in _PENDING_STATES:
        return _PENDING
    if (existing.size, existing.mtime_ns) != (new.size, new.mtime_ns) or (
        # An object rewritten within the store's mtime resolution, same size:
        # only its ETag tells. An unknown version (an older job) is no change.
        existing.version != new.version and existing.version and new.version
    ):
        return _CHANGED
    if force:
        return _FORCED
    if existing.state == _FAILED:
        return _FAILED_BEFORE if existing.source_fault else _FAILED_NOT_SOURCE
    if existing.state == _CANCELLED_STATE:
        return _CANCELLED
    if existing.state == _VANISHED_STATE:
        return _VANISHED
    # Recorded outputs are checked, not trusted: a deleted thumbnail is made again.
    if existing.outputs is not None and all(exists(p) for p in existing.outputs):
        return _UP_TO_DATE
    return _OUTPUTS_MISSING


@dataclasses.dataclass
class SubmitPlan:
    """What a backend writes for one ``submit``: new rows, requeued rows, the result."""

    #: (key, job) for sources without a job yet.
    inserts: list[tuple[str, NewJob]] = dataclasses.field(default_factory=list)
    #: (job id, job) for finished jobs to queue again with the job's signature.
    requeues: list[tuple[int, NewJob]] = dataclasses.field(default_factory=list)
    result: SubmitResult = dataclasses.field(default_factory=SubmitResult)


def plan_submit(
    jobs: Mapping[str, NewJob],
    existing: Mapping[str, ExistingJob],
    owners: Mapping[str, str],
    *,
    force: bool,
    exists: Callable[[str], bool],
    dry_run: bool = False,
) -> SubmitPlan:
    """Decide every source of one ``submit``.

    ``jobs`` and ``existing`` are keyed by :func:`job_key`; ``owners`` maps a
    target to the source the store already holds for it (the first queued).
    Within the batch, the first source of a target owns it. A ``dry_run``
    plan is the same plan, its result listing what would be queued (in
    ``would_queue``, with ``queued`` 0) for a store that writes none of it.
    """
    plan = SubmitPlan()
    result = plan.result
    taken = dict(owners)
    would_queue = result.would_queue
    for key, job in jobs.items():
        owner = taken.setdefault(job.target, job.source)
        row = existing.get(key)
        decision = decide_submit(job, row, owner, force=force, exists=exists)
        if decision.queues:
            if dry_run:
                would_queue.append(job.source)
            if row is None:
                plan.inserts.append((key, job))
            else:
                plan.requeues.append((row.id, job))
        elif row is not None and decision is _PENDING:
            result.pending_ids.append(row.id)
        elif decision is _UP_TO_DATE:
            result.up_to_date += 1
        elif row is not None and decision is _FAILED_BEFORE:
            result.failed_before.append((job.source, row.error or "failed"))
        else:  # a conflict, with or without a row of its own
            result.conflicts.append((job.source, owner))
    result.queued = 0 if dry_run else len(plan.inserts) + len(plan.requeues)
    return plan


# -- liveness -------------------------------------------------------------------


def worker_alive(worker: WorkerInfo, now: float, host: liveness.Host) -> bool:
    """The liveness rule: who counts as still running.

    On the same host (with a process table) a worker is alive while its pid
    runs and is not a zombie, with the start time it registered (a reused
    pid belongs to someone else). Elsewhere it is alive while its heartbeat
    is younger than :data:`LEASE_SECONDS`.
    """
    if worker.host == host.name and host.start_time is not None:
        current = host.start_time(worker.pid)
        return current is not None and (worker.proc_start is None or current == worker.proc_start)
    return now - worker.heartbeat < LEASE_SECONDS


def alive_here(worker: WorkerInfo, now: float) -> bool:
    """:func:`worker_alive` judged from the machine this process runs on."""
    return worker_alive(worker, now, liveness.this_host())


@dataclasses.dataclass(frozen=True)
class Dead:
    """What ``recover`` undoes."""

    #: Owners of running jobs that are not alive: their jobs go back to the queue.
    owners: list[str]
    #: Registered workers that are not alive: forgotten.
    workers: list[str]


def dead_owners(
    workers: Sequence[WorkerInfo],
    running_owners: Iterable[str],
    now: float,
    is_alive: Callable[[WorkerInfo, float], bool],
) -> Dead:
    """Which owners of running jobs, and which registered workers, are dead.

    An owner with no registered worker counts as dead: workers register
    before they claim and unregister only once they stop. An owner whose
    heartbeat is older than :data:`LEASE_SECONDS` loses its jobs even if its
    process lives (stuck, or cut off by a lock): its late outcome is then
    fenced off by the owner check. Its registration stays while it lives, so
    that its heartbeat and later claims count again.
    """
    alive = {w.id for w in workers if is_alive(w, now)}
    leased = {w.id for w in workers if w.id in alive and now - w.heartbeat < LEASE_SECONDS}
    return Dead(
        owners=[o for o in running_owners if o not in leased],
        workers=[w.id for w in workers if w.id not in alive],
    )


#: A failure's class from how its error line starts (thumbgen's own messages):
#: a handful of label values, where raw error lines would be one per file kind.
REASON_CLASSES = (
    ("Corrupt image", "corrupt"),
    ("Unsupported", "unsupported"),
    ("Not an image", "not_an_image"),
    ("Too many pixels", "too_many_pixels"),
    ("Cannot read", "unreadable"),
    ("Cannot write", "output"),
    ("Cannot encode", "output"),
)


def reason_class(reason: str) -> str:
    """The class of a failure reason: ``corrupt``, ``unsupported``... or ``other``."""
    for prefix, name in REASON_CLASSES:
        if reason.startswith(prefix):
            return name
    return "other"


def total_name(outcome: str, error: str | None = None) -> str:
    """The :meth:`~thumbgen.jobqueue.contract.JobStore.totals` key an ended try adds one to.

    ``done``, ``vanished``, or ``failed:CLASS`` with the failure's class.
    """
    return f"failed:{reason_class(error or '')}" if outcome == "failed" else outcome


def reason(error: str | None, source: str) -> str:
    """A failure's reason: its error line with the job's own source made ``{source}``.

    Errors name the file ("Corrupt image: /up/4a6b.jpg (Truncated File
    Read)"); without its name, failures of one kind group together.
    """
    return (error or "failed").replace(source, "{source}") if source else (error or "failed")
