"""Supervising processes: the workers that ``add --wait`` and ``watch`` run, and stopping.

Embedded workers are forked from the running command (its imports already
done) into a session of their own: a terminal's Ctrl-C reaches only the
command the user typed, which then forwards exactly one stop signal per
Ctrl-C it received. The workers exit by themselves if that command dies.

Every long-running command stops the same way
(:class:`~thumbgen.stopping.StopSignals`): the first SIGINT, SIGTERM or
SIGHUP finishes the running jobs, a second one stops at once and the
interrupted jobs go back to the queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

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
#: Longest a wait for news goes without looking at the stop signals.
_SIGNAL_CHECK = 0.05


class EmbeddedWorkers:
    """Worker processes forked from this one, in a session of their own, logging to a file.

    Forking from the command that is already running (its imports done)
    costs a few milliseconds; a fresh ``thumbgen worker`` interpreter cost
    about 0.4 s of every ``add --wait``.
    """

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
        self._pid: int | None = None
        self._status: int | None = None
        #: Read end of the pipe the workers write a byte into after every job.
        self._news: int | None = None
        #: A pidfd of the worker group: readable once it has ended (Linux).
        self._pidfd: int | None = None

    def start(self) -> None:
        """Start the worker processes."""
        # Imported before the fork, so that the child starts with it loaded.
        from thumbgen.jobqueue.worker import WorkerConfig, preload

        preload()
        # Job outcomes wake the waiting command at once instead of at its next
        # poll; the write end never blocks a worker (a full pipe wakes anyway).
        news, news_w = os.pipe()
        os.set_blocking(news, False)
        os.set_blocking(news_w, False)
        config = WorkerConfig(
            workers=self.workers,
            burst=self.burst,
            exit_with_parent=True,
            shutdown_timeout=self.shutdown_timeout,
            news_fd=news_w,
        )
        fd, self.log_path = tempfile.mkstemp(prefix="thumbgen-worker-", suffix=".log")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns here
            os.close(news)
            _run_forked(self.location, config, fd)
        os.close(fd)
        os.close(news_w)
        self._pid, self._news = pid, news
        with contextlib.suppress(AttributeError, OSError):
            self._pidfd = os.pidfd_open(pid)

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended, else None."""
        if self._pid is None:
            return None
        if self._status is None:
            done, status = os.waitpid(self._pid, os.WNOHANG)
            if done:
                self._status = os.waitstatus_to_exitcode(status)
        return self._status

    def signal_stop(self) -> None:
        """Ask the workers to stop; a second call makes them stop at once."""
        if self._pid is not None and self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGINT)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the process to end; its exit code, or None on timeout."""
        if self._pid is None:
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.002
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            if self._pidfd is not None:
                # Woken the moment the group ends; the tick bounds a lost wake-up.
                select.select([self._pidfd], [], [], _TICK if left is None else min(left, _TICK))
            else:
                time.sleep(pause if left is None else min(pause, left))
                pause = min(pause * 2, 0.05)
        return self._status

    def sleep_for_news(self, seconds: float, stop: threading.Event) -> None:
        """Sleep up to ``seconds``; less when a job has finished or a stop signal came."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._news is None:
                stop.wait(max(0.0, left))
                return
            ready, _, _ = select.select([self._news], [], [], min(left, _SIGNAL_CHECK))
            if ready:
                with contextlib.suppress(OSError):
                    os.read(self._news, 65536)
                return

    def kill(self) -> None:
        """Last resort: kill the process (its children follow their parent)."""
        if self._pid is not None and self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self.wait()

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
        for fd in (self._news, self._pidfd):
            if fd is not None and self.returncode is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self.returncode is not None:
            self._news = self._pidfd = None


def _run_forked(location: str, config: Any, log_fd: int) -> NoReturn:
    """The forked child: become a worker group of its own, then exit (never return)."""
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        # Fresh stream objects: another thread of the parent may have held
        # the old ones' locks at the moment of the fork.
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        logging.basicConfig(
            level=logging.WARNING, format="%(asctime)s %(processName)s %(message)s", force=True
        )
        logging.getLogger("huey").setLevel(logging.ERROR)
        from thumbgen.jobqueue.backend import open_queue
        from thumbgen.jobqueue.worker import run_worker

        stopped = run_worker(open_queue(location), config)
        code = int(ExitCode.INTERRUPTED if stopped else ExitCode.OK)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


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


class _Pace:
    """How ``add --wait`` sleeps between polls of its batch."""

    def __init__(self, stop: threading.Event, workers: int, remaining: int) -> None:
        self.stop = stop
        self.workers = max(workers, 1)
        #: Jobs of the batch not finished at the last poll.
        self.remaining = remaining
        self.embedded: EmbeddedWorkers | None = None

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``; near the end, only until one of our workers finishes a job."""
        # Near the end every outcome may be the last one. Before that the
        # poll keeps its own pace: each poll counts the whole batch.
        if self.embedded is not None and self.remaining <= 2 * self.workers:
            self.embedded.sleep_for_news(seconds, self.stop)
        else:
            self.stop.wait(seconds)


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
        pace = _Pace(stop.event, workers, report.waiting_for)
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
                        embedded = EmbeddedWorkers(queue.location, workers, burst=False)
                        embedded.start()
                        pace.embedded = embedded
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
    priority: int = 0,
    on_report: Callable[[commands.AddReport], None],
    on_hint: Callable[[str], None],
    on_status: Callable[[WatchStatus, commands.WatchProgress], None],
    on_stopping: Callable[[], None],
) -> None:
    """``thumbgen watch``: queue what arrives under ``config.folders``, with ``workers`` running.

    Raises :class:`~thumbgen.errors.Interrupted` when stopped by a signal.
    """
    from thumbgen.watch.watcher import Watcher  # watchdog: only for watch

    commands.check_out_dir(options.out_dir)
    session = commands.WatchSession(queue, options, priority=priority)

    def on_ready(root: str, paths: list[str]) -> None:
        on_report(session.arrived(root, paths))

    config = dataclasses.replace(config, exclude=(*config.exclude, options.out_dir))
    watcher = Watcher(config, on_ready, session.gone if config.mirror_deletes else None)
    for hint in watcher.hints():
        on_hint(hint)
    embedded = (
        EmbeddedWorkers(queue.location, workers, burst=False, shutdown_timeout=5.0)
        if workers
        else None
    )
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

    run_watch(watcher, embedded, on_status=status, on_stopping=on_stopping)
