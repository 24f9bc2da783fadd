"""Workers: the processes that take jobs off the queue and make the thumbnails.

- ``consumer``: ``thumbgen worker``, a Huey consumer made to never lose or strand a job;
- ``runner``: what a worker does with a token (claim, thumbnail, record), with
  ``limits`` (the per-job time limit) and ``retry`` (backoff);
- ``embedded``: worker processes forked from a running command (``add --wait``,
  ``watch``, ``serve``);
- ``supervisor``: waiting for a batch and watching with embedded workers beside;
- ``stopping``: the one rule every long-running command stops by;
- ``config``: a worker group's settings.

The front ends start workers through :func:`start` (beside a running
command: ``add --wait``, ``watch``, ``serve``) or :func:`run` (in the
foreground: ``thumbgen worker``); they know nothing of the worker's insides.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .stopping import SHUTDOWN_TIMEOUT

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

    from .config import WorkerConfig
    from .embedded import EmbeddedWorkers, stop_workers

__all__ = ["EmbeddedWorkers", "WorkerConfig", "run", "start", "stop_workers"]

#: Names imported on first use: every command imports ``workers.stopping``
#: (so this package), and most never start a worker.
_LAZY = {
    "EmbeddedWorkers": ".embedded",
    "stop_workers": ".embedded",
    "WorkerConfig": ".config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thumbgen.workers' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def start(
    location: str, count: int, *, shutdown_timeout: float = SHUTDOWN_TIMEOUT
) -> EmbeddedWorkers:
    """Start ``count`` worker processes on the queue at ``location``, beside this command.

    They are forked from this process into a session of their own and exit
    if it dies; stop them with :func:`stop_workers` (running jobs finish, a
    second signal stops them at once).
    """
    from .embedded import EmbeddedWorkers

    workers = EmbeddedWorkers(location, count, burst=False, shutdown_timeout=shutdown_timeout)
    workers.start()
    return workers


def run(queue: Queue, config: WorkerConfig) -> bool:
    """Run workers on ``queue`` in the foreground until done or stopped; True if stopped."""
    # Huey's consumer and Pillow: imported by the worker command only.
    from .consumer import run_worker

    return run_worker(queue, config)
