"""Throughput: jobs finished per minute over the last few minutes (the dashboard's chart)."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from thumbgen.errors import UsageError

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

#: Minutes the dashboard shows by default, and the most anyone may ask for
#: (each minute is one store query).
DEFAULT_MINUTES = 15
MAX_MINUTES = 60


@dataclasses.dataclass(frozen=True)
class Throughput:
    """Jobs finished (done or failed) per minute, oldest minute first.

    Minute ``i`` of ``n`` covers ``[until - (n - i) * 60, until - (n - i - 1) * 60)``:
    a rolling window that ends now, so the newest minute is the same number
    as ``status``'s ``finished_last_minute``.
    """

    until: float
    minutes: list[int]

    def to_dict(self) -> dict[str, Any]:
        """The ``GET /throughput`` object."""
        return {"until": self.until, "minutes": list(self.minutes)}


def throughput(
    queue: Queue, minutes: int = DEFAULT_MINUTES, *, now: float | None = None
) -> Throughput:
    """Jobs finished in each of the last ``minutes`` minutes before ``now``.

    Counts come from the store's ``finished_since`` at each minute's edge
    (an indexed count on SQLite, one ZCOUNT on Redis), newest edge first: a
    job that finishes between two of those queries is then counted in an
    older minute than its own, never twice and never as a negative count.
    A job retried and finished again counts once, at its latest finish.
    """
    if not 1 <= minutes <= MAX_MINUTES:
        raise UsageError(f"minutes must be between 1 and {MAX_MINUTES}, not {minutes}")
    until = time.time() if now is None else now
    store = queue.store
    # since[k] = jobs finished at or after the edge k minutes before `until`.
    since = [store.finished_since(until - 60 * k) for k in range(minutes + 1)]
    newest_first = [max(0, since[k + 1] - since[k]) for k in range(minutes)]
    return Throughput(until=until, minutes=newest_first[::-1])
