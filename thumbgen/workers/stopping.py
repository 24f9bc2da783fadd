"""Stopping long-running commands: one rule for ``worker``, ``add --wait`` and ``watch``.

The first SIGINT, SIGTERM or SIGHUP asks for a graceful stop (running jobs
finish); a second one stops at once, and the interrupted jobs go back to the
queue. Handlers are explicit for SIGINT too: a command started in the
background from a script inherits SIGINT as ignored, and Python would then
never raise KeyboardInterrupt (notes/watch.md section 5).

A stop signal also ends the process's waits for the queue
(:func:`~thumbgen.jobqueue.patience.give_up`): told to stop during a Redis
outage, a command stops now, not when Redis comes back.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from thumbgen.jobqueue import patience

#: What every command says when the first stop signal arrives.
STOPPING_MESSAGE = "Stopping: finishing running jobs (Ctrl-C again to stop at once)"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Default longest wait for running jobs after the first stop signal, in seconds.
SHUTDOWN_TIMEOUT = 30.0


class StopSignals:
    """Counts stop signals while installed: the first asks for a graceful stop.

    With ``grace=None`` signals are only counted (the main loop polls
    :attr:`count` or waits on :attr:`event`); with ``grace=N`` the signal after
    the first N raises KeyboardInterrupt, which interrupts a blocking wait;
    later ones are only counted.
    """

    def __init__(self, *, grace: int | None = None, received: int = 0) -> None:
        self.grace = grace
        #: Signals so far; ``received`` counts one that came before this was installed.
        self.count = received
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        self.event.set()
        patience.give_up()
        # Once: a third signal would interrupt the stop the second one began
        # (Huey interrupting its workers) and end it in a traceback.
        if self.grace is not None and self.count == self.grace + 1:
            raise KeyboardInterrupt
