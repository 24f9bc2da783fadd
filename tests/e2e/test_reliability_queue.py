"""A queue locked by another process (a backup, a sqlite3 shell left in a transaction).

A real ``sqlite3`` holds an exclusive lock past the busy timeout and the lease
(both shortened through the environment to keep the test short) while a
worker service is finishing jobs. The service must wait it out: no process
exits, no job is left running, every job ends done.
"""

from __future__ import annotations

import time
from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import (
    background,
    queue_counts,
    queue_jobs,
    queue_locked,
    run_thumbgen,
    wait_until,
)

_BUSY, _LEASE, _LOCK = "1", "3", 6.0


def test_a_worker_service_waits_out_a_locked_queue_and_strands_no_job(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    env = {**env, "THUMBGEN_BUSY_TIMEOUT": _BUSY, "THUMBGEN_LEASE_SECONDS": _LEASE}
    count = 60
    write_jpegs(tmp_path / "src", count, size=(1600, 1200))
    added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    log = tmp_path / "worker.log"
    with background("worker", "-w", "2", env=env, log=log, graceful=True) as worker:
        assert wait_until(lambda: queue_counts(queue_path)["done"] >= 3, timeout=60)
        # The lock is taken while jobs are running: their outcomes cannot be
        # recorded until it goes.
        with queue_locked(queue_path):
            time.sleep(_LOCK)  # how long the lock is held, not a measurement
            assert worker.poll() is None, "the worker service exited on a locked queue"
        assert wait_until(lambda: queue_counts(queue_path)["done"] == count, timeout=90), (
            queue_counts(queue_path),
            log.read_text()[-2000:],
        )
        assert worker.poll() is None, log.read_text()[-2000:]
    assert {job.state.value for job in queue_jobs(queue_path)} == {"done"}
    assert "locked" in log.read_text()
