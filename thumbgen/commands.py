"""The core of each command, as plain functions returning plain reports.

The CLI parses arguments, calls one function here and renders what comes
back; nothing in this module prints, exits or knows about the terminal.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Iterator, Sequence

from thumbgen.jobqueue import liveness
from thumbgen.jobqueue.contract import Counts, Failure, NewJob, State, SubmitResult, WorkerInfo
from thumbgen.jobqueue.huey_app import Queue

from .discover import Skipped, Source, discover
from .naming import render
from .options import Options

#: Sources per submit transaction: big enough to be fast, small enough that
#: no writer waits long (notes/huey.md section 2).
SUBMIT_CHUNK = 5000


@dataclasses.dataclass
class AddReport:
    """What ``add`` did."""

    batch: str
    submitted: SubmitResult
    skipped: list[Skipped]
    missing: list[Skipped]

    @property
    def queued(self) -> int:
        """Jobs queued by this call."""
        return self.submitted.queued

    @property
    def waiting_for(self) -> int:
        """Jobs ``--wait`` waits for: queued now or already pending."""
        return self.submitted.queued + len(self.submitted.pending_ids)


def add(
    queue: Queue,
    paths: Sequence[str],
    options: Options,
    *,
    force: bool = False,
    root: str | None = None,
) -> AddReport:
    """Queue one job per image found under ``paths`` (``{dir}`` measured from ``root``)."""
    batch = uuid.uuid4().hex
    report = AddReport(batch, SubmitResult(), [], [])
    chunk: list[NewJob] = []
    store = queue.store
    for item in discover(paths, exclude=[options.out_dir], root=root):
        if isinstance(item, Skipped):
            (report.missing if item.missing else report.skipped).append(item)
            continue
        chunk.append(
            NewJob(item.path, item.rel_dir, item.size, item.mtime_ns, target(item, options))
        )
        if len(chunk) >= SUBMIT_CHUNK:
            report.submitted.merge(store.submit(chunk, options, batch=batch, force=force))
            chunk = []
    report.submitted.merge(store.submit(chunk, options, batch=batch, force=force))
    return report


def target(source: Source, options: Options) -> str:
    """The output pattern of ``source``: its outputs whatever their size and format.

    Two sources with one target (``a.jpg`` and ``a.png`` side by side, or the
    same names under two folders added separately) would overwrite each
    other's thumbnails; the store refuses the second.
    """
    name = render(
        options.name,
        source=source.path,
        rel_dir=source.rel_dir,
        size_label="*",
        width="*",
        height="*",
        ext="*",
    )
    return os.path.join(options.out_dir, name)


@dataclasses.dataclass(frozen=True)
class StatusReport:
    """What ``status`` shows."""

    queue: str
    counts: Counts
    workers: list[WorkerInfo]
    finished_last_minute: int
    failures: list[Failure]


def status(queue: Queue, *, failures: int | None = 5) -> StatusReport:
    """Counts, live workers, throughput over the last minute and the newest failures."""
    store = queue.store
    now = time.time()
    return StatusReport(
        queue=queue.location,
        counts=store.counts(),
        workers=alive_workers(queue, now),
        finished_last_minute=store.finished_since(now - 60),
        failures=store.failures(failures),
    )


def alive_workers(queue: Queue, now: float | None = None) -> list[WorkerInfo]:
    """Registered workers that are still running."""
    now = time.time() if now is None else now
    return [
        w
        for w in queue.store.workers()
        if liveness.is_alive(w.host, w.pid, w.proc_start, w.heartbeat, now)
    ]


def progress(
    queue: Queue, report: AddReport, *, interval: float = 0.25
) -> Iterator[tuple[Counts, int]]:
    """Yield (counts of this add's jobs, live workers) until all of them have finished."""
    while True:
        counts = queue.store.batch_counts(report.batch, report.submitted.pending_ids)
        yield counts, len(alive_workers(queue))
        if counts.queued + counts.running == 0:
            return
        time.sleep(interval)


def retry(queue: Queue) -> int:
    """Queue every failed job again; return how many."""
    return queue.store.retry_failed()


def clear(queue: Queue, states: Sequence[State]) -> int:
    """Forget jobs in ``states``; return how many."""
    return queue.store.clear(states)
