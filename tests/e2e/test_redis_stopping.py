"""Stopping while Redis is down: a stop ends the wait for it, and no worker outlives its command.

Workers wait out a Redis outage for up to ``THUMBGEN_REDIS_RECONNECT``
seconds (an hour by default, left so here). A stop request must not wait
with them: a Ctrl-C answered only once Redis is back, or the workers of a
killed ``watch`` lingering for the hour, is what these tests would catch
(each waits at most a minute for the processes to end).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from support.procs import (
    background,
    descendants,
    run_thumbgen,
    running,
    status_json,
    wait_until,
    worker,
)
from support.redis_server import redis_env, redis_server, tiny_jpegs


def test_a_worker_waiting_out_an_outage_stops_at_the_first_ctrl_c(tmp_path: Path) -> None:
    tiny_jpegs(tmp_path / "src", 2)
    with redis_server(tmp_path / "redis") as server:
        env = redis_env(server.url)
        out = str(tmp_path / "out")
        assert run_thumbgen("add", str(tmp_path / "src"), "-o", out, env=env).returncode == 0
        log = tmp_path / "worker.log"
        with worker(env, log, "-w", "1") as proc:
            assert wait_until(lambda: status_json(env)["workers"] == 1, 30)
            server.stop()
            assert wait_until(lambda: "waiting for it to come back" in log.read_text(), 30)
            proc.send_signal(signal.SIGINT)
            assert wait_until(lambda: proc.poll() is not None, 60), log.read_text()
    text = log.read_text()
    assert "Traceback" not in text
    assert "Stopping: finishing running jobs" in text


def test_the_workers_of_a_killed_watch_end_while_redis_is_down(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    tiny_jpegs(inbox, 2)
    with redis_server(tmp_path / "redis") as server:
        env = redis_env(server.url)
        assert run_thumbgen("add", str(inbox), "-o", str(tmp_path / "out"), env=env).returncode == 0
        log = tmp_path / "watch.log"
        args = ("watch", str(inbox), "-o", str(tmp_path / "out"), "-w", "2")
        with background(*args, env=env, log=log) as watch:
            assert wait_until(lambda: status_json(env)["workers"] == 2, 30), log.read_text()
            tree = descendants(watch.pid)
            assert len(tree) >= 3  # the worker group: its main process and two workers
            server.stop()
            os.kill(watch.pid, signal.SIGKILL)
            watch.wait(10)
            assert wait_until(lambda: not any(running(p) for p in tree), 60), [
                p for p in tree if running(p)
            ]
