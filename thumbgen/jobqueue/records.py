"""The job store's data: what goes in (:class:`NewJob`) and what comes out.

Plain values shared by every backend and re-exported by
:mod:`thumbgen.jobqueue.contract`, where the protocol that uses them lives.

Paths are ``str`` as Python gives them for Linux names, which are bytes: a
name that is not valid UTF-8 carries surrogate escapes (U+DC80..U+DCFF, see
:func:`os.fsdecode`). A store must give back exactly the ``str`` it was given.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from thumbgen.options import Options


class State(enum.StrEnum):
    """A job's state."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    #: Taken out of the queue by ``cancel`` before it ran; ``retry`` or a new
    #: ``submit`` queues it again.
    CANCELLED = "cancelled"
    #: Its source was gone when its try began (deleted or renamed after it was
    #: queued), or ``watch --mirror-deletes`` saw it go: not a failure, and
    #: ``retry`` or a new ``submit`` queues it again once the file is back.
    VANISHED = "vanished"


@dataclasses.dataclass(frozen=True)
class NewJob:
    """A source as ``add`` submits it."""

    source: str
    rel_dir: str
    size: int
    mtime_ns: int
    #: Output path pattern with size, width, height and extension left open;
    #: two sources with one target would overwrite each other's thumbnails.
    target: str = ""
    #: The store's version of the source: an object's ETag or version id; a
    #: local file's modification time and inode. "" when unknown (jobs queued
    #: before versions were kept), which compares equal to any.
    version: str = ""


@dataclasses.dataclass(frozen=True)
class Job:
    """A claimed job, as a worker runs it."""

    id: int
    source: str
    rel_dir: str
    options: Options
    attempts: int


@dataclasses.dataclass
class SubmitResult:
    """What :meth:`JobStore.submit` did with each source (or, in a dry run, would do)."""

    #: Jobs queued (0 in a dry run: nothing is written).
    queued: int = 0
    up_to_date: int = 0
    #: Jobs already queued or running for the same source and options.
    pending_ids: list[int] = dataclasses.field(default_factory=list)
    #: Sources that failed before and have not changed since: (source, error).
    failed_before: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: Sources refused because another source owns their target: (source, other).
    conflicts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: Dry runs only: the sources that would be queued, in submit order.
    would_queue: list[str] = dataclasses.field(default_factory=list)

    def merge(self, other: SubmitResult) -> None:
        """Add ``other``'s numbers to this result."""
        self.queued += other.queued
        self.up_to_date += other.up_to_date
        self.pending_ids.extend(other.pending_ids)
        self.failed_before.extend(other.failed_before)
        self.conflicts.extend(other.conflicts)
        self.would_queue.extend(other.would_queue)


@dataclasses.dataclass(frozen=True)
class Counts:
    """Jobs per state."""

    queued: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    vanished: int = 0

    @property
    def total(self) -> int:
        """All jobs counted."""
        return self.queued + self.running + self.finished

    @property
    def finished(self) -> int:
        """Jobs that will not run again unless asked: done, failed, cancelled or vanished."""
        return self.done + self.failed + self.cancelled + self.vanished


@dataclasses.dataclass(frozen=True)
class Failure:
    """A failed job and its one-line reason."""

    source: str
    error: str
    finished_at: float


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """One job as :meth:`JobStore.jobs` lists it."""

    id: int
    source: str
    state: State
    #: Tries started so far (an interrupted try that was put back does not count).
    attempts: int
    #: The last failure's one-line reason (kept while a retry is pending).
    error: str | None
    #: The source signature: as submitted, or as the worker read it when done.
    size: int
    mtime_ns: int
    #: The thumbnails written, once done.
    outputs: tuple[str, ...]
    queued_at: float | None
    started_at: float | None
    #: When it was done, failed, cancelled or vanished.
    finished_at: float | None
    #: Higher runs first; equal priorities run oldest due first.
    priority: int = 0
    #: ``{dir}``: the source's folder relative to the root it was found under.
    rel_dir: str = ""
    #: The source's version (see :attr:`NewJob.version`): as submitted, or the
    #: one the worker read when done, so a thumbnail names the version it shows.
    version: str = ""
    #: A name to show for the source (an upload's original file name, see
    #: :meth:`~thumbgen.jobqueue.contract.JobStore.set_labels`); never a path.
    label: str = ""
    #: What the worker learnt making it, once done (None before, and for jobs
    #: finished before the queue kept it): the source's size and orientation,
    #: each output's pixel size, bytes, format, content hash and crop box, the
    #: average colour and the placeholder (:func:`thumbgen.thumbnailing.info`). JSON values only.
    info: dict[str, Any] | None = None


class Outcome(enum.StrEnum):
    """How one try of a job ended."""

    DONE = "done"
    FAILED = "failed"
    #: A transient failure; the job waits for another try.
    RETRY = "retry"
    #: Interrupted (a second Ctrl-C, a parent that died) and put back at once.
    RELEASED = "released"
    #: Its worker died; ``recover`` put the job back.
    REQUEUED = "requeued"
    #: The source was gone when the try began.
    VANISHED = "vanished"


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One try of a job: who ran it, when, and how it ended."""

    #: 1 for the job's first try; every claim counts, released ones too, and
    #: numbers go on when the job is queued again.
    number: int
    worker: str
    #: The worker's host, as it registered ("" if it never did).
    host: str
    started_at: float
    #: None while the try is running.
    ended_at: float | None
    #: None while the try is running.
    outcome: Outcome | None
    error: str | None


@dataclasses.dataclass(frozen=True)
class JobDetail:
    """One job as :meth:`JobStore.job` shows it: its record, options and every try."""

    job: JobRecord
    #: The options it was queued with (sizes, formats, output folder).
    options: Options
    #: Oldest first.
    attempts: tuple[Attempt, ...]


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """A registered worker process."""

    id: str
    host: str
    pid: int
    proc_start: str | None
    started_at: float
    heartbeat: float
    jobs_done: int
    current: str | None
