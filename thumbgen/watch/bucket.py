"""Watch ``s3://`` prefixes by listing them: what :class:`~thumbgen.watch.watcher.Watcher`
does for folders, for buckets, which send no events a process can subscribe to
without extra infrastructure (``serve``'s ``POST /events/s3`` takes the
notifications a bucket can send; this poller is the safety net for lost ones).

Each poll lists every watched prefix and hands over the objects that are new
or have a new ETag since the last listing: a listing of 100,000 unchanged
objects hands over nothing. An object is complete once it is listed (a PUT
or a multipart upload appears whole), so nothing needs to settle.

What was handed over before a restart is not kept here but in the queue: the
first listing hands over everything, and the queue's submit answers "up to
date" for each object whose job is done at the same ETag, so a restart queues
only what changed while thumbgen was stopped. A listing that fails part-way
is not taken as deletions: ``on_gone`` hears only of keys missing from a
complete listing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from thumbgen.errors import ThumbgenError
from thumbgen.storage import Entry, Storage, Unlisted, open_storage

from .config import BUCKET_POLL, WatchConfig, WatchStatus

log = logging.getLogger("thumbgen.watch")


class WatchError(ThumbgenError):
    """A watched prefix cannot be listed at the start."""


class BucketWatcher:
    """Poll prefixes; ``on_ready(store, entries)`` gets new and changed objects.

    ``on_gone(root, locations)``, if given, gets the ``s3://`` locations of
    objects that went, and returns those to offer again later (their job is
    running).
    """

    def __init__(
        self,
        config: WatchConfig,
        on_ready: Callable[[Storage, list[Entry]], None],
        on_gone: Callable[[str, list[str]], list[str]] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.poll = config.poll or BUCKET_POLL
        roots = tuple(f.rstrip("/") + "/" for f in config.folders)
        self._stores = {root: open_storage(root) for root in roots}
        self._on_ready = on_ready
        self._on_gone = on_gone
        self._clock = clock
        #: Per root: key -> ETag of every object handed over and still listed.
        self._known: dict[str, dict[str, str]] = {root: {} for root in roots}
        #: Per root: gone locations whose job was running, to offer again.
        self._gone_later: dict[str, list[str]] = {root: [] for root in roots}
        #: Per root: why its last listing failed (one log line per episode).
        self._failing: dict[str, str] = {}
        self._handed_over = 0
        self._last_scan: float | None = None
        self._next_poll = 0.0

    def start(self) -> None:
        """List every prefix once and hand over what is there.

        A prefix that cannot be listed at all now (no such bucket, no
        permission, no server) ends the watch before it begins, in one line.
        """
        for root, store in self._stores.items():
            for item in store.entries(recursive=False):
                if isinstance(item, Unlisted):
                    raise WatchError(f"Cannot watch {root}: {item.reason}")
                break
        self._poll()

    def stop(self) -> None:
        """Nothing runs in the background: polls happen in :meth:`tick`."""

    def tick(self) -> int:
        """List the prefixes when a poll is due; return how many objects were handed over."""
        if self._clock() < self._next_poll:
            return 0
        return self._poll()

    def status(self) -> WatchStatus:
        """A snapshot for the status line."""
        return WatchStatus(
            tuple(self._stores),
            f"listing every {self.poll:g} s",
            0,
            self._handed_over,
            self._last_scan,
        )

    def hints(self) -> list[str]:
        """No advice: a bucket is always polled."""
        return []

    def _poll(self) -> int:
        handed = 0
        for root, store in self._stores.items():
            handed += self._list(root, store)
        self._last_scan = time.time()
        self._next_poll = self._clock() + self.poll
        self._handed_over += handed
        return handed

    def _list(self, root: str, store: Storage) -> int:
        known = self._known[root]
        listed: dict[str, str] = {}
        fresh: list[Entry] = []
        failure = None
        entries = store.entries(exclude=self.config.exclude, recursive=self.config.recursive)
        for item in entries:
            if isinstance(item, Unlisted):
                failure = item.reason
                continue
            listed[item.key] = item.version
            if known.get(item.key) != item.version:
                fresh.append(item)
        self._report(root, failure)
        if fresh:
            self._on_ready(store, fresh)
            known.update((e.key, e.version) for e in fresh)
        if failure is None and self._on_gone is not None:
            went = [k for k in known if k not in listed]
            for key in went:
                del known[key]
            again, self._gone_later[root] = self._gone_later[root], []
            gone = [store.path(k) for k in went] + again
            if gone:
                self._gone_later[root] = self._on_gone(root, gone)
        elif failure is None:
            for key in [k for k in known if k not in listed]:
                del known[key]
        return len(fresh)

    def _report(self, root: str, failure: str | None) -> None:
        """One line when listing ``root`` starts failing, one when it works again."""
        before = self._failing.get(root)
        if failure is not None and failure != before:
            log.warning("cannot list %s: %s; trying again in %g s", root, failure, self.poll)
            self._failing[root] = failure
        elif failure is None and before is not None:
            log.warning("listing %s works again", root)
            del self._failing[root]
