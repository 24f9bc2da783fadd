"""The job store contract: the queue's source of truth.

Huey only delivers wake-up messages ("tokens"); which file is queued,
running, done or failed lives here. Every state change that needs a token
writes the job and its token in one transaction, so a crash can never leave
a queued job without a way to be run; the few windows inside Huey itself
(a token popped but not yet used) are closed by :meth:`JobStore.top_up`.

A token carries no job id: whoever holds one claims the oldest due job. That
makes lost tokens cheap to replace (count them) and spare ones harmless (a
token that finds nothing does nothing).

A backend is the pair that makes this work: a Huey instance (the transport)
and a job store that writes its tokens into that transport in the same
transaction as the job (:class:`Backend`). What a store decides (which
sources to queue, which workers are dead) is not the store's own: it calls
the pure functions of :mod:`thumbgen.jobqueue.policy`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from thumbgen.options import Options

if TYPE_CHECKING:
    from huey import Huey

#: Huey's name for thumbgen's queue (rows and keys in the transport carry it).
QUEUE_NAME = "thumbgen"


class State(enum.StrEnum):
    """A job's state."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


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
    """What :meth:`JobStore.submit` did with each source."""

    queued: int = 0
    up_to_date: int = 0
    #: Jobs already queued or running for the same source and options.
    pending_ids: list[int] = dataclasses.field(default_factory=list)
    #: Sources that failed before and have not changed since: (source, error).
    failed_before: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: Sources refused because another source owns their target: (source, other).
    conflicts: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def merge(self, other: SubmitResult) -> None:
        """Add ``other``'s numbers to this result."""
        self.queued += other.queued
        self.up_to_date += other.up_to_date
        self.pending_ids.extend(other.pending_ids)
        self.failed_before.extend(other.failed_before)
        self.conflicts.extend(other.conflicts)


@dataclasses.dataclass(frozen=True)
class Counts:
    """Jobs per state."""

    queued: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """All jobs counted."""
        return self.queued + self.running + self.done + self.failed

    @property
    def finished(self) -> int:
        """Jobs that will not run again unless asked: done or failed."""
        return self.done + self.failed


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
    finished_at: float | None


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


class JobStore(Protocol):
    """What the queue needs from a store (SQLite today; Redis is a second implementation)."""

    def submit(
        self, jobs: Sequence[NewJob], options: Options, *, batch: str, force: bool = False
    ) -> SubmitResult:
        """Queue ``jobs`` (one transaction), skipping fresh, pending and failed-before ones."""
        ...

    def claim(self, owner: str) -> Job | None:
        """Move the oldest due queued job to running for ``owner``; None if there is none."""
        ...

    def finish(
        self, job_id: int, owner: str, outputs: Sequence[str], size: int, mtime: int
    ) -> None:
        """Mark a running job done with its outputs and the source signature it was made from."""
        ...

    def fail(self, job_id: int, owner: str, error: str) -> None:
        """Mark a running job failed with a one-line reason."""
        ...

    def retry_later(self, job_id: int, owner: str, error: str, delay: float) -> None:
        """Put a running job back in the queue, due in ``delay`` seconds."""
        ...

    def release(self, job_id: int, owner: str) -> None:
        """Put an interrupted job back in the queue at once; the try does not count."""
        ...

    def recover(self, now: float) -> int:
        """Requeue running jobs whose owner is dead; return how many."""
        ...

    def top_up(self) -> int:
        """Add tokens until every queued job has one; return how many were added."""
        ...

    def counts(self) -> Counts:
        """Jobs per state, in constant time."""
        ...

    def batch_counts(self, batch: str, extra_ids: Sequence[int] = ()) -> Counts:
        """Jobs per state among one ``add``'s batch plus ``extra_ids``."""
        ...

    def failures(self, limit: int | None = None) -> list[Failure]:
        """Failed jobs, newest first."""
        ...

    def batch_failures(self, batch: str, extra_ids: Sequence[int] = ()) -> list[Failure]:
        """Failed jobs among one ``add``'s batch plus ``extra_ids``."""
        ...

    def jobs(self, state: State | None = None, limit: int | None = None) -> list[JobRecord]:
        """Jobs (only those in ``state`` if given) in the order first queued, at most ``limit``."""
        ...

    def finished_since(self, since: float) -> int:
        """Jobs done or failed at or after ``since`` (for throughput)."""
        ...

    def retry_failed(self) -> int:
        """Queue every failed job again; return how many."""
        ...

    def clear(self, states: Sequence[State]) -> int:
        """Forget jobs in ``states``; return how many."""
        ...

    def register_worker(self, info: WorkerInfo) -> None:
        """Record a worker process as started."""
        ...

    def heartbeat(self, worker_id: str, now: float) -> None:
        """Record that a worker is still alive."""
        ...

    def unregister_worker(self, worker_id: str) -> None:
        """Forget a worker that stopped."""
        ...

    def workers(self) -> list[WorkerInfo]:
        """Every registered worker, alive or not."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Tokens(Protocol):
    """Makes the Huey messages that wake a worker (:class:`~thumbgen.jobqueue.huey_app.Queue`)."""

    queue_name: str

    def immediate(self) -> bytes:
        """A serialized token to run now."""
        ...

    def delayed(self, seconds: float) -> tuple[bytes, float]:
        """A serialized token due in ``seconds``, with its schedule timestamp."""
        ...


@dataclasses.dataclass(frozen=True)
class Backend:
    """One queue location's transport and job store, which belong together.

    The store writes each job's token into the transport in the job's own
    transaction, so a backend provides both: SQLite keeps Huey's tables in
    the job file; Redis will run both in one server. A subpackage of
    :mod:`thumbgen.jobqueue` provides one through ``open_backend(location)``
    and :func:`thumbgen.jobqueue.backend.open_queue` picks it by scheme.
    """

    location: str
    #: Makes the transport: a Huey named :data:`QUEUE_NAME`, results off.
    #: Called on first use only, so that reading commands never import Huey.
    open_huey: Callable[[], Huey]
    #: Opens a store (one per process and thread) that makes tokens with ``Tokens``.
    open_store: Callable[[Tokens], JobStore]
