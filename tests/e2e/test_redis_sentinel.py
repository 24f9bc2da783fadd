"""A Sentinel failover with workers running: the README's "a single Redis (or Sentinel)".

Real processes throughout: a master, its replica, ``redis-sentinel`` watching
them, and a ``thumbgen worker`` reaching the queue through
``redis+sentinel://``. The master is killed mid-batch; the sentinel promotes
the replica, the workers find it through the sentinel and every job ends
done. A job the dead master had not yet passed on runs again, which a job may
(its outputs are the same).
"""

from __future__ import annotations

from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import background, run_thumbgen, status_json, wait_until
from support.redis_server import redis_env
from support.sentinel import sentinel_group


def test_workers_carry_on_through_a_sentinel_failover(tmp_path: Path) -> None:
    count = 60
    write_jpegs(tmp_path / "src", count, size=(1600, 1200))
    with sentinel_group(tmp_path / "redis") as (master, replica, sentinel):
        assert wait_until(sentinel.knows_replica, timeout=60)
        env = redis_env(sentinel.url)
        added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
        assert added.returncode == 0, added.stderr
        log = tmp_path / "worker.log"
        with background("worker", "-w", "2", env=env, log=log, graceful=True) as worker:
            assert wait_until(lambda: status_json(env)["done"] >= 3, timeout=120)
            master.kill()
            assert wait_until(lambda: sentinel.master_port() == replica.port, timeout=60)
            finished = wait_until(lambda: status_json(env)["done"] == count, timeout=180)
            assert finished, (status_json(env), log.read_text()[-3000:])
            assert worker.poll() is None, log.read_text()[-3000:]
        data = status_json(env)
        assert (data["failed"], data["queued"], data["running"]) == (0, 0, 0), data
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "was lost" not in text, text
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert made == sorted(f"img{i:04d}_256x256.jpg" for i in range(count))
