"""What ``thumbgen repair`` salvages from a damaged SQLite queue, job by job.

Real queue files damaged in place (pages of the jobs table overwritten);
the salvage goes through the module the command calls. The command itself,
as a real process, is tests/e2e/test_reliability_queue_files.py.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

import pytest

from thumbgen.errors import QueueError
from thumbgen.jobqueue import liveness
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import NewJob, State, WorkerInfo
from thumbgen.jobqueue.sqlite.salvage import repair
from thumbgen.options import build_options

JOBS = 300


def _queue(path: Path) -> None:
    """A queue of ``JOBS`` jobs: the first done, the second failed, the third running."""
    queue = open_queue(str(path))
    options = build_options(["64"], out_dir=path.parent / "out")
    jobs = [NewJob(f"/src/img{i:04d}.jpg", "", 10, 1, f"/out/img{i:04d}_*.*") for i in range(JOBS)]
    store = queue.store
    store.submit(jobs, options, batch="b")
    done, failed, running = (store.claim("w") for _ in range(3))
    assert done is not None
    assert failed is not None
    assert running is not None
    store.finish(done.id, "w", ["/out/img0000_64x64.jpg"], 10, 1)
    store.fail(failed.id, "w", "Corrupt image: /src/img0001.jpg")
    queue.close()


def _damage(path: Path) -> None:
    """Garbage over one page in the middle of the jobs table."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        leaves = [
            r[0]
            for r in db.execute(
                "SELECT pageno FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf'"
                " ORDER BY pageno"
            )
        ]
    page = leaves[len(leaves) // 2]
    with path.open("r+b") as f:
        f.seek((page - 1) * 4096)
        f.write(b"\xa5" * 4096)


def test_finished_jobs_are_kept_and_pending_ones_queued_again(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    _queue(path)
    _damage(path)
    salvage = repair(str(path))
    assert salvage.damaged_copy is not None
    assert os.path.exists(salvage.damaged_copy)
    assert salvage.kept == 2
    assert 0 < salvage.requeued < JOBS - 2
    assert salvage.lost == JOBS - 2 - salvage.requeued
    queue = open_queue(str(path), create=False)
    try:
        store = queue.store
        counts = store.counts()
        assert (counts.done, counts.failed, counts.running) == (1, 1, 0)
        assert counts.queued == salvage.requeued
        (done,) = store.jobs(State.DONE)
        assert done.outputs == ("/out/img0000_64x64.jpg",)
        (failure,) = store.failures()
        assert failure.error == "Corrupt image: /src/img0001.jpg"
        # The job that was running when the file broke runs again, tries reset.
        again = store.job("/src/img0002.jpg")
        assert again is not None
        assert (again.job.state, again.job.attempts) == (State.QUEUED, 0)
        assert queue.huey.pending_count() == counts.queued  # each has its token
        assert store.claim("w") is not None
    finally:
        queue.close()


def test_a_sound_queue_is_left_exactly_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    _queue(path)
    before = path.read_bytes()
    assert repair(str(path)).damaged_copy is None
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queue.db"]


def test_repair_waits_for_the_workers_to_stop(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    _queue(path)
    queue = open_queue(str(path))
    now = time.time()
    me = WorkerInfo("me", liveness.hostname(), os.getpid(), liveness.start_time(os.getpid()),
                    now, now, 0, None)  # fmt: skip
    queue.store.register_worker(me)
    queue.close()
    _damage(path)
    before = path.read_bytes()
    with pytest.raises(QueueError, match=r"1 worker\(s\) still use queue .*; stop them"):
        repair(str(path))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queue.db"]
