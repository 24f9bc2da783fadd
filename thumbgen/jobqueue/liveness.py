"""Process identity: the facts for telling a busy worker from a dead one.

This module reads the facts (this host's name, a pid's kernel start time)
and arranges for workers to die with their parent; the rule that judges a
worker from them is :func:`thumbgen.jobqueue.policy.worker_alive`.

A zombie has no start time here: a SIGKILLed worker stays a zombie until its
parent reaps it, and counting it as alive once stranded jobs in the prototype
(notes/huey.md section 8).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


@dataclasses.dataclass(frozen=True)
class Host:
    """What this machine can tell about its own processes."""

    name: str
    #: A local pid's start time (None: gone or a zombie); None where there is
    #: no /proc, so local workers too are judged by their heartbeat.
    start_time: Callable[[int], str | None] | None


def hostname() -> str:
    """This machine's name as workers record it."""
    # uname's node name is what gethostname() returns on Linux, without
    # importing socket (15 M instructions of the start-up ``status`` pays).
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def this_host() -> Host:
    """The facts of the machine this process runs on."""
    return Host(hostname(), start_time if os.path.isdir("/proc") else None)


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return start_time_from_stat(data)


def start_time_from_stat(data: bytes) -> str | None:
    """The start time in a ``/proc/PID/stat`` line, or None for a zombie."""
    # The command name (field 2) may contain spaces; fields resume after ")".
    fields = data[data.rindex(b")") + 2 :].split()
    if fields[0] == b"Z":
        return None
    return fields[19].decode()


def die_with_parent(sig: int = signal.SIGUSR1) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    # Imported here, by workers only (reading commands have no use for it).
    # The C library is the one already loaded (dlopen of NULL):
    # ctypes.util.find_library would run ldconfig in a subprocess, 15-50 ms
    # of every worker start.
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
