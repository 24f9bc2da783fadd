"""A Redis that lost the queue's keys (FLUSHALL, a failover to an empty replica, eviction).

Workers used to log lease expiries and go on, ``status`` said there was no
queue, and the next ``add`` quietly began a new one: 225 jobs gone without a
word. Now the first process to notice marks the queue lost and says so in one
line, no command starts a new queue there until ``thumbgen repair``, and
``status`` warns about the settings that let it happen.
"""

from __future__ import annotations

import socket
from pathlib import Path

from support.imagegen import slow_pngs
from support.procs import background, run_thumbgen, status_json, wait_until
from support.redis_server import redis_env, redis_server, tiny_jpegs

LOST = "was lost"


def _config_set(port: int, name: str, value: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"CONFIG SET {name} {value}\r\n".encode())
        assert s.recv(64).startswith(b"+OK")


def test_an_emptied_redis_is_said_once_and_no_command_starts_a_new_queue(tmp_path: Path) -> None:
    slow_pngs(tmp_path / "src", 10)
    with redis_server(tmp_path / "redis") as server:
        env = redis_env(server.url)
        added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
        assert added.returncode == 0, added.stderr
        log = tmp_path / "worker.log"
        with background("worker", "-w", "1", env=env, log=log) as proc:
            assert wait_until(lambda: status_json(env)["done"] >= 1, timeout=120)
            server.flushall()
            assert proc.wait(60) == 1, log.read_text()
        text = log.read_text()
        assert text.count(LOST) == 1, text
        assert "Traceback" not in text, text
        assert "FLUSHALL, a failover to an empty replica, or keys evicted" in text
        for argv in (["status"], ["add", str(tmp_path / "src")], ["worker", "--burst"]):
            refused = run_thumbgen(*argv, env=env)
            assert refused.returncode == 1, (argv, refused.stdout, refused.stderr)
            (line,) = refused.stderr.splitlines()
            assert line.startswith("Error: Queue redis://"), line
            assert LOST in line
        # Only repair lets a new queue start there; then add makes one as ever.
        repaired = run_thumbgen("repair", env=env)
        assert repaired.returncode == 0, repaired.stderr
        assert "starts a new, empty queue" in repaired.stdout
        assert run_thumbgen("add", str(tmp_path / "src"), env=env).returncode == 0
        assert status_json(env)["queued"] == 10


def test_status_warns_when_redis_may_lose_the_queue(tmp_path: Path) -> None:
    tiny_jpegs(tmp_path / "src", 1)
    with redis_server(tmp_path / "plain") as server:  # no persistence at all
        env = redis_env(server.url)
        assert run_thumbgen("add", str(tmp_path / "src"), env=env).returncode == 0
        _config_set(server.port, "maxmemory-policy", "allkeys-lru")
        shown = run_thumbgen("status", env=env)
        assert shown.returncode == 0, shown.stderr
        warnings = [line for line in shown.stderr.splitlines() if line.startswith("Warning: ")]
        assert len(warnings) == 2, shown.stderr
        assert "keeps nothing on disk (appendonly no)" in warnings[0]
        assert "maxmemory-policy allkeys-lru" in warnings[1]
        assert "set maxmemory-policy noeviction" in warnings[1]
        assert status_json(env)["warnings"] == [w.removeprefix("Warning: ") for w in warnings]
    with redis_server(tmp_path / "safe", persistent=True) as server:
        env = redis_env(server.url)
        assert run_thumbgen("add", str(tmp_path / "src"), env=env).returncode == 0
        shown = run_thumbgen("status", env=env)
        assert "Warning" not in shown.stderr, shown.stderr
