"""Browsing and steering for the dashboard: pages of jobs, failure reasons, bulk actions.

The HTTP API's ``/jobs`` pages through the store by cursor (a job id, so a
page costs the same at any depth); bulk retries go a page of ids at a time,
so retrying a million failures never holds them all in memory.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from thumbgen.errors import UsageError
from thumbgen.jobqueue.contract import JobDetail, JobRecord, State

from .inspecting import job_dict

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

#: The states a clear may forget: jobs that will not run again unless asked.
FINISHED = (State.DONE, State.FAILED, State.CANCELLED, State.VANISHED)
#: Failed jobs retried per store call by :func:`retry_reason`.
RETRY_CHUNK = 1000


@dataclasses.dataclass(frozen=True)
class JobPage:
    """One page of jobs and the cursor of the next (None on the last page)."""

    jobs: list[JobRecord]
    next: int | None


def page(
    queue: Queue,
    *,
    state: State | None = None,
    query: str = "",
    error: str | None = None,
    cursor: int | None = None,
    newest_first: bool = True,
    limit: int = 50,
) -> JobPage:
    """The jobs after ``cursor`` in the order asked; one more is read to tell if a next exists."""
    found = queue.store.page(
        state=state,
        query=query.strip(),
        error=error,
        after=cursor,
        newest_first=newest_first,
        limit=limit + 1,
    )
    more = len(found) > limit
    jobs = found[:limit]
    return JobPage(jobs, jobs[-1].id if more else None)


def entry(job: JobRecord) -> dict[str, Any]:
    """A job as the dashboard lists it: ``jobs --json``'s fields, its label and its times."""
    data = job_dict(job)
    data["label"] = job.label or None
    data["queued_at"] = job.queued_at
    data["started_at"] = job.started_at
    data["finished_at"] = job.finished_at
    # A video's length and kind, for the gallery's tiles (the rest of info is the job view's).
    data["video"] = (job.info or {}).get("video")
    return data


def options_list(detail: JobDetail) -> list[dict[str, Any]]:
    """Each output a job asked for: size, fit, format and quality, as a request spells them."""
    return [
        {
            "size": spec.size.label,
            "fit": spec.fit.value,
            "format": spec.format.value,
            "quality": spec.quality,
        }
        for spec in detail.options.specs
    ]


def failure_reasons(queue: Queue, limit: int = 50) -> list[tuple[str, int]]:
    """Failed jobs grouped by their error line, most common first.

    Grouping reads every failed job (a second at 40,000 failures on Redis),
    and an open dashboard and a metrics scraper ask for it every few seconds.
    So the last answer is kept per open queue for as long as the failed jobs are
    the same ones: a job can join them only by failing, which raises the
    failed totals (never lowered), and leave them only by a retry, a clear or
    a new ``add``, which lowers the failed count. Either changes the key, in
    the same step as the change. It is kept at the longest limit asked for,
    so the dashboard (20), the API (50) and a scrape (1,000) share one pass.
    """
    store = queue.store
    totals = store.totals()
    key = (store.counts().failed, sum(n for k, n in totals.items() if k.startswith("failed")))
    cached = _REASONS.get(queue)
    if cached is not None and cached.key == key and cached.limit >= limit:
        return cached.reasons[:limit]
    longest = max(limit, cached.limit if cached is not None else 0)
    reasons = store.failure_reasons(longest)
    _REASONS[queue] = _Reasons(key, longest, reasons)
    return reasons[:limit]


@dataclasses.dataclass(frozen=True)
class _Reasons:
    """:func:`failure_reasons`' last answer for one queue: its key, its limit, the ranking."""

    key: tuple[int, int]
    limit: int
    reasons: list[tuple[str, int]]


#: Per open queue, not per location: a queue started afresh where another was
#: (a repair, a test's emptied Redis) may come to the same key.
_REASONS: weakref.WeakKeyDictionary[Queue, _Reasons] = weakref.WeakKeyDictionary()


def retry_reason(queue: Queue, reason: str | None = None) -> int:
    """Queue failed jobs again: every one, or those failed with exactly ``reason``."""
    if reason is None:
        return queue.store.retry()
    total = 0
    cursor: int | None = None
    while True:
        ids = [
            job.id
            for job in queue.store.page(
                state=State.FAILED, error=reason, after=cursor, limit=RETRY_CHUNK
            )
        ]
        if not ids:
            return total
        total += queue.store.retry(ids=ids)
        cursor = ids[-1]


def cancel_one(queue: Queue, job_id: int) -> int:
    """Cancel one queued job; 0 when it is not queued (running jobs are never cancelled)."""
    return queue.store.cancel(ids=[job_id])


def clear_finished(
    queue: Queue, states: Sequence[State] = FINISHED, *, older_than: float | None = None
) -> int:
    """Forget finished jobs in ``states`` (all four by default), as ``thumbgen clear`` does."""
    unfinished = [s.value for s in states if s not in FINISHED]
    if unfinished:
        raise UsageError(
            f"Only finished jobs are cleared, not {unfinished[0]}: "
            "use done, failed, cancelled or vanished"
        )
    return queue.store.clear(list(states) or list(FINISHED), older_than=older_than)


def label_uploads(queue: Queue, names: dict[str, str]) -> None:
    """Remember each stored upload's original file name (one line, shown, never a path)."""
    queue.store.set_labels({path: _one_line(name) for path, name in names.items() if name})


def _one_line(name: str) -> str:
    """A client's file name as a label: one line, at most 255 characters."""
    line = " ".join(name.replace("\r", "\n").split("\n")).strip()
    return line[:255]
