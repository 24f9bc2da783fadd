"""What ``watch`` does with the files that arrive (queue them as one batch, follow it)
and, with ``--mirror-deletes``, with those that go (their thumbnails go too)."""

from __future__ import annotations

import dataclasses
import logging
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from thumbgen import locations
from thumbgen.jobqueue.contract import Counts, Failure, State
from thumbgen.naming import relative_dir
from thumbgen.options import Options

from .adding import AddReport, add, submit_found
from .inspecting import alive_workers

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue
    from thumbgen.storage import Entry, Storage

log = logging.getLogger("thumbgen.watch")


@dataclasses.dataclass(frozen=True)
class WatchProgress:
    """A snapshot of one watch's jobs for its status line."""

    counts: Counts
    workers: int
    #: Failures among its jobs since the last snapshot.
    failures: list[Failure]


class WatchSession:
    """The files one ``watch`` queued: its own counts and its new failures.

    Every arrival is queued under one batch, so the status line counts this
    watch's arrivals rather than the whole queue, and each failure among
    them is reported once.
    """

    def __init__(self, queue: Queue, options: Options, *, priority: int = 0) -> None:
        self.queue = queue
        self.options = options
        self.priority = priority
        self.batch = uuid.uuid4().hex
        #: Jobs that were already queued or running when their file arrived.
        self._pending: list[int] = []
        self._reported: set[tuple[str, float]] = set()
        #: Thumbnails removed because their source went (``--mirror-deletes``).
        self.removed = 0

    def arrived(self, root: str, paths: list[str]) -> AddReport:
        """Queue files that have completely arrived under ``root``."""
        report = add(
            self.queue, paths, self.options, root=root, priority=self.priority, batch=self.batch
        )
        self._pending.extend(report.submitted.pending_ids)
        return report

    def arrived_objects(self, store: Storage, entries: list[Entry]) -> AddReport:
        """Queue objects a listing of ``store`` found new or changed; ``{dir}`` is their folder."""
        from .discovery import objects  # Pillow, for objects not named as images

        found = objects(store, entries, exclude=[self.options.out_dir])
        report = submit_found(
            self.queue, found, self.options, priority=self.priority, batch=self.batch
        )
        self._pending.extend(report.submitted.pending_ids)
        return report

    def gone(self, root: str, paths: list[str]) -> list[str]:
        """Sources under ``root`` that were deleted or renamed away: mirror that in the output.

        Their queued jobs end vanished and the thumbnails they made are
        removed. A source whose job is running is left for now and returned,
        for the watcher to hand over again: its thumbnails are still to come.
        A path that exists again (re-created, renamed back) is left alone.
        """
        from thumbgen import storage

        from . import mirroring  # storage: only once a source has gone

        away = [p for p in paths if not _exists(p, storage.exists)]
        if not away:
            return []

        store = self.queue.store
        store.cancel(sources=away, vanished=True)
        later: list[str] = []
        listings: dict[str, list[str]] = {}
        for path in away:
            detail = store.job(path)
            if detail is not None and detail.job.state is State.RUNNING:
                later.append(path)
                continue
            recorded = detail.job.outputs if detail is not None else ()
            if locations.is_path(path):
                rel_dir = relative_dir(path, root)
            else:
                rel_dir = path.removeprefix(root).rpartition("/")[0]
            thumbs = mirroring.thumbnails_of(path, rel_dir, self.options, recorded, listings)
            n = mirroring.remove(thumbs, self.options.out_dir)
            if n:
                log.info("removed %d thumbnail(s) of %s (source gone)", n, path)
            self.removed += n
        if self.options.manifest:
            from .manifest import refresh

            refresh(store, self.options.manifest)  # the gone sources drop out
        return later

    def counts(self) -> Counts:
        """This watch's jobs per state."""
        return self.queue.store.batch_counts(self.batch, self._pending)

    def new_failures(self) -> list[Failure]:
        """Failures among this watch's jobs not returned before."""
        fresh = []
        for failure in self.queue.store.batch_failures(self.batch, self._pending):
            key = (failure.source, failure.finished_at)
            if key not in self._reported:
                self._reported.add(key)
                fresh.append(failure)
        return fresh

    def progress(self) -> WatchProgress:
        """Counts, live workers and new failures, for the status line."""
        return WatchProgress(self.counts(), len(alive_workers(self.queue)), self.new_failures())


def _exists(location: str, stored: Callable[[str], bool]) -> bool:
    """Whether a source is there again: the path itself (even a dangling link), or the object."""
    return os.path.lexists(location) if locations.is_path(location) else stored(location)
