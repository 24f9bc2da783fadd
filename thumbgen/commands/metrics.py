"""What ``GET /metrics`` reports about the queue, read from the store at scrape time.

Two views of finished work. Jobs per state (and failed jobs per reason
class) as they stand now are gauges: a cleared job is forgotten and a
retried one leaves ``failed``. Jobs done and failed ever are counters: the
store raises its totals (:meth:`~thumbgen.jobqueue.contract.JobStore.totals`)
in the same step that records each outcome, whichever worker on whichever
machine ran it, and nothing lowers them. Job durations come from the newest
done jobs' own start and finish times, whoever ran them.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from thumbgen.jobqueue.contract import Counts, State
from thumbgen.jobqueue.policy import REASON_CLASSES as REASON_CLASSES
from thumbgen.jobqueue.policy import reason_class as reason_class

from .browsing import failure_reasons
from .inspecting import alive_workers

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

#: Done jobs whose durations make the histogram (newest first, by job id).
RECENT_JOBS = 1000
#: Failure reasons read per scrape: enough for every class, bounded at any queue size.
REASONS = 1000


@dataclasses.dataclass(frozen=True)
class QueueMetrics:
    """One scrape's view of the queue."""

    counts: Counts
    workers: int
    finished_last_minute: int
    #: Failed jobs now, per reason class.
    failed_by_class: dict[str, int]
    #: Tries ever ended per outcome (``done``, ``vanished``, ``failed:CLASS``).
    totals: dict[str, int]
    #: Run times in seconds of up to :data:`RECENT_JOBS` newest done jobs.
    durations: list[float]
    paused: bool


def queue_metrics(queue: Queue) -> QueueMetrics:
    """Counts, live workers, failures by class and recent durations, as the store has them now."""
    store = queue.store
    now = time.time()
    by_class: dict[str, int] = {name: 0 for _, name in REASON_CLASSES} | {"other": 0}
    for reason, count in failure_reasons(queue, REASONS):
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
        totals=store.totals(),
        durations=durations,
        paused=store.paused(),
    )
