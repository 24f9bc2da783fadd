"""The Redis queue under a simulated fleet: claims + finishes per second, no imaging work.

A hundred machines at 30 photos/s each need about 3,000 claim + finish pairs a
second from one Redis. Here N worker processes (forked before any connection)
each loop ``claim`` then ``finish`` on a real ``redis-server`` on loopback
until the queue is empty; the table gives pairs per second for 1 to 32
processes and the share of a core Redis itself used, which says where it tops
out on this 2-core machine (the workers and Redis share the cores).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

from bench_common import Config, Reporter, Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support.redis_server

from support.redis_server import RedisServer

from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import NewJob
from thumbgen.options import build_options

NEED = 3000  # pairs per second for 100 machines at 30 photos/s


def _drain(url: str, name: str, ready: multiprocessing.Event, go: multiprocessing.Event) -> None:
    queue = open_queue(url)
    store = queue.store
    ready.set()
    go.wait()
    while (job := store.claim(name)) is not None:
        store.finish(job.id, name, [], 1, 1)
    queue.close()


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(config: Config, report: Reporter) -> None:
    """Pairs per second for 1, 4, 8, 16 and 32 worker processes on one Redis."""
    jobs = config.size(6_000, 600)
    counts = (1, 4, 8, 16, 32) if not config.quick else (1, 4)
    table = Table(
        f"fleet: claim + finish pairs per second on one redis-server (loopback), "
        f"{jobs:,} jobs per row, no imaging (goal for 100 machines at 30/s: {NEED:,}/s)",
        ["worker processes", "time", "pairs/s", "Redis CPU (cores)"],
    )
    ctx = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="thumbgen-bench-fleet-", dir=config.tmp) as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            options = build_options(["64"], out_dir=os.path.join(tmp, "out"))
            for n in counts:
                server.flushall()
                queue = open_queue(server.url)
                new = [NewJob(f"/src/p{i}.jpg", "", 1, 1, f"/out/p{i}_*.*") for i in range(jobs)]
                for start in range(0, jobs, 1000):
                    queue.store.submit(new[start : start + 1000], options, batch="fleet")
                queue.close()
                go = ctx.Event()
                readies = [ctx.Event() for _ in range(n)]
                procs = [
                    ctx.Process(target=_drain, args=(server.url, f"w{i}", readies[i], go))
                    for i in range(n)
                ]
                for p in procs:
                    p.start()
                for r in readies:
                    r.wait(60)
                assert server.proc is not None
                cpu0, t0 = _cpu_seconds(server.proc.pid), time.perf_counter()
                go.set()
                for p in procs:
                    p.join()
                elapsed = time.perf_counter() - t0
                redis_cpu = (_cpu_seconds(server.proc.pid) - cpu0) / elapsed
                table.add(n, f"{elapsed:.2f} s", f"{jobs / elapsed:,.0f}", f"{redis_cpu:.2f}")
        finally:
            server.stop()
    table.note(
        "each pair is two Lua scripts (claim: pick and fence a job; finish: record it); "
        "on 2 cores the worker processes and Redis compete for the same CPU"
    )
    report.table(table)
