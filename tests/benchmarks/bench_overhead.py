"""Queue benchmark c: the queue's own cost per job.

``worker --burst -w 1`` over tiny JPEGs against a direct ``make_thumbnails``
loop, with the store's claim + finish and Huey's dequeue measured apart.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from bench_common import (
    Config,
    Reporter,
    Stats,
    TimingTable,
    clean_env,
    clock,
    remove_queue,
    run_timed,
    scratch,
    thumbgen_argv,
    tiny_jpeg,
)
from bench_queue import OVERHEAD_GOAL, SUBMIT_CHUNK, _expect, new_job

from thumbgen import commands, make_thumbnails
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import Options, build_options

# -- c. queue overhead per job ----------------------------------------------------


def bench_overhead(config: Config, report: Reporter) -> None:
    """Per-job cost of the queue: worker --burst -w 1 against a direct make_thumbnails loop."""
    jobs = config.size(2000, 500)
    rounds = config.runs(5, 3)
    with scratch(config, "overhead") as tmp:
        images = tmp / "images"
        for i in range(jobs):
            tiny_jpeg(images / f"img{i:05d}.jpg", i)
        paths = sorted(str(p) for p in images.iterdir())
        env = clean_env(tmp / "unused.db")
        empty, full, direct, overhead = [], [], [], []
        for r in range(rounds):
            # A queue that exists but holds nothing: the worker's fixed start and stop.
            empty.append(_burst(tmp / f"empty{r}.db", images, 0, env))
            full.append(_burst(tmp / f"queue{r}.db", images, jobs, env))
            options = build_options(out_dir=str(tmp / f"out-direct{r}"))
            direct.append(clock(functools.partial(_thumbnail_all, paths, options)))
            overhead.append((full[-1] - empty[-1] - direct[-1]) / jobs)
        delivery, store_ops = _store_breakdown(tmp, images, jobs, rounds)
        deep = config.size(100_000, 20_000)
        deep_ops = _claim_at_depth(tmp, deep, claims=50, rounds=rounds)

    table = TimingTable(
        f"queue/overhead: {jobs:,} jobs of 8x8 JPEGs, worker --burst -w 1, "
        f"medians of {rounds} rounds"
    )
    table.baseline("empty", "worker --burst -w 1, empty queue (fixed cost)", Stats.of(empty))
    table.row(
        f"worker --burst -w 1, {jobs:,} jobs (wall)",
        Stats.of(full),
        vs="empty",
        count=jobs,
        unit=" jobs/s",
    )
    table.baseline(
        "direct",
        f"make_thumbnails loop, {jobs:,} images (one process)",
        Stats.of(direct),
        count=jobs,
    )
    per_job_queue = Stats.of([(f - e) / jobs for f, e in zip(full, empty, strict=True)])
    table.row("per job through the queue: (worker - empty) / jobs", per_job_queue)
    table.row("per job direct: direct / jobs", Stats.of([d / jobs for d in direct]))
    table.row(
        "queue overhead per job: (worker - empty - direct) / jobs",
        Stats.of(overhead),
        goal=OVERHEAD_GOAL,
    )
    table.row("  of which Huey dequeue per token (in-process)", delivery)
    table.baseline("claim", "  of which store claim + finish per job (in-process)", store_ops)
    table.row(f"store claim + finish per job, {deep:,} queued", deep_ops, vs="claim")
    table.note("ratios of the first rows are wall times; overhead is per job (median of rounds)")
    report.table(table)


def _burst(path: Path, images: Path, jobs: int, env: dict[str, str]) -> float:
    """Wall time of ``worker --burst -w 1`` on a fresh queue holding ``jobs`` jobs (0: empty)."""
    queue = open_queue(str(path))
    if jobs:
        options = build_options(out_dir=str(path.with_suffix(".out")))
        _expect(commands.add(queue, [str(images)], options).queued, jobs, "add queued")
    queue.close()
    argv = [*thumbgen_argv(), "--queue", str(path), "worker", "--burst", "-w", "1"]
    elapsed = run_timed(argv, env=env)[0]
    queue = open_queue(str(path))
    counts = queue.store.counts()
    failures = [f.error for f in queue.store.failures(3)]
    queue.close()
    remove_queue(path)
    if counts.done != jobs or counts.queued + counts.running:
        raise RuntimeError(f"worker left {counts} (expected {jobs:,} done): {failures}")
    return elapsed


def _store_breakdown(tmp: Path, images: Path, jobs: int, rounds: int) -> tuple[Stats, Stats]:
    """Per-job cost of Huey's dequeue and of the store's claim and finish, without imaging."""
    dequeue, store_ops = [], []
    options = build_options(out_dir=str(tmp / "out-breakdown"))
    for r in range(rounds):
        path = tmp / f"breakdown{r}.db"
        queue = open_queue(str(path))
        commands.add(queue, [str(images)], options)
        dequeue.append(clock(functools.partial(_dequeue_all, queue, jobs)) / jobs)
        store_ops.append(clock(functools.partial(_claim_finish_all, queue, jobs)) / jobs)
        queue.close()
        remove_queue(path)
    return Stats.of(dequeue), Stats.of(store_ops)


def _claim_at_depth(tmp: Path, depth: int, *, claims: int, rounds: int) -> Stats:
    """Per-job claim + finish with ``depth`` jobs queued: should not grow with the queue."""
    path = tmp / "deep.db"
    queue = open_queue(str(path))
    out = str(tmp / "out-deep")
    options = build_options(out_dir=out)
    for first in range(0, depth, SUBMIT_CHUNK):
        chunk = [
            new_job(f"{out}-src/img{i:07d}.jpg", "", 1000, 1, out)
            for i in range(first, min(depth, first + SUBMIT_CHUNK))
        ]
        queue.store.submit(chunk, options, batch="bench")
    times = [clock(lambda: _claim_finish_all(queue, claims)) / claims for _ in range(rounds)]
    queue.close()
    remove_queue(path)
    return Stats.of(times)


def _thumbnail_all(paths: Sequence[str], options: Options) -> None:
    for path in paths:
        make_thumbnails(path, options)


def _dequeue_all(queue: Queue, jobs: int) -> None:
    for _ in range(jobs):
        if queue.huey.dequeue() is None:
            raise RuntimeError("a token is missing")


def _claim_finish_all(queue: Queue, jobs: int) -> None:
    store = queue.store
    for _ in range(jobs):
        job = store.claim("bench-owner")
        if job is None:
            raise RuntimeError("a job is missing")
        store.finish(job.id, "bench-owner", [], 0, 0)
