"""Two machines on one Redis, one of them cut off: the acceptance test of issue 9.

The "machines" are network namespaces, each joined to the root namespace
(where ``redis-server`` listens) by its own veth pair; nothing leaves this
host. A worker runs in each. Mid-run, machine A's link is cut (its root-side
end goes down, so packets vanish as on a pulled cable) while A holds a job,
for longer than the lease: B must take that job over and finish every job.
When the link comes back, A must store nothing over B's thumbnails for the
job it lost (it asks whether it still holds the job first), and its late
"done" must be refused (the claim's fencing token); ``status --json`` from a third
process must show 300 done, none running or failed, each output once.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from support.imagegen import slow_pngs
from support.netns import ip, machine
from support.procs import run_thumbgen, status_json, wait_until, worker
from support.redis_server import RedisServer, check_outputs, redis_env

from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import Outcome, WorkerInfo

JOBS = 300
BOX = 64
LEASE = 4.0


def test_a_cut_off_machine_records_nothing_stale(tmp_path: Path) -> None:
    slow_pngs(tmp_path / "share", JOBS, size=(700, 700), noise=60, name="img{i:04d}.png")
    tag = os.getpid() % 200 + 20  # distinct names and subnets for concurrent runs
    with (
        machine(f"tga{tag}", tag) as (link_a, addr_a),
        machine(f"tgb{tag}", tag + 1) as (
            _,
            addr_b,
        ),
    ):
        server = RedisServer(tmp_path / "redis", bind=f"127.0.0.1 {addr_a} {addr_b}")
        server.start()
        try:
            env = redis_env(server.url, THUMBGEN_REDIS_LEASE=str(LEASE))
            add = ["add", str(tmp_path / "share"), "-o", str(tmp_path / "out"), "-s", str(BOX)]
            added = run_thumbgen(*add, env=env, timeout=120)
            assert added.returncode == 0, added.stderr
            queue = open_queue(server.url, create=False)
            log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
            env_a = redis_env(server.url_via(addr_a), THUMBGEN_REDIS_LEASE=str(LEASE))
            env_b = redis_env(server.url_via(addr_b), THUMBGEN_REDIS_LEASE=str(LEASE))
            with (
                worker(env_a, log_a, "-w", "1", prefix=("ip", "netns", "exec", f"tga{tag}")),
                worker(env_b, log_b, "-w", "1", prefix=("ip", "netns", "exec", f"tgb{tag}")),
            ):
                assert wait_until(lambda: len(_busy(queue.store.workers())) == 2, 60)
                assert wait_until(lambda: queue.store.counts().done >= 20, 60)
                # Cut A while it holds a job mid-work (its worker records the
                # job it runs); if the cut lands between two jobs, try again.
                worker_a = _worker_via(queue.store.workers(), addr_a)
                held = _cut_mid_job(queue, worker_a, link_a)
                cut_at = time.monotonic()
                # Longer than the lease, plus a maintenance round of B's.
                assert wait_until(lambda: _state(queue, held) != "running", LEASE + 15)
                time.sleep(max(0.0, LEASE + 3 - (time.monotonic() - cut_at)))
                ip("link", "set", link_a, "up")
                assert wait_until(lambda: queue.store.counts().done == JOBS, 120, 0.5)
                # A comes back. If it had stored its thumbnails already, it
                # tries to record its old try and the store refuses it (the
                # fence does not match); if not, it asks first whether it still
                # holds the job and stores nothing. Either way it says so.
                detail = queue.store.job(held)
                assert detail is not None
                refused = f"job {held} was taken back"
                gave_up = f"Gave up {detail.job.source}: its claim lapsed"
                assert wait_until(
                    lambda: refused in log_a.read_text() or gave_up in log_a.read_text(), 30
                ), log_a.read_text()
            status = status_json(env)
            assert (status["done"], status["running"], status["failed"], status["queued"]) == (
                JOBS,
                0,
                0,
                0,
            )
            detail = queue.store.job(held)
            assert detail is not None
            tries = [(t.worker, t.outcome) for t in detail.attempts]
            # A's try was taken back (requeued) and stays so: A's late "done"
            # was refused. A later try (B's, or A's own once back) made it.
            assert tries[0] == (worker_a, Outcome.REQUEUED), tries
            assert len(tries) >= 2, tries
            assert tries[-1][1] is Outcome.DONE, tries
            jobs = [{"outputs": list(j.outputs)} for j in queue.store.jobs()]
            check_outputs(tmp_path / "out", jobs, BOX)
            queue.close()
        finally:
            server.stop()


def _busy(workers: list[WorkerInfo]) -> list[WorkerInfo]:
    return [w for w in workers if w.jobs_done > 0]


def _cut_mid_job(queue: object, worker_id: str, link: str) -> int:
    """Take ``link`` down while ``worker_id`` works on a job; that job's id."""
    for _ in range(20):
        held = _current(queue, worker_id)
        if held is not None and _holder(queue, held) == worker_id:
            ip("link", "set", link, "down")
            time.sleep(0.5)  # long after the worker's last word reached Redis
            if _holder(queue, held) == worker_id:
                return held
            ip("link", "set", link, "up")  # it had already finished: again
            time.sleep(0.5)
        time.sleep(0.01)
    raise AssertionError("never caught the worker in the middle of a job")


def _holder(queue: object, job_id: int) -> str | None:
    """Who runs ``job_id`` now (None unless it is running)."""
    r = queue.store.r  # type: ignore[attr-defined]
    state, owner = r.hmget(f"thumbgen:job:{job_id}".encode(), ["state", "owner"])
    return owner.decode() if state == b"running" and owner else None


def _worker_via(workers: list[WorkerInfo], addr: str) -> str:
    """The id of the worker that talks to Redis through ``addr`` (machine A's link)."""
    for w in workers:
        with contextlib.suppress(OSError):
            if f"@{addr}:".encode() in Path(f"/proc/{w.pid}/environ").read_bytes().replace(
                b"//", b"@"
            ):
                return w.id
    raise AssertionError(f"no worker through {addr} in {workers}")


def _current(queue: object, worker_id: str) -> int | None:
    """The id of the job ``worker_id`` runs, from its worker record in Redis."""
    r = queue.store.r  # type: ignore[attr-defined]
    job = r.hget(b"thumbgen:worker:" + worker_id.encode(), "job")
    return None if job is None else int(job)


def _state(queue: object, job_id: int | None) -> str | None:
    r = queue.store.r  # type: ignore[attr-defined]
    state = r.hget(f"thumbgen:job:{job_id}".encode(), "state")
    return None if state is None else state.decode()
