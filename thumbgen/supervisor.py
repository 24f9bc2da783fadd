"""Supervising processes: stop signals, and the workers that ``add --wait`` and ``watch`` run.

Embedded workers run as a separate ``thumbgen worker`` process in its own
session: a terminal's Ctrl-C reaches only the command the user typed, which
then forwards exactly one stop signal per Ctrl-C it received. The worker exits
by itself if that command dies (``--exit-with-parent``).

Every long-running command stops the same way (:class:`StopSignals`): the
first SIGINT, SIGTERM or SIGHUP finishes the running jobs, a second one stops
at once and the interrupted jobs go back to the queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from thumbgen.jobqueue.contract import Counts
from thumbgen.jobqueue.huey_app import Queue

from . import commands
from .errors import ExitCode, Interrupted, QueueError
from .options import Options
from .stopping import SHUTDOWN_TIMEOUT, StopSignals

if TYPE_CHECKING:
    from thumbgen.watch.config import WatchConfig
    from thumbgen.watch.watcher import Watcher, WatchStatus

#: Seconds without any live worker before ``add --wait`` starts its own.
_NO_WORKER_GRACE = 6.0
_TICK = 0.2


class EmbeddedWorkers:
    """A ``thumbgen worker`` child process with its log in a temporary file."""

    def __init__(
        self,
        location: str,
        workers: int,
        *,
        burst: bool,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    ) -> None:
        self.location = location
        self.workers = workers
        self.burst = burst
        self.shutdown_timeout = shutdown_timeout
        self.log_path = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the worker process."""
        fd, self.log_path = tempfile.mkstemp(prefix="thumbgen-worker-", suffix=".log")
        argv = [sys.executable, "-m", "thumbgen", "--queue", self.location, "worker"]
        argv += ["-w", str(self.workers), "--exit-with-parent"]
        argv += ["--shutdown-timeout", str(self.shutdown_timeout)]
        if self.burst:
            argv.append("--burst")
        with os.fdopen(fd, "wb") as log:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return None if self._proc is None else self._proc.poll()

    def signal_stop(self) -> None:
        """Ask the workers to stop; a second call makes them stop at once."""
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the process to end; its exit code, or None on timeout."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Last resort: kill the process (its children follow their parent)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def failure(self) -> QueueError:
        """The error to show when the workers ended on their own."""
        return QueueError(
            f"The worker processes stopped unexpectedly (exit code {self.returncode}); "
            f"their log is {self.log_path}"
        )

    def cleanup(self) -> None:
        """Remove the log if the workers ended well."""
        if self.returncode in (0, ExitCode.INTERRUPTED) and self.log_path:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)


def stop_workers(workers: EmbeddedWorkers, stop: StopSignals) -> None:
    """Stop ``workers`` gracefully, forwarding every further signal (the second means "now")."""
    workers.signal_stop()
    forwarded = max(stop.count, 1)
    deadline = time.monotonic() + workers.shutdown_timeout + 10
    while workers.wait(_TICK) is None:
        if stop.count > forwarded:
            workers.signal_stop()
            forwarded = stop.count
        if time.monotonic() > deadline:
            workers.kill()
            break
    workers.cleanup()


def wait_for_batch(
    queue: Queue,
    report: commands.AddReport,
    *,
    workers: int,
    on_update: Callable[[Counts, int], None],
    on_stopping: Callable[[], None],
) -> Counts:
    """Block until every job of ``report`` has finished, then return their counts.

    Starts ``workers`` embedded worker processes whenever no worker is alive.
    On a stop signal it lets running jobs finish, or stops them at once on a
    second one, then raises :class:`~thumbgen.errors.Interrupted`.
    """
    embedded: EmbeddedWorkers | None = None
    first = True
    lonely_since: float | None = None
    interrupted = False
    with StopSignals() as stop:
        try:
            for counts, live in commands.progress(queue, report, sleep=stop.event.wait):
                if stop.count:
                    interrupted = True
                    break
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
                        embedded = EmbeddedWorkers(queue.location, workers, burst=False)
                        embedded.start()
                first = False
            if not interrupted:
                return counts
            if embedded is not None:
                on_stopping()
                stop_workers(embedded, stop)
                embedded = None
            raise Interrupted("Interrupted; unfinished jobs stay queued")
        finally:
            if embedded is not None:
                embedded.signal_stop()
                if embedded.wait(60) is None:
                    embedded.kill()
                embedded.cleanup()


def run_watch(
    watcher: Watcher,
    workers: EmbeddedWorkers | None,
    *,
    on_status: Callable[[WatchStatus], None],
    on_stopping: Callable[[], None],
) -> None:
    """Watch until a stop signal, then raise :class:`~thumbgen.errors.Interrupted`.

    The first signal stops watching and lets the workers finish their running
    jobs; a second one stops them at once (their jobs go back to the queue).
    A watcher or worker that dies ends the command with its error instead of
    leaving a deaf watcher behind.
    """
    with StopSignals() as stop:
        try:
            if workers is not None:
                workers.start()
            watcher.start()
            while not stop.count:
                watcher.tick()
                if workers is not None and workers.returncode is not None:
                    raise workers.failure()
                on_status(watcher.status())
                stop.event.wait(_TICK)
        finally:
            watcher.stop()
            if workers is not None:
                if stop.count:
                    on_stopping()
                stop_workers(workers, stop)
    raise Interrupted("Stopped watching; queued files stay queued")


def watch(
    queue: Queue,
    config: WatchConfig,
    options: Options,
    *,
    workers: int,
    on_report: Callable[[commands.AddReport], None],
    on_hint: Callable[[str], None],
    on_status: Callable[[WatchStatus, commands.StatusReport], None],
    on_stopping: Callable[[], None],
) -> None:
    """``thumbgen watch``: queue what arrives under ``config.folders``, with ``workers`` running.

    Raises :class:`~thumbgen.errors.Interrupted` when stopped by a signal.
    """
    from thumbgen.watch.watcher import Watcher  # watchdog: only for watch

    config = dataclasses.replace(config, exclude=(*config.exclude, options.out_dir))
    watcher = Watcher(config, commands.arrivals(queue, options, on_report))
    for hint in watcher.hints():
        on_hint(hint)
    embedded = (
        EmbeddedWorkers(queue.location, workers, burst=False, shutdown_timeout=5.0)
        if workers
        else None
    )
    run_watch(
        watcher,
        embedded,
        on_status=lambda st: on_status(st, commands.status(queue, failures=0)),
        on_stopping=on_stopping,
    )
