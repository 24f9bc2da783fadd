"""The service layer: the core of each command, as plain functions returning plain data.

The CLI (and the HTTP server to come) parses its input, calls one function
here and renders what comes back; nothing in this module prints, exits or
knows about the terminal. Policy the front ends share lives here too: the
exit code of ``add``, which failures belong to a batch, what the watcher does
with a file that has arrived.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from thumbgen.jobqueue import liveness
from thumbgen.jobqueue.contract import Counts, Failure, NewJob, State, SubmitResult, WorkerInfo
from thumbgen.jobqueue.huey_app import Queue

from .errors import ExitCode
from .naming import render
from .options import Options

if TYPE_CHECKING:
    from .discover import Skipped, Source

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


def add_exit_code(report: AddReport, finished: Counts | None = None) -> ExitCode:
    """The exit code of ``add`` (``finished``: this batch's counts after ``--wait``).

    A PATH that matched nothing is an error (1) whatever else happened; a
    source that failed, now or before and unchanged since, makes it 3.
    """
    if report.missing:
        return ExitCode.ERROR
    if report.submitted.failed_before or (finished is not None and finished.failed):
        return ExitCode.SOME_FAILED
    return ExitCode.OK


def batch_failures(queue: Queue, report: AddReport) -> list[Failure]:
    """The failures among the jobs one ``add`` queued or found pending, oldest first."""
    return queue.store.batch_failures(report.batch, report.submitted.pending_ids)


def arrivals(
    queue: Queue, options: Options, on_report: Callable[[AddReport], None]
) -> Callable[[str, list[str]], None]:
    """The watcher's callback: queue the files that arrived under a root, then report."""

    def on_ready(root: str, paths: list[str]) -> None:
        on_report(add(queue, paths, options, root=root))

    return on_ready


def add(
    queue: Queue,
    paths: Sequence[str],
    options: Options,
    *,
    force: bool = False,
    root: str | None = None,
) -> AddReport:
    """Queue one job per image found under ``paths`` (``{dir}`` measured from ``root``)."""
    # Discovery sniffs files with Pillow: imported only by the commands that add.
    from .discover import Skipped, discover

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

    def to_dict(self) -> dict[str, Any]:
        """The ``status --json`` object (and the HTTP API's ``/status``)."""
        c = self.counts
        return {
            "queue": self.queue,
            "queued": c.queued,
            "running": c.running,
            "done": c.done,
            "failed": c.failed,
            "workers": len(self.workers),
            "finished_last_minute": self.finished_last_minute,
            "worker_list": [dataclasses.asdict(w) for w in self.workers],
            "failures": [{"source": f.source, "error": f.error} for f in self.failures],
        }


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
    queue: Queue,
    report: AddReport,
    *,
    interval: float = 0.25,
    sleep: Callable[[float], object] = time.sleep,
) -> Iterator[tuple[Counts, int]]:
    """Yield (counts of this add's jobs, live workers) until all of them have finished.

    ``sleep`` waits between polls; a caller passes an event's ``wait`` so that
    a stop signal ends the pause at once.
    """
    while True:
        counts = queue.store.batch_counts(report.batch, report.submitted.pending_ids)
        yield counts, len(alive_workers(queue))
        if counts.queued + counts.running == 0:
            return
        sleep(interval)


def retry(queue: Queue) -> int:
    """Queue every failed job again; return how many."""
    return queue.store.retry_failed()


def clear(queue: Queue, states: Sequence[State]) -> int:
    """Forget jobs in ``states``; return how many."""
    return queue.store.clear(states)
