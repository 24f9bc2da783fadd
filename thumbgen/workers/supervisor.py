"""Supervising processes: the workers that ``add --wait`` and ``watch`` run, and stopping.

Embedded workers (:mod:`.embedded`) sit in a session of their own: a
terminal's Ctrl-C reaches only the command the user typed, which then
forwards exactly one stop signal per Ctrl-C it received.

Every long-running command stops the same way
(:class:`~thumbgen.workers.stopping.StopSignals`): the first SIGINT, SIGTERM or
SIGHUP finishes the running jobs, a second one stops at once and the
interrupted jobs go back to the queue.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from thumbgen import commands, locations
from thumbgen.errors import Interrupted, SourceMissing, UsageError
from thumbgen.jobqueue.contract import Counts
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.messages import display_path
from thumbgen.options import Options

from . import start
from .embedded import TICK, EmbeddedWorkers, stop_workers
from .stopping import StopSignals

if TYPE_CHECKING:
    from thumbgen.storage import Entry, Storage
    from thumbgen.watch.config import WatchConfig, Watching, WatchStatus

#: Seconds without any live worker before ``add --wait`` starts its own.
_NO_WORKER_GRACE = 6.0
#: How a stopped ``add --wait`` ends, whether the stop came before its wait or during it.
_INTERRUPTED = "Interrupted; unfinished jobs stay queued"


class _Pace:
    """How ``add --wait`` sleeps between polls of its batch."""

    def __init__(self, stop: threading.Event, remaining: int) -> None:
        self.stop = stop
        #: Jobs of the batch not finished at the last poll.
        self.remaining = remaining
        self.embedded: EmbeddedWorkers | None = None

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or only until our workers have ended every job the last poll saw.

        Polls keep their own pace (each counts the whole batch); the wake-up
        makes the batch's end seen the moment its last job is stored, where
        a poll could come up to ``seconds`` late (about 0.1 s of a batch).
        """
        if self.embedded is not None:
            self.embedded.sleep_for_news(seconds, self.stop, outcomes=max(self.remaining, 1))
        else:
            self.stop.wait(seconds)


class WorkersOnDemand:
    """The workers of an ``add --wait``, started when its first jobs are queued.

    :meth:`start` is ``commands.add``'s ``on_queued``: the workers fork
    while the rest of the paths are still being read, unless live workers
    already serve the queue; :func:`wait_for_batch` then takes them over.
    A Ctrl-C before that wait began stops them as one during it would (the
    running jobs finish, a second Ctrl-C stops them at once) and raises
    :class:`~thumbgen.errors.Interrupted`; any other exception stops them.
    """

    def __init__(self, queue: Queue, workers: int, *, on_stopping: Callable[[], None]) -> None:
        self.queue = queue
        self.workers = workers
        self.on_stopping = on_stopping
        self.embedded: EmbeddedWorkers | None = None

    def start(self) -> None:
        """Start the workers unless some are alive (called once the first jobs are in)."""
        if self.embedded is None and not commands.alive_workers(self.queue):
            self.embedded = start(self.queue.location, self.workers)

    def __enter__(self) -> WorkersOnDemand:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None or self.embedded is None:
            return
        embedded, self.embedded = self.embedded, None
        if issubclass(kind, KeyboardInterrupt) and embedded.returncode is None:
            with StopSignals(received=1) as stop:
                self.on_stopping()
                stop_workers(embedded, stop)
            raise Interrupted(_INTERRUPTED) from None
        embedded.stop()


def wait_for_batch(
    queue: Queue,
    report: commands.AddReport,
    *,
    workers: int,
    on_update: Callable[[Counts, int], None],
    on_stopping: Callable[[], None],
    embedded: EmbeddedWorkers | None = None,
) -> Counts:
    """Block until every job of ``report`` has finished, then return their counts.

    Starts ``workers`` embedded worker processes whenever no worker is alive
    (``embedded``: those already started for this batch). On a stop signal it
    lets running jobs finish, or stops them at once on a second one, then
    raises :class:`~thumbgen.errors.Interrupted`.
    """
    first = embedded is None
    lonely_since: float | None = None
    interrupted = False
    with StopSignals() as stop:
        pace = _Pace(stop.event, report.waiting_for)
        pace.embedded = embedded
        try:
            for counts, live in commands.progress(queue, report, sleep=pace.sleep):
                if stop.count:
                    interrupted = True
                    break
                pace.remaining = counts.queued + counts.running
                on_update(counts, live)
                if embedded is not None:
                    if embedded.returncode is not None and counts.queued + counts.running:
                        raise embedded.failure()
                elif live:
                    lonely_since = None
                else:
                    # Start at once if nobody is there; if outside workers vanish
                    # later, give them a few heartbeats before replacing them.
                    now = time.monotonic()
                    lonely_since = lonely_since or now
                    if first or now - lonely_since >= _NO_WORKER_GRACE:
                        embedded = start(queue.location, workers)
                        pace.embedded = embedded
                first = False
            if not interrupted:
                return counts
            if embedded is not None:
                on_stopping()
                stop_workers(embedded, stop)
                embedded = None
            raise Interrupted(_INTERRUPTED)
        finally:
            if embedded is not None:
                embedded.stop()


def run_watch(
    watcher: Watching,
    location: str,
    workers: int,
    *,
    on_status: Callable[[WatchStatus], None],
    on_stopping: Callable[[], None],
) -> None:
    """Watch, with ``workers`` worker processes on the queue at ``location``, until a stop signal.

    Then raises :class:`~thumbgen.errors.Interrupted`. The first signal
    stops watching and lets the workers finish their running jobs; a second
    one stops them at once (their jobs go back to the queue). A watcher or
    worker that dies ends the command with its error instead of leaving a
    deaf watcher behind.
    """
    embedded: EmbeddedWorkers | None = None
    with StopSignals() as stop:
        try:
            if workers:
                # A short grace: watch is stopped by hand, and waits visibly.
                embedded = start(location, workers, shutdown_timeout=5.0)
            watcher.start()
            while not stop.count:
                watcher.tick()
                if embedded is not None and embedded.returncode is not None:
                    raise embedded.failure()
                on_status(watcher.status())
                stop.event.wait(TICK)
        finally:
            watcher.stop()
            if embedded is not None:
                if stop.count:
                    on_stopping()
                stop_workers(embedded, stop)
    raise Interrupted("Stopped watching; queued files stay queued")


def watch(
    queue: Queue,
    config: WatchConfig,
    options: Options,
    *,
    workers: int,
    priority: int = 0,
    on_report: Callable[[commands.AddReport], None],
    on_hint: Callable[[str], None],
    on_status: Callable[[WatchStatus, commands.WatchProgress], None],
    on_stopping: Callable[[], None],
) -> None:
    """``thumbgen watch``: queue what arrives under ``config.folders``, with ``workers`` running.

    Raises :class:`~thumbgen.errors.Interrupted` when stopped by a signal.
    """
    for folder in config.folders:
        # A missing folder is a missing PATH, exit 1 as for ``add``; one that
        # is a file is refused by the watcher as a usage error.
        if locations.is_path(folder) and not os.path.lexists(folder):
            raise SourceMissing(f"Cannot watch {display_path(folder)}: no such file or folder")
    commands.check_out_dir(options.out_dir)
    session = commands.WatchSession(queue, options, priority=priority)
    config = dataclasses.replace(config, exclude=(*config.exclude, options.out_dir))
    on_gone = session.gone if config.mirror_deletes else None
    watcher: Watching
    if _buckets(config.folders):
        from thumbgen.watch.bucket import BucketWatcher  # storage: only for buckets

        def on_objects(store: Storage, entries: list[Entry]) -> None:
            on_report(session.arrived_objects(store, entries))

        watcher = BucketWatcher(config, on_objects, on_gone)
    else:
        from thumbgen.watch.watcher import Watcher  # watchdog: only for folders

        def on_ready(root: str, paths: list[str]) -> None:
            on_report(session.arrived(root, paths))

        watcher = Watcher(config, on_ready, on_gone)
    for hint in watcher.hints():
        on_hint(hint)
    # The status line redraws a few times a second; the batch queries behind
    # it need not run that often.
    latest: list[tuple[float, commands.WatchProgress]] = []

    def status(st: WatchStatus) -> None:
        now = time.monotonic()
        if not latest or now - latest[0][0] >= 1.0:
            latest[:] = [(now, session.progress())]
        on_status(st, latest[0][1])
        # Each failure is handed over once, with the snapshot that found it.
        latest[0] = (latest[0][0], dataclasses.replace(latest[0][1], failures=[]))

    run_watch(watcher, queue.location, workers, on_status=status, on_stopping=on_stopping)


def _buckets(folders: Sequence[str]) -> bool:
    """True when every watched location is a bucket prefix, False when every one is a folder."""
    kinds = {locations.is_path(f) for f in folders}
    if len(kinds) > 1:
        raise UsageError("Cannot watch folders and buckets in one command; run one watch for each")
    return kinds == {False}
