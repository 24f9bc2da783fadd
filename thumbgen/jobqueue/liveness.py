"""Process identity and liveness, for telling a busy worker from a dead one.

On the same host a worker is dead when its PID is gone, is a zombie, or now
belongs to another process (the start time differs). A zombie counts as dead:
a SIGKILLed worker stays a zombie until its parent reaps it, and treating it
as alive once stranded jobs in the prototype (notes/huey.md section 8). Workers
on other hosts are judged by their heartbeat instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket

#: A worker whose heartbeat is older than this is presumed dead (other hosts).
LEASE_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1


def hostname() -> str:
    """This machine's name as workers record it."""
    return socket.gethostname()


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields resume after ")".
    fields = data[data.rindex(b")") + 2 :].split()
    if fields[0] == b"Z":
        return None
    return fields[19].decode()


def is_alive(host: str, pid: int, started: str | None, heartbeat: float, now: float) -> bool:
    """Whether the worker described by these fields is still running."""
    if host == hostname() and os.path.isdir("/proc"):
        current = start_time(pid)
        return current is not None and (started is None or current == started)
    return now - heartbeat < LEASE_SECONDS


def die_with_parent(sig: int = signal.SIGUSR1) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name or not hasattr(os, "getppid"):
        return
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
