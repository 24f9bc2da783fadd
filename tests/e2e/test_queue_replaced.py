"""A queue file replaced under running workers: they notice, say so once, and leave it alone.

A backup restored or a sync tool's copy moved over the queue (``cp other.db
tmp.db && mv tmp.db queue.db``) used to leave the workers on the old file:
they ran the old queue's jobs, ``status --watch`` showed its counts, and the
old -wal, which goes by name, was replayed into the new file and corrupted
it. SQLite's documentation warns of exactly this.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from support.imagegen import slow_pngs, write_jpegs
from support.procs import background, queue_counts, run_thumbgen, thumbgen_argv, wait_until

LINE = "was replaced by another file while in use"


def _other_queue(tmp_path: Path, env: dict[str, str]) -> Path:
    """A closed queue file with 3 queued jobs of its own, output to other-out."""
    write_jpegs(tmp_path / "other-src", 3, prefix="other")
    other = tmp_path / "other.db"
    own = {**env, "THUMBGEN_QUEUE": str(other)}
    added = run_thumbgen(
        "add", str(tmp_path / "other-src"), "-o", str(tmp_path / "other-out"), env=own
    )
    assert added.returncode == 0, added.stderr
    return other


def _replace(queue: Path, other: Path) -> str:
    """``cp other tmp && mv tmp queue``; the new file's digest."""
    tmp = queue.with_name("tmp.db")
    shutil.copyfile(other, tmp)
    os.replace(tmp, queue)
    return hashlib.sha256(queue.read_bytes()).hexdigest()


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def test_workers_stop_using_a_replaced_queue_file_and_leave_the_new_one_untouched(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 12)
    added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    other = _other_queue(tmp_path, env)
    log = tmp_path / "worker.log"
    queue = Path(queue_path)
    with background("worker", "-w", "2", env=env, log=log) as proc:
        assert wait_until(lambda: queue_counts(queue_path)["done"] >= 1, timeout=120)
        digest = _replace(queue, other)
        assert proc.wait(60) == 1, log.read_text()
    text = log.read_text()
    assert text.count(LINE) == 1, text
    assert "Traceback" not in text, text
    # Untouched: the same bytes, whole, holding the other queue's jobs, none run.
    assert not (tmp_path / "other-out").exists()
    assert _integrity(queue) == "ok"
    counts = queue_counts(queue_path)
    assert (counts["queued"], counts["done"], counts["running"]) == (3, 0, 0)
    assert hashlib.sha256(queue.read_bytes()).hexdigest() == digest
    assert not Path(queue_path + "-wal").exists() or Path(queue_path + "-wal").stat().st_size == 0


def test_status_watch_stops_on_a_replaced_queue_file(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    write_jpegs(tmp_path / "src", 2)
    assert run_thumbgen("add", str(tmp_path / "src"), env=env).returncode == 0
    other = _other_queue(tmp_path, env)
    proc = subprocess.Popen(
        thumbgen_argv("status", "--watch", "--json"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline()  # the first line: it has the file open
    _replace(Path(queue_path), other)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.startswith("Error: Queue "), err
    assert LINE in err, err
    assert err.count("\n") == 1, err
