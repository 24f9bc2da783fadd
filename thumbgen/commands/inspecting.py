"""Looking at the queue: ``status``, ``jobs``, ``show``, and following a batch."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from thumbgen import outputs
from thumbgen.errors import QueueError
from thumbgen.jobqueue import policy
from thumbgen.jobqueue.backend import shown
from thumbgen.jobqueue.contract import Counts, Failure, JobDetail, JobRecord, State, WorkerInfo

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

    from .adding import AddReport


@dataclasses.dataclass(frozen=True)
class StatusReport:
    """What ``status`` shows."""

    queue: str
    counts: Counts
    workers: list[WorkerInfo]
    finished_last_minute: int
    failures: list[Failure]
    paused: bool = False
    #: Settings of the queue's server that put it at risk (Redis persistence off...).
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def stranded(self) -> int:
        """Running jobs that no live worker is running (their worker died).

        They go back to the queue at the next worker start; until then
        ``status`` should say so rather than show them as running.
        """
        return self.counts.running if not self.workers else 0

    def to_dict(self) -> dict[str, Any]:
        """The ``status --json`` object (and the HTTP API's ``/status``)."""
        c = self.counts
        return {
            "queue": self.queue,
            "paused": self.paused,
            "queued": c.queued,
            "running": c.running,
            "done": c.done,
            "failed": c.failed,
            "cancelled": c.cancelled,
            "vanished": c.vanished,
            "workers": len(self.workers),
            "stranded": self.stranded,
            "finished_last_minute": self.finished_last_minute,
            "worker_list": [dataclasses.asdict(w) for w in self.workers],
            "failures": [{"source": f.source, "error": f.error} for f in self.failures],
            "warnings": list(self.warnings),
        }


def status(queue: Queue, *, failures: int | None = 5) -> StatusReport:
    """Counts, live workers, throughput over the last minute and the newest failures."""
    store = queue.store
    now = time.time()
    return StatusReport(
        queue=shown(queue.location),
        counts=store.counts(),
        workers=alive_workers(queue, now),
        finished_last_minute=store.finished_since(now - 60),
        failures=store.failures(failures),
        paused=store.paused(),
        warnings=store.warnings(),
    )


def alive_workers(queue: Queue, now: float | None = None) -> list[WorkerInfo]:
    """Registered workers that are still running."""
    now = time.time() if now is None else now
    return [w for w in queue.store.workers() if policy.alive_here(w, now)]


def progress(
    queue: Queue,
    report: AddReport,
    *,
    interval: float = 0.25,
    sleep: Callable[[float], object] = time.sleep,
) -> Iterator[tuple[Counts, int]]:
    """Yield (counts of this add's jobs, live workers) until all of them have finished.

    Polls quickly at first and backs off to ``interval``: a small batch is
    done within milliseconds, and waiting a whole interval for it would be
    most of the command's time. ``sleep`` waits between polls; a caller
    passes an event's ``wait`` so that a stop signal ends the pause at once.
    """
    pause = 0.005
    while True:
        counts = queue.store.batch_counts(report.batch, report.submitted.pending_ids)
        yield counts, len(alive_workers(queue))
        if counts.queued + counts.running == 0:
            return
        sleep(pause)
        pause = min(pause * 1.5, interval)


def jobs(queue: Queue, *, state: State | None = None, limit: int | None = 50) -> list[JobRecord]:
    """Jobs in the order they were queued, optionally in one state."""
    return queue.store.jobs(state=state, limit=limit)


def show(queue: Queue, ref: str) -> JobDetail:
    """One job by id (a number) or by source path, with its attempts."""
    import os

    key: int | str = int(ref) if ref.isdigit() else os.path.abspath(ref)
    detail = queue.store.job(key)
    if detail is None and isinstance(key, int):
        detail = queue.store.job(os.path.abspath(ref))  # a file named "123"
    if detail is None:
        where = shown(queue.location)
        raise QueueError(f"No job {ref!r} in {where}; `thumbgen jobs` lists them")
    return detail


def job_dict(job: JobRecord, now: float | None = None) -> dict[str, Any]:
    """A job as ``jobs --json`` prints it."""
    now = time.time() if now is None else now
    return {
        "id": job.id,
        "source": job.source,
        "state": job.state.value,
        "attempts": job.attempts,
        "priority": job.priority,
        "age": round(now - job.queued_at, 3) if job.queued_at else None,
        "error": job.error,
        "outputs": list(job.outputs),
    }


def show_dict(detail: JobDetail) -> dict[str, Any]:
    """A job with its attempts, as ``show --json`` prints it."""
    data = job_dict(detail.job)
    data["sizes"] = [spec.size.label for spec in detail.options.specs]
    data["out_dir"] = detail.options.out_dir
    # The version the thumbnails were made from once done (an object's ETag),
    # the one queued before.
    data["source_size"] = detail.job.size
    data["source_version"] = detail.job.version or None
    data["attempt_list"] = [dataclasses.asdict(a) for a in detail.attempts]
    data["planned"] = [p.as_dict() for p in planned(detail)]
    # What the worker recorded once done: output sizes, bytes and hashes,
    # crop windows, the average colour and the placeholder (None before).
    data["info"] = detail.job.info
    return data


def media_lines(info: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``show``'s rows for what a done job recorded about a video or a PDF (none for images).

    ``("video", "12.5 s, h264, 1920x1080")``, ``("pdf", "3 pages, 612x792 pt")``, and
    with ``--animated`` ``("animation", "48 frames, 2.4 s, loops for ever")``.
    """
    rows: list[tuple[str, str]] = []
    video = (info or {}).get("video")
    if isinstance(video, dict):
        seconds = video.get("duration")
        length = f"{seconds:g} s" if isinstance(seconds, int | float) else "length unknown"
        size = f"{video.get('width')}x{video.get('height')}"
        rows.append(("video", f"{length}, {video.get('codec')}, {size}"))
    moving = (info or {}).get("animation")
    if isinstance(moving, dict):
        loop = moving.get("loop")
        plays = {None: "plays once", 0: "loops for ever"}.get(loop, f"plays {loop} times")
        rows.append(
            ("animation", f"{moving.get('frames')} frames, {moving.get('duration'):g} s, {plays}")
        )
    pdf = (info or {}).get("pdf")
    if isinstance(pdf, dict):
        pages = pdf.get("pages")
        noun = "page" if pages == 1 else "pages"
        rows.append(("pdf", f"{pages} {noun}, {pdf.get('width'):g}x{pdf.get('height'):g} pt"))
    return rows


def planned(detail: JobDetail) -> tuple[outputs.PlannedOutput, ...]:
    """The outputs a job's plan names (recorded ones may differ only in pixel size)."""
    return outputs.plan(detail.options, detail.job.source, detail.job.rel_dir).outputs
