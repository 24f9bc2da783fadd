"""A real memory cgroup for tests (v2 or v1), removed afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _memory_root() -> tuple[Path, str, str] | None:
    """This process's memory cgroup folder and the names of its memory and swap limit files."""
    v2 = Path("/sys/fs/cgroup")
    controllers = v2 / "cgroup.controllers"
    if controllers.exists() and "memory" in controllers.read_text().split():
        own = next(
            (
                line.split(":", 2)[2]
                for line in Path("/proc/self/cgroup").read_text().splitlines()
                if line.startswith("0::")
            ),
            "/",
        )
        return v2 / own.lstrip("/"), "memory.max", "memory.swap.max"
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers_, path = line.split(":", 2)
        if "memory" in controllers_.split(","):
            root = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            if root.is_dir():
                return root, "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"
    return None


@contextlib.contextmanager
def memory_limited(limit: int) -> Iterator[Path]:
    """A new memory cgroup capped at ``limit`` bytes; yields its ``cgroup.procs`` file.

    Write a PID there to move that process (and the children it starts
    afterwards) in. On leaving, whatever still runs inside is killed and the
    cgroup removed. Skips the test where cgroups cannot be made.
    """
    if os.geteuid() != 0:
        pytest.skip("making a cgroup needs root")
    found = _memory_root()
    if found is None:
        pytest.skip("no memory cgroup controller here")
    root, limit_file, swap_file = found
    group = root / f"thumbgen-test-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
        (group / limit_file).write_text(str(limit))
        # No swap on top: the kernel kills at the limit instead of thrashing.
        swap = group / swap_file
        if swap.exists():
            with contextlib.suppress(OSError):
                swap.write_text("0" if swap_file == "memory.swap.max" else str(limit))
    except OSError as exc:
        with contextlib.suppress(OSError):
            group.rmdir()
        pytest.skip(f"cannot make a memory cgroup here: {exc}")
    procs = group / "cgroup.procs"
    try:
        yield procs
    finally:
        for _ in range(50):
            pids = [int(p) for p in procs.read_text().split()]
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        with contextlib.suppress(OSError):
            group.rmdir()
