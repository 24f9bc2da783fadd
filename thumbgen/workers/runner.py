"""What a worker does with a token: claim a job, make its thumbnails, record the outcome.

A source that is gone when its try begins (deleted or renamed after it was
queued) is not a failure: the job ends vanished. Permanent errors fail the
job at once; transient ones are retried with exponential backoff until the
attempts run out. Whether a failure is held
against the source (``add`` then says "failed before") is the policy's call
(:func:`~thumbgen.jobqueue.policy.blames_source`): output and transient
failures are not. An unexpected exception is a bug: it is logged with its
traceback and fails only that job, never the worker. An interrupt (a second
Ctrl-C, a parent that died) puts the job back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ParamSpec

from thumbgen.errors import ClaimLost, QueueLost, SourceMissing, ThumbgenError, TransientError
from thumbgen.imaging import budget
from thumbgen.jobqueue.contract import Job, JobStore
from thumbgen.jobqueue.policy import blames_source
from thumbgen.messages import display_path
from thumbgen.thumbnailing import Made, info, make

from .limits import JOB_TIMEOUT, JobTimedOut, time_limit
from .manifests import ManifestWriter, refresh_manifest
from .retry import RetryPolicy as RetryPolicy

log = logging.getLogger("thumbgen.worker")
P = ParamSpec("P")

#: Seconds between tries to record an outcome on a locked queue (each try
#: itself waits the busy timeout).
_RECORD_PAUSE = 0.5


def run_next(
    store: JobStore,
    worker_id: str,
    policy: RetryPolicy,
    job_timeout: float = JOB_TIMEOUT,
    max_memory: int = budget.MAX_MEMORY,
    manifests: ManifestWriter | None = None,
) -> Job | None:
    """Claim the best due job and run it to an outcome; None if nothing was due (or paused).

    A job still running after ``job_timeout`` seconds (0: no limit) is
    stopped and fails with the limit named; the worker goes on to the next.
    A source whose decode would need more than ``max_memory`` bytes (from its
    header; 0: no limit) fails before it is decoded, with the estimate.
    A job made with ``--manifest`` has it rewritten through ``manifests``
    (spaced out; the caller flushes it when idle), or at once without one.
    """
    job = store.claim(worker_id)
    if job is None:
        return None
    started = time.monotonic()
    try:
        # The signature recorded is the one read before decoding: if the file
        # changes while it is being read, the next add sees it as changed.
        with time_limit(job_timeout):
            made = make(
                job.source,
                job.options,
                rel_dir=job.rel_dir,
                max_memory=max_memory,
                still_held=lambda: _still_held(store, job.id, worker_id),
            )
    except ClaimLost as exc:
        # Its next owner records the outcome (this worker's would be refused).
        log.warning("%s", exc)
    except QueueLost:
        raise  # asked whether it still holds the job: the worker says it, once
    except JobTimedOut as exc:
        # Permanent: the same file takes as long next time. Not held against
        # the source either (a busier machine or a higher limit may manage).
        log.warning("failed: %s: %s", job.source, exc)
        _record(store.fail, job.id, worker_id, str(exc), source_fault=False)
    except SourceMissing as exc:
        log.info("vanished: %s", exc)
        _record(store.vanish, job.id, worker_id, str(exc))
    except ThumbgenError as exc:
        if exc.transient and job.attempts < policy.attempts:
            delay = policy.backoff(job.attempts)
            log.warning("retrying in %.0f s (try %d): %s", delay, job.attempts, exc)
            _record(store.retry_later, job.id, worker_id, str(exc), delay)
        else:
            log.warning("failed: %s", exc)
            _record(store.fail, job.id, worker_id, str(exc), source_fault=blames_source(exc))
    except KeyboardInterrupt:
        store.release(job.id, worker_id)
        raise
    except Exception as exc:
        log.exception("internal error on %s", job.source)
        error = (
            f"Internal error on {display_path(job.source)}: {type(exc).__name__}: {exc}"
            " (please report this)"
        )
        _record(store.fail, job.id, worker_id, error)
    else:
        _done(store, job, worker_id, made, manifests)
        log.info(
            "done %s -> %d thumbnail(s) in %.0f ms",
            job.source,
            len(made.thumbnails),
            (time.monotonic() - started) * 1000,
        )
    return job


def _done(
    store: JobStore, job: Job, worker_id: str, made: Made, manifests: ManifestWriter | None
) -> None:
    """Record a job done with what was made and read, and see to its manifest."""
    outputs = [t.path for t in made.thumbnails]
    read = made.source
    learnt = info(made, job.options)
    _record(
        store.finish, job.id, worker_id, outputs, read.size, read.mtime_ns, read.version, learnt
    )
    if job.options.manifest and manifests is not None:
        manifests.finished(store, job.options.manifest)
    elif job.options.manifest:
        refresh_manifest(store, job.options.manifest)


def _still_held(store: JobStore, job_id: int, worker_id: str) -> bool:
    """Whether this worker still runs the job; yes when the queue cannot say right now.

    The check only narrows a race (a lapsed claim storing over its next
    owner's thumbnails); a queue that is locked, out of reach or refusing for
    a moment must not stop thumbnails being stored (nor fail the job), as it
    did not before the check. A lost queue stops the worker, as everywhere.
    """
    try:
        return store.holds(job_id, worker_id)
    except QueueLost:
        raise
    except ThumbgenError:
        return True


def _record(outcome: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
    """Record a job's outcome, waiting out a locked queue however long it takes.

    Giving up would strand the job as running under a live worker; waiting
    keeps it this worker's until the lock goes. If the wait outlasts the
    lease, ``recover`` may hand the job to another worker meanwhile, and the
    store's owner check then makes this late outcome a no-op.
    """
    told = False
    while True:
        try:
            outcome(*args, **kwargs)
        except TransientError as exc:
            if not told:
                log.warning("%s; waiting to record the outcome", exc)
                told = True
            time.sleep(_RECORD_PAUSE)
            continue
        if told:
            log.warning("queue writable again; outcome recorded")
        return
