"""Running ``thumbgen watch``: the watcher, its worker processes, and stopping cleanly.

Stop signals are handled explicitly rather than through KeyboardInterrupt: a
process started in the background from a script inherits SIGINT as ignored,
and Python then never raises KeyboardInterrupt (notes/watch.md section 5).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from thumbgen.errors import Interrupted
from thumbgen.supervisor import EmbeddedWorkers

from .watcher import Watcher, WatchStatus

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_TICK = 0.2


class _StopSignals:
    """Counts stop signals while installed; the main loop polls the count."""

    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        self.event.set()


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
    with _StopSignals() as stop:
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
                _stop_workers(workers, stop)
    raise Interrupted("Stopped watching; queued files stay queued")


def _stop_workers(workers: EmbeddedWorkers, stop: _StopSignals) -> None:
    workers.signal_stop()
    forwarded = 1
    deadline = time.monotonic() + workers.shutdown_timeout + 10
    while workers.wait(_TICK) is None:
        # Forward every further signal: the second one means "now".
        if stop.count > forwarded:
            workers.signal_stop()
            forwarded = stop.count
        if time.monotonic() > deadline:
            workers.kill()
            break
    workers.cleanup()
