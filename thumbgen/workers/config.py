"""How a worker group runs: its settings, importable without Huey or Pillow.

The ``worker`` command builds one from its options before the worker code
(Huey's consumer, Pillow) is imported.
"""

from __future__ import annotations

import dataclasses
import os

from thumbgen.options import DEFAULT_MAX_MEMORY_MIB

from .limits import JOB_TIMEOUT
from .retry import RetryPolicy
from .stopping import SHUTDOWN_TIMEOUT

#: thumbgen.imaging.budget.MAX_MEMORY, from the Pillow-free options module.
MAX_MEMORY = DEFAULT_MAX_MEMORY_MIB * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class WorkerConfig:
    """How a worker group runs."""

    workers: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    #: Exit once nothing is queued or running.
    burst: bool = False
    #: Stop (gracefully) when the process that started this one goes away.
    exit_with_parent: bool = False
    #: Longest wait for running jobs after the first stop signal.
    shutdown_timeout: float = SHUTDOWN_TIMEOUT
    #: Longest pause between polls of an idle SQLite queue.
    poll_max: float = 1.0
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    #: Longest run of one job, in seconds (0: none); see :mod:`.limits`.
    job_timeout: float = JOB_TIMEOUT
    #: Bytes one decode may need, estimated from its header (0: no limit).
    max_memory: int = MAX_MEMORY
    #: A pipe's (non-blocking) write end that gets a byte after every job
    #: outcome: the command waiting for a batch wakes at once (-1: none).
    news_fd: int = -1
