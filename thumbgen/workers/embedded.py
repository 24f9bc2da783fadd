"""Worker processes forked from a running command: ``add --wait``, ``watch`` and ``serve``.

They are forked from the command that is already running (its imports done)
into a session of their own: a terminal's Ctrl-C reaches only the command
the user typed, which forwards the stop (:mod:`thumbgen.workers.supervisor`). They
exit by themselves if that command dies, and write a byte into a pipe after
every job outcome, so that whoever waits for a batch wakes at once.
"""

from __future__ import annotations

import contextlib
import json
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
from typing import Any, NoReturn

from thumbgen.errors import ExitCode, QueueError, QueueLost

from .stopping import SHUTDOWN_TIMEOUT, StopSignals

#: Longest a wait for the group's end goes without looking again.
TICK = 0.2
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
        """Start the worker processes.

        The worker code (Huey's consumer: 70 ms of imports) is imported in
        the child, which does it on the other core while this process goes
        on, say finding the rest of an ``add``'s files.
        """
        # Job outcomes wake the waiting command at once instead of at its next
        # poll; the write end never blocks a worker (a full pipe wakes anyway).
        news, news_w = os.pipe()
        os.set_blocking(news, False)
        os.set_blocking(news_w, False)
        config = {
            "workers": self.workers,
            "burst": self.burst,
            "exit_with_parent": True,
            "shutdown_timeout": self.shutdown_timeout,
            "news_fd": news_w,
        }
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
                select.select([self._pidfd], [], [], TICK if left is None else min(left, TICK))
            else:
                time.sleep(pause if left is None else min(pause, left))
                pause = min(pause * 2, 0.05)
        return self._status

    def sleep_for_news(self, seconds: float, stop: threading.Event, outcomes: int = 1) -> None:
        """Sleep up to ``seconds``; less once ``outcomes`` jobs have ended or a stop signal came.

        Each byte in the pipe is one outcome. A byte may belong to a job the
        last poll already counted (it is written after the outcome is stored),
        which only makes the next poll come early, never late.
        """
        deadline = time.monotonic() + seconds
        heard = 0
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._news is None:
                stop.wait(max(0.0, left))
                return
            ready, _, _ = select.select([self._news], [], [], min(left, _SIGNAL_CHECK))
            if ready:
                with contextlib.suppress(OSError):
                    heard += len(os.read(self._news, 65536))
                if heard >= outcomes:
                    return

    def stop(self, timeout: float = 60.0) -> None:
        """Leaving on an error: ask the workers to stop, kill them after ``timeout``, clean up."""
        self.signal_stop()
        if self.wait(timeout) is None:
            self.kill()
        self.cleanup()

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


def _run_forked(location: str, config: dict[str, Any], log_fd: int) -> NoReturn:
    """The forked child: become a worker group of its own, then exit (never return)."""

    def run() -> int:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        # Fresh stream objects: another thread of the parent may have held
        # the old ones' locks at the moment of the fork.
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        if "obstore" in sys.modules:
            # The S3 client's runtime (tokio) has threads that the fork did
            # not copy, and would hang here: a fresh interpreter, same pid.
            os.set_inheritable(int(config["news_fd"]), True)
            args = [sys.executable, "-m", "thumbgen.workers.embedded", location]
            os.execv(sys.executable, [*args, json.dumps(config)])
        return _work(location, config)

    _exit_with(run)


def _exit_with(run: Callable[[], int]) -> NoReturn:
    """Exit with what ``run`` returns (1 and its traceback if it raised), output flushed."""
    code = 1
    try:
        code = run()
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _work(location: str, config: dict[str, Any]) -> int:
    """Run the worker group on ``location`` until done or stopped; the exit code."""
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
    from thumbgen.workers.config import WorkerConfig
    from thumbgen.workers.consumer import run_worker

    try:
        stopped = run_worker(open_queue(location), WorkerConfig(**config))
    except QueueLost as exc:
        logging.getLogger("thumbgen.worker").error("%s", exc)  # one line, not a traceback
        return int(ExitCode.ERROR)
    return int(ExitCode.INTERRUPTED if stopped else ExitCode.OK)


def stop_workers(workers: EmbeddedWorkers, stop: StopSignals) -> None:
    """Stop ``workers`` gracefully, forwarding every further signal (the second means "now")."""
    workers.signal_stop()
    forwarded = max(stop.count, 1)
    deadline = time.monotonic() + workers.shutdown_timeout + 10
    while workers.wait(TICK) is None:
        if stop.count > forwarded:
            workers.signal_stop()
            forwarded = stop.count
        if time.monotonic() > deadline:
            workers.kill()
            break
    workers.cleanup()


def _main(argv: list[str]) -> NoReturn:
    """The fresh interpreter of a fork that had to exec (see :func:`_run_forked`)."""
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - line by line to the log
    _exit_with(lambda: _work(argv[1], json.loads(argv[2])))


if __name__ == "__main__":
    _main(sys.argv)
