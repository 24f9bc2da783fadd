"""The end of waiting: one switch per process that stops every wait for the queue.

A worker waits out an outage (Redis gone for up to ``THUMBGEN_REDIS_RECONNECT``
seconds, an hour by default; a locked SQLite file for as long as it is
locked), so a restart of the queue costs time, not work. A stop request
must end that wait: a worker told to stop, or whose command was killed,
would otherwise linger for the hour. Nothing is lost by giving up: a job
whose outcome could not be recorded is still running under a lease that
expires, and the next worker requeues it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_GIVEN_UP = threading.Event()
#: Other signs of a stop, polled while waiting (a worker process's stop flag,
#: which its parent sets from another process).
_CHECKS: list[Callable[[], bool]] = []
#: How often those are polled during a pause, in seconds.
_POLL = 0.1


def give_up() -> None:
    """End every wait for the queue in this process now, and fail every later one at once.

    Only waiting stops: a step the queue answers still succeeds.
    """
    _GIVEN_UP.set()


def give_up_when(check: Callable[[], bool]) -> None:
    """Also stop waiting once ``check()`` is true (checked every 0.1 s while waiting)."""
    _CHECKS.append(check)


def given_up() -> bool:
    """Whether this process has stopped waiting for the queue."""
    return _GIVEN_UP.is_set() or any(check() for check in _CHECKS)


def pause(seconds: float) -> bool:
    """Sleep ``seconds``, or less if waiting ends meanwhile; False once it has ended."""
    deadline = time.monotonic() + seconds
    while not given_up():
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        _GIVEN_UP.wait(min(left, _POLL) if _CHECKS else left)
    return False
