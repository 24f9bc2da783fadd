"""What ``GET /metrics`` reports about the queue, read from the store at scrape time.

The store keeps jobs per state, not a history of events: a cleared job is
forgotten and a retried one leaves ``failed``. So jobs done and failed are
reported as they stand now (gauges), not as counters, which Prometheus
requires never to go down; a counter kept by one server would also miss the
jobs finished by workers in other processes and machines. Job durations
come from the newest done jobs' own start and finish times, whoever ran them.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from thumbgen.jobqueue.contract import Counts, State

from .inspecting import alive_workers

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

#: Done jobs whose durations make the histogram (newest first, by job id).
RECENT_JOBS = 1000
#: Failure reasons read per scrape: enough for every class, bounded at any queue size.
REASONS = 1000
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


@dataclasses.dataclass(frozen=True)
class QueueMetrics:
    """One scrape's view of the queue."""

    counts: Counts
    workers: int
    finished_last_minute: int
    #: Failed jobs now, per reason class.
    failed_by_class: dict[str, int]
    #: Run times in seconds of up to :data:`RECENT_JOBS` newest done jobs.
    durations: list[float]
    paused: bool


def reason_class(reason: str) -> str:
    """The class of a failure reason: ``corrupt``, ``unsupported``... or ``other``."""
    for prefix, name in REASON_CLASSES:
        if reason.startswith(prefix):
            return name
    return "other"


def queue_metrics(queue: Queue) -> QueueMetrics:
    """Counts, live workers, failures by class and recent durations, as the store has them now."""
    store = queue.store
    now = time.time()
    by_class: dict[str, int] = {name: 0 for _, name in REASON_CLASSES} | {"other": 0}
    for reason, count in store.failure_reasons(REASONS):
        by_class[reason_class(reason)] += count
    recent = store.page(state=State.DONE, newest_first=True, limit=RECENT_JOBS)
    durations = [
        max(0.0, j.finished_at - j.started_at)
        for j in recent
        if j.started_at is not None and j.finished_at is not None
    ]
    return QueueMetrics(
        counts=store.counts(),
        workers=len(alive_workers(queue, now)),
        finished_last_minute=store.finished_since(now - 60),
        failed_by_class=by_class,
        durations=durations,
        paused=store.paused(),
    )
