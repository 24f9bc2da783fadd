"""Workers on Redis that die or lose Redis: real processes, a real ``redis-server``.

Two ``thumbgen worker`` processes share 300 tiny jobs. One is SIGKILLed
mid-run (its job goes back through the liveness rule); in the other test
Redis itself is killed mid-run and started again on its append-only file.
Either way every job ends done exactly once in the store, with its one
output complete on disk, and ``status --json`` from a third process agrees.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from support.procs import run_thumbgen, status_json, wait_until, worker
from support.redis_server import (
    RedisServer,
    check_outputs,
    redis_env,
    redis_server,
    tiny_jpegs,
)

from thumbgen.jobqueue.backend import open_queue

JOBS = 300
BOX = 32


def add(env: dict[str, str], folder: Path, out: Path) -> None:
    result = run_thumbgen("add", str(folder), "-o", str(out), "-s", str(BOX), env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"{JOBS} queued" in result.stdout


def done(env: dict[str, str]) -> int:
    return int(status_json(env)["done"])


def final_check(url: str, env: dict[str, str], out: Path) -> None:
    """300 done, nothing running or failed, each output once and complete."""
    status = status_json(env)
    assert (status["done"], status["running"], status["failed"], status["queued"]) == (
        JOBS,
        0,
        0,
        0,
    )
    queue = open_queue(url, create=False)
    try:
        jobs = [{"outputs": list(j.outputs), "state": j.state.value} for j in queue.store.jobs()]
    finally:
        queue.close()
    assert {j["state"] for j in jobs} == {"done"}
    check_outputs(out, jobs, BOX)


def test_a_sigkilled_worker_loses_nothing(tmp_path: Path) -> None:
    tiny_jpegs(tmp_path / "src", JOBS)
    with redis_server(tmp_path / "redis") as server:
        env = redis_env(server.url)
        add(env, tmp_path / "src", tmp_path / "out")
        with (
            worker(env, tmp_path / "a.log", "-w", "1") as a,
            worker(env, tmp_path / "b.log", "-w", "1"),
        ):
            assert wait_until(lambda: done(env) >= 40, 60)
            os.killpg(a.pid, signal.SIGKILL)  # the worker and its child, mid-run
            a.wait(10)
            assert wait_until(lambda: done(env) == JOBS, 90, interval=0.5), status_json(env)
        final_check(server.url, env, tmp_path / "out")


def test_a_redis_restart_loses_no_committed_job(tmp_path: Path) -> None:
    tiny_jpegs(tmp_path / "src", JOBS)
    server = RedisServer(tmp_path / "redis", persistent=True)
    server.start()
    try:
        env = redis_env(server.url)
        add(env, tmp_path / "src", tmp_path / "out")
        with worker(env, tmp_path / "a.log", "-w", "1"), worker(env, tmp_path / "b.log", "-w", "1"):
            assert wait_until(lambda: done(env) >= 60, 60)
            before = done(env)
            server.kill()  # a crash: only what the append-only file holds survives
            time.sleep(3)  # workers find it gone and wait
            server.start()
            # Nothing committed was lost: at least as many done as before the crash.
            assert done(env) >= before
            assert wait_until(lambda: done(env) == JOBS, 90, interval=0.5), status_json(env)
        final_check(server.url, env, tmp_path / "out")
        logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
        assert "waiting for it to come back" in logs
        assert "Traceback" not in logs
    finally:
        server.stop()
