"""A full disk under the queue file: one line per episode, and every job done once space returns.

A worker used to log Huey's "Error reading from queue" traceback for every
try to read a token: 135 of them, 2,163 lines, in two minutes. Now each
process says it once, then nothing until the reason changes or the queue can
be read again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import background, queue_counts, run_thumbgen, wait_until


@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str = "3m") -> Iterator[Path]:
    """A tmpfs of ``size``: a disk that fills up quickly."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write a file into ``folder`` until the disk is full; the file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for block in (1 << 16, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


def _quiet(log: str) -> None:
    assert "Traceback" not in log, log
    assert "Error reading from queue" not in log, log


def test_a_full_disk_under_the_queue_is_one_line_per_process_and_jobs_finish_after(
    tmp_path: Path, env: dict[str, str]
) -> None:
    count = 40
    write_jpegs(tmp_path / "src", count, size=(1600, 1200))
    with small_disk(tmp_path) as disk:
        queue_path = str(disk / "queue.db")
        env = {**env, "THUMBGEN_QUEUE": queue_path, "THUMBGEN_BUSY_TIMEOUT": "1"}
        added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
        assert added.returncode == 0, added.stderr
        log = tmp_path / "worker.log"
        with background("worker", "-w", "1", env=env, log=log, graceful=True) as worker:
            assert wait_until(lambda: queue_counts(queue_path)["done"] >= 2, timeout=60)
            filler = fill(disk)
            # While it is full, no job can be recorded: wait until a try has failed.
            assert wait_until(lambda: "disk is full" in log.read_text(), timeout=60), (
                log.read_text()
            )
            time.sleep(5)  # how long the disk stays full, not a measurement
            full = log.read_text()
            filler.unlink()
            assert wait_until(lambda: queue_counts(queue_path)["done"] == count, timeout=120), (
                log.read_text()[-3000:]
            )
            assert worker.poll() is None, log.read_text()[-3000:]
        text = log.read_text()
    _quiet(text)
    # One line per process that met it (the service, its worker, its scheduler).
    assert 1 <= full.count("disk is full") <= 3, full
    assert len(text.splitlines()) <= 12, text
