"""The per-job time limit: a try that runs too long is ended, its worker carries on.

A worker process runs one job at a time in its main thread, so the limit is
an interval timer whose SIGALRM raises :class:`JobTimedOut` wherever the job
is: between the chunks Pillow decodes, or out of a blocking system call
(Python retries an interrupted call only if the handler did not raise).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: Default seconds per job: room for the slowest legitimate photo, not for a
#: hostile file that decodes for minutes.
JOB_TIMEOUT = 60.0


class JobTimedOut(BaseException):
    """A job ran past its time limit.

    A BaseException, so that no ``except Exception`` on the way (a decoder's
    fallback, an error translator) can swallow it as a bad file.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def __str__(self) -> str:
        return f"Took longer than the {self.seconds:g} s time limit (--job-timeout); stopped"


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`JobTimedOut` in this block once ``seconds`` pass (0: no limit).

    Only the main thread receives signals; elsewhere the block runs unlimited.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise JobTimedOut(seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
