"""The service layer: each command's core as a plain function returning plain data.

The CLI and the HTTP server (``thumbgen.server``) parse their input, call one
function here and render what comes back; nothing in this package prints, exits or
knows about the terminal. Policy the front ends share lives here too: the
exit code of ``add``, which failures belong to a batch, what the watcher does
with a file that has arrived.
"""

from __future__ import annotations

from thumbgen.jobqueue.contract import Counts

from .adding import AddReport, add, add_exit_code, batch_failures, check_out_dir, target
from .control import cancel, clear, parse_age, pause, resume, retry
from .inspecting import (
    StatusReport,
    alive_workers,
    job_dict,
    jobs,
    media_lines,
    planned,
    progress,
    show,
    show_dict,
    status,
)
from .watching import WatchProgress, WatchSession

__all__ = [
    "AddReport",
    "Counts",
    "StatusReport",
    "WatchProgress",
    "WatchSession",
    "add",
    "add_exit_code",
    "alive_workers",
    "batch_failures",
    "cancel",
    "check_out_dir",
    "clear",
    "job_dict",
    "jobs",
    "media_lines",
    "parse_age",
    "pause",
    "planned",
    "progress",
    "resume",
    "retry",
    "show",
    "show_dict",
    "status",
    "target",
]
