"""A worker's manifest rewrites, spaced out: at most one per interval, and one when idle.

A manifest is rebuilt whole from the queue's done jobs
(:func:`thumbgen.commands.manifest.refresh`), so its cost grows with the
batch: one rewrite per finished job made a batch quadratic. A worker
therefore rewrites when a job finishes only if its last rewrite of that
manifest is old enough (:data:`MIN_INTERVAL`, or ten times that rewrite's
own duration when longer, so rewriting never takes more than a tenth of a
worker's time), and otherwise leaves it pending until the next finish that
is due, the moment the worker runs out of work, or its shutdown.

Correctness does not depend on the timing: every rewrite reads the whole
queue, so the last one made after the last finish is exact, and each worker
makes one when it goes idle. A worker killed with a rewrite pending leaves
the manifest behind until another worker's next rewrite (the killed job's
retry makes one) or ``thumbgen manifest --write``: the same window as a
worker killed between a job and its rewrite, only longer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from thumbgen.errors import ThumbgenError
from thumbgen.jobqueue.contract import JobStore

log = logging.getLogger("thumbgen.worker")

#: Seconds between two rewrites of one manifest by one worker, at least.
MIN_INTERVAL = 1.0
#: A rewrite waits this many times the previous one's duration, when longer.
_COST_FACTOR = 10


def refresh_manifest(store: JobStore, manifest: str) -> bool:
    """Rewrite ``manifest`` from the queue; a failure is logged and False (the job stays done).

    The next rewrite (or ``thumbgen manifest --write``) makes it good.
    """
    from thumbgen.commands.manifest import refresh

    try:
        refresh(store, manifest)
    except ThumbgenError as exc:
        log.warning("manifest not updated (thumbgen manifest --write redoes it): %s", exc)
        return False
    return True


class ManifestWriter:
    """The manifests one worker feeds, each rewritten at most once per interval."""

    def __init__(
        self, min_interval: float = MIN_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._min_interval = min_interval
        self._clock = clock
        self._pending: set[str] = set()
        self._due: dict[str, float] = {}  # manifest -> when it may be rewritten again

    @property
    def pending(self) -> frozenset[str]:
        """The manifests with a finished job they do not list yet."""
        return frozenset(self._pending)

    def finished(self, store: JobStore, manifest: str) -> None:
        """A job made with ``--manifest manifest`` is done: rewrite now if due, else later."""
        self._pending.add(manifest)
        if self._clock() >= self._due.get(manifest, 0.0):
            self._write(store, manifest)

    def flush(self, store: JobStore) -> None:
        """Rewrite every pending manifest now (the worker is idle or stopping)."""
        for manifest in sorted(self._pending):
            self._write(store, manifest)

    def _write(self, store: JobStore, manifest: str) -> None:
        started = self._clock()
        # Pending no more even if it failed: retrying at every idle moment
        # would repeat the warning; the next finish tries again.
        self._pending.discard(manifest)
        refresh_manifest(store, manifest)
        took = self._clock() - started
        self._due[manifest] = started + max(self._min_interval, _COST_FACTOR * took)
