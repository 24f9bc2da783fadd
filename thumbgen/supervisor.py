"""Worker processes that ``add --wait`` and ``watch`` run for their own duration.

They run as a separate ``thumbgen worker`` process in its own session: a
terminal's Ctrl-C reaches only the command the user typed, which then
forwards exactly one stop signal per Ctrl-C it received. The worker exits by
itself if that command dies (``--exit-with-parent``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from thumbgen.jobqueue.contract import Counts
from thumbgen.jobqueue.huey_app import Queue

from . import commands
from .errors import ExitCode, Interrupted, QueueError

#: Seconds without any live worker before ``add --wait`` starts its own.
_NO_WORKER_GRACE = 6.0


class EmbeddedWorkers:
    """A ``thumbgen worker`` child process with its log in a temporary file."""

    def __init__(
        self, location: str, workers: int, *, burst: bool, shutdown_timeout: float = 30.0
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
    On Ctrl-C (KeyboardInterrupt) it lets running jobs finish, or stops them
    at once on a second Ctrl-C, then raises :class:`Interrupted`.
    """
    with _interrupting_signals():
        return _wait(queue, report, workers, on_update, on_stopping)


def _wait(
    queue: Queue,
    report: commands.AddReport,
    workers: int,
    on_update: Callable[[Counts, int], None],
    on_stopping: Callable[[], None],
) -> Counts:
    embedded: EmbeddedWorkers | None = None
    first = True
    lonely_since: float | None = None
    try:
        for counts, live in commands.progress(queue, report):
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
        return counts
    except KeyboardInterrupt:
        if embedded is not None:
            on_stopping()
            embedded.signal_stop()
            try:
                embedded.wait()
            except KeyboardInterrupt:
                embedded.signal_stop()
                if embedded.wait(10) is None:
                    embedded.kill()
        raise Interrupted("Interrupted; unfinished jobs stay queued") from None
    finally:
        if embedded is not None:
            embedded.signal_stop()
            if embedded.wait(60) is None:
                embedded.kill()
            embedded.cleanup()


@contextlib.contextmanager
def _interrupting_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt while waiting: one clean stop for both.

    Explicit for SIGINT too: a command started in the background from a
    script inherits SIGINT as ignored, and would otherwise not stop on it.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
