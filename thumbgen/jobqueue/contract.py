"""The job store contract: the queue's source of truth.

Huey only delivers wake-up messages ("tokens"); which file is queued,
running, done or failed lives here. Every state change that needs a token
writes the job and its token in one transaction, so a crash can never leave
a queued job without a way to be run; the few windows inside Huey itself
(a token popped but not yet used) are closed by :meth:`JobStore.top_up`.

A token carries no job id: whoever holds one claims the best due job
(highest priority, then oldest due). That makes lost tokens cheap to replace
(count them) and spare ones harmless (a token that finds nothing does
nothing). While the queue is paused no token is made and claims find
nothing; :meth:`JobStore.resume` tops the tokens up again.

Every transition here is one atomic step that checks the state it starts
from (a stale worker cannot overwrite a newer attempt), so a Redis store can
make each one a Lua script; the counters per state change in the same step.

A backend is the pair that makes this work: a Huey instance (the transport)
and a job store that writes its tokens into that transport in the same
transaction as the job (:class:`Backend`). What a store decides (which
sources to queue, which workers are dead) is not the store's own: it calls
the pure functions of :mod:`thumbgen.jobqueue.policy`. The data classes live
in :mod:`thumbgen.jobqueue.records` and are re-exported here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from thumbgen.options import Options

from .records import (
    Attempt,
    Counts,
    Failure,
    Job,
    JobDetail,
    JobRecord,
    NewJob,
    Outcome,
    State,
    SubmitResult,
    WorkerInfo,
)

if TYPE_CHECKING:
    from huey import Huey

__all__ = [
    "HISTORY_LIMIT",
    "QUEUE_NAME",
    "Attempt",
    "Backend",
    "Counts",
    "Failure",
    "Job",
    "JobDetail",
    "JobRecord",
    "JobStore",
    "NewJob",
    "Outcome",
    "State",
    "SubmitResult",
    "Tokens",
    "WorkerInfo",
]

#: Huey's name for thumbgen's queue (rows and keys in the transport carry it).
QUEUE_NAME = "thumbgen"

#: Tries a store keeps per job for :meth:`JobStore.job`: the newest ones
#: (numbering goes on), so that a file re-queued for years stays one small job.
HISTORY_LIMIT = 20


class JobStore(Protocol):
    """What the queue needs from a store (SQLite today; Redis is a second implementation).

    A store opened read-only (``open_queue(..., readonly=True)``) answers
    every query and ``submit(..., dry_run=True)``; anything that would write
    raises :class:`~thumbgen.errors.QueueError`.
    """

    # -- submitting ----------------------------------------------------------

    def submit(
        self,
        jobs: Sequence[NewJob],
        options: Options,
        *,
        batch: str,
        force: bool = False,
        priority: int = 0,
        dry_run: bool = False,
        exists: Callable[[str], bool] = os.path.exists,
    ) -> SubmitResult:
        """Queue ``jobs`` (one transaction), skipping fresh, pending and failed-before ones.

        ``exists`` tells whether a location (a recorded output, the source
        holding a target) is still stored: the service layer passes its
        storage's (:func:`thumbgen.storage.exists`); the job store itself
        knows no storage, and its default looks at the local file system.

        Jobs queued (new or again) get ``priority``; a job already pending
        keeps its own. With ``dry_run`` every decision is made against the
        store as it is and nothing is written (no job, no token): the result
        lists the sources that would be queued in ``would_queue`` and counts
        ``queued`` as 0. Sources within one call are judged together, calls
        one by one, so a dry run of several chunks does not see the earlier
        chunks' would-be jobs (a name conflict across chunks goes unseen).
        """
        ...

    # -- running -------------------------------------------------------------

    def claim(self, owner: str) -> Job | None:
        """Move the best due queued job to running for ``owner``; None if there is none.

        Best: highest priority, then oldest due, then first queued. While
        the queue is paused this returns None. The claim starts an attempt
        (:class:`Attempt`) on the owner's behalf in the same step, and each
        outcome below ends it in its own.
        """
        ...

    def finish(
        self,
        job_id: int,
        owner: str,
        outputs: Sequence[str],
        size: int,
        mtime: int,
        version: str = "",
        info: Mapping[str, Any] | None = None,
    ) -> None:
        """Mark a running job done with its outputs and the source signature it was made from.

        ``size``, ``mtime`` and ``version`` are those of the version read, so
        a later submit compares against what the thumbnails show. ``info``
        (JSON values) is kept as the job's :attr:`JobRecord.info` until it is
        queued again: manifests are made from it without re-running anything.

        Like every outcome below, it changes nothing unless ``owner`` still
        runs the job (a worker presumed dead cannot overwrite a later try).
        """
        ...

    def fail(self, job_id: int, owner: str, error: str, *, source_fault: bool = True) -> None:
        """Mark a running job failed with a one-line reason.

        ``source_fault=False`` records a failure that was not the source's
        doing (its output could not be written, a transient error ran out of
        tries): a later submit of the unchanged source queues it again
        instead of reporting it as failed before.
        """
        ...

    def vanish(self, job_id: int, owner: str, reason: str) -> None:
        """Mark a running job vanished: its source was gone when its try began.

        Not a failure (``status`` counts it apart, ``add --wait`` does not
        exit 3 for it); ``reason`` is kept as the job's error. A store
        shared by several machines believes only the machine that queued the
        job: elsewhere the source may sit on a share not mounted there, and
        the job fails with that reason instead (not held against the source).
        """
        ...

    def retry_later(self, job_id: int, owner: str, error: str, delay: float) -> None:
        """Put a running job back in the queue, due in ``delay`` seconds."""
        ...

    def holds(self, job_id: int, owner: str) -> bool:
        """Whether ``owner`` still runs ``job_id``: not requeued and claimed by another since.

        Asked just before a job's thumbnails are stored, so that a worker whose
        claim lapsed (a long pause, a cut network) does not overwrite what the
        job's next owner stored. Raises :class:`~thumbgen.errors.TransientError`
        when the queue cannot say now (locked, out of reach).
        """
        ...

    def release(self, job_id: int, owner: str) -> None:
        """Put an interrupted job back in the queue at once; the try does not count."""
        ...

    def recover(self, now: float) -> int:
        """Requeue running jobs whose owner is dead; return how many."""
        ...

    def top_up(self) -> int:
        """Add tokens until every queued job has one; return how many were added.

        Adds none while the queue is paused (:meth:`resume` tops up).
        """
        ...

    # -- reading -------------------------------------------------------------

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

    def job(self, ref: int | str) -> JobDetail | None:
        """One job by id (an int) or by source path (a str: its most recently queued job).

        None when there is no such job. Its attempts come oldest first, the
        newest :data:`HISTORY_LIMIT` of them; tries made before the queue
        recorded attempts (schema 2) are not shown.
        """
        ...

    def page(
        self,
        *,
        state: State | None = None,
        query: str = "",
        error: str | None = None,
        after: int | None = None,
        newest_first: bool = True,
        limit: int = 50,
    ) -> list[JobRecord]:
        """A page of jobs by id, newest (highest id) or oldest first, with their labels.

        ``after`` is a cursor: the id of the last job of the previous page,
        so a page costs the same at any depth (no offset is skipped over).
        ``state`` keeps one state; ``error`` the jobs whose reason is exactly
        that line (:func:`~thumbgen.jobqueue.policy.reason`); ``query`` the
        jobs whose source path or label contains it
        (ASCII letters in any case). Paging without ``query`` or ``error``
        reads only the page's jobs; with them a store may scan (SQLite with
        an index for the state, Redis chunk by chunk) until the page is full.
        """
        ...

    def totals(self) -> dict[str, int]:
        """Tries ever ended, by outcome: ``done``, ``vanished``, ``failed:CLASS``.

        Counted in the step that records each outcome, and never lowered:
        ``clear`` and ``retry`` leave them as they are (unlike :meth:`counts`),
        so they are counters in Prometheus' sense, across every worker of
        the queue. They start at the queue's creation (or its upgrade to a
        store that keeps them). A CLASS is
        :func:`~thumbgen.jobqueue.policy.reason_class` of the error.
        """
        ...

    def failure_reasons(self, limit: int = 50) -> list[tuple[str, int]]:
        """Failed jobs grouped by reason: (reason, count), most common first.

        A reason (:func:`~thumbgen.jobqueue.policy.reason`) is the error line
        with the job's own source path made ``{source}``: one kind, one group.
        """
        ...

    def set_labels(self, labels: Mapping[str, str]) -> None:
        """Name sources for display: ``{source: label}``, the newest label of a source wins.

        A label is shown and searched (:meth:`page`), never used as a path:
        an upload's original file name, which the stored file (named by its
        content) does not keep.
        """
        ...

    def done_jobs(
        self, match: Callable[[Options], bool] | None = None
    ) -> list[tuple[JobRecord, Options]]:
        """Every done job made with options that pass ``match`` (all if None), with those options.

        In id order. What manifests are made from: each record carries its
        :attr:`JobRecord.info`. Options are matched once per distinct set,
        not once per job.
        """
        ...

    def finished_since(self, since: float) -> int:
        """Jobs done or failed at or after ``since`` (for throughput)."""
        ...

    def paused(self) -> bool:
        """Whether workers are held from claiming (:meth:`pause`), in constant time."""
        ...

    def warnings(self) -> list[str]:
        """Settings of the store's server that put the queue at risk, one line each.

        A Redis that keeps nothing on disk or may evict keys can lose the
        whole queue; a queue file has none to report.
        """
        ...

    # -- steering ------------------------------------------------------------

    def pause(self) -> None:
        """Stop every worker of this queue, on every host, from claiming jobs.

        Running jobs finish. The state lives in the store, so workers started
        later obey it too; tokens waiting in the transport are dropped (the
        queued jobs keep their places) and :meth:`resume` makes them again.
        """
        ...

    def resume(self) -> None:
        """Let workers claim again, with a token for every queued job (one step)."""
        ...

    def cancel(
        self,
        ids: Sequence[int] | None = None,
        sources: Sequence[str] | None = None,
        *,
        vanished: bool = False,
    ) -> int:
        """Move queued jobs (never running ones) to cancelled; return how many.

        The jobs named by id or by source path (every job of that source,
        whatever its options); with neither, every queued job. Cancelled is
        not failed: a later submit of the unchanged source queues it again.
        With ``vanished`` they end vanished instead (their source was seen
        to go: ``watch --mirror-deletes``), and so do the named sources' done
        jobs (their thumbnails are removed with the source; a manifest drops them).
        """
        ...

    def retry(self, ids: Sequence[int] | None = None, sources: Sequence[str] | None = None) -> int:
        """Queue failed, cancelled or vanished jobs again, tries reset; return how many.

        The jobs named by id or by source path; with neither, every failed
        job (cancelled and vanished ones stay so unless named).
        """
        ...

    def retry_failed(self) -> int:
        """Queue every failed job again; return how many (``retry()`` with no names)."""
        ...

    def clear(self, states: Sequence[State], older_than: float | None = None) -> int:
        """Forget jobs in ``states`` with their attempts; return how many.

        With ``older_than`` (seconds), only jobs that finished (done, failed,
        cancelled or vanished) more than that long ago. Clearing every state with no
        age also drops every token.
        """
        ...

    # -- workers -------------------------------------------------------------

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
    :mod:`thumbgen.jobqueue` provides one through ``open_backend(location, *,
    create, readonly)`` and :func:`thumbgen.jobqueue.backend.open_queue` picks
    it by scheme. ``create=False`` refuses a location that holds no queue;
    ``readonly=True`` gives stores that never write (reading commands).
    """

    location: str
    #: Makes the transport: a Huey named :data:`QUEUE_NAME`, results off.
    #: Called on first use only, so that reading commands never import Huey.
    open_huey: Callable[[], Huey]
    #: Opens a store (one per process and thread) that makes tokens with ``Tokens``.
    open_store: Callable[[Tokens], JobStore]
