"""Queue benchmarks: ``status`` at a million jobs, ``add`` rate, per-job queue overhead.

Each one runs on a private queue file in a temporary folder, never the user's
default queue, and compares against baselines measured in the same run.
"""

from __future__ import annotations

import cProfile
import dataclasses
import functools
import importlib.util
import io
import json
import os
import pstats
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench_common import (
    Config,
    Goal,
    Reporter,
    Stats,
    TimingTable,
    clean_env,
    clock,
    fmt_mib,
    fmt_time,
    remove_queue,
    run_timed,
    scratch,
    thumbgen_argv,
    tiny_jpeg,
)

from thumbgen import commands
from thumbgen.commands.discovery import Source, discover
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import NewJob
from thumbgen.options import Options, build_options

STATUS_GOAL = Goal.time_below(0.050)
ADD_GOAL_PER_S = 20_000
OVERHEAD_GOAL = Goal.time_below(0.001)
#: How long another connection holds the write lock while status runs.
LOCK_HOLD = 0.5
SUBMIT_CHUNK: int = getattr(commands, "SUBMIT_CHUNK", 5000)
FILES_PER_DIR = 1000
#: Start-up costs that the CLI pays before ``status`` runs (they overlap in part).
IMPORTS = {
    "import-cli": "import thumbgen.cli",
    "import-huey": "import huey",
    "import-redis": "import redis",
    "import-typer": "import typer; from pydantic import TypeAdapter",
    "import-rich": "import rich.console",
    "import-pil": "import PIL.Image",
}


def _importable(code: str) -> bool:
    """Whether every top-level module that ``code`` imports is installed."""
    names = re.findall(r"(?:^|;)\s*(?:import|from)\s+(\w+)", code)
    return all(importlib.util.find_spec(n) is not None for n in names)


def new_job(source: str, rel_dir: str, size: int, mtime_ns: int, out_dir: str) -> NewJob:
    """A NewJob row as ``add`` would make it (filling ``target`` if this version has one)."""
    stem = os.path.splitext(os.path.basename(source))[0]
    values = {
        "source": source,
        "rel_dir": rel_dir,
        "size": size,
        "mtime_ns": mtime_ns,
        "target": os.path.join(out_dir, rel_dir, f"{stem}_*.*"),
    }
    names = {f.name for f in dataclasses.fields(NewJob)}
    return NewJob(**{k: v for k, v in values.items() if k in names})


def _sql(queue_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(queue_path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def _drop_tokens(conn: sqlite3.Connection, keep: int) -> None:
    """Keep only ``keep`` Huey tokens, as a queue that ran its other jobs would."""
    conn.execute(
        "DELETE FROM task WHERE id NOT IN (SELECT id FROM task ORDER BY id LIMIT ?)", (keep,)
    )


# -- a. status at a million jobs ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Filled:
    """A queue file filled for the status benchmark."""

    path: Path
    jobs: int
    queued: int
    done: int
    failed: int
    submit_seconds: float
    mark_seconds: float


def fill_queue(path: Path, jobs: int, out_dir: str) -> Filled:
    """``jobs`` fake jobs through ``store.submit`` (chunks of SUBMIT_CHUNK), most then finished.

    Sources point at files that do not exist (submit does not stat them). The
    state changes go through plain SQL, so the counter triggers keep
    ``job_counts`` right: 98% finished (1 in 25 of those failed) at 20 jobs/s,
    the newest just now, and 2% still queued with their tokens.
    """
    queue = open_queue(str(path))
    options = build_options(out_dir=out_dir)
    start = time.perf_counter()
    for first in range(0, jobs, SUBMIT_CHUNK):
        chunk = [
            new_job(
                f"{out_dir}-src/d{i // 1000:04d}/img{i:07d}.jpg",
                f"d{i // 1000:04d}",
                1000 + i % 5000,
                1_700_000_000_000_000_000 + i,
                out_dir,
            )
            for i in range(first, min(jobs, first + SUBMIT_CHUNK))
        ]
        queue.store.submit(chunk, options, batch="bench")
    submit_seconds = time.perf_counter() - start
    queue.close()

    finished = jobs * 98 // 100
    start = time.perf_counter()
    conn = _sql(path)
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "UPDATE jobs SET state = CASE WHEN id % 25 = 0 THEN 'failed' ELSE 'done' END,"
        " finished_at = ? - (? - id) * 0.05,"
        " error = CASE WHEN id % 25 = 0 THEN 'Corrupt image: ' || source"
        " || ' (broken data stream)' END,"
        " outputs = CASE WHEN id % 25 = 0 THEN NULL"
        " ELSE json_array(source || '_256x256.jpg') END"
        " WHERE id <= ?",
        (now, finished, finished),
    )
    _drop_tokens(conn, jobs - finished)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = dict(conn.execute("SELECT state, n FROM job_counts").fetchall())
    conn.close()
    return Filled(
        path,
        jobs,
        counts["queued"],
        counts["done"],
        counts["failed"],
        submit_seconds,
        time.perf_counter() - start,
    )


def bench_status(config: Config, report: Reporter) -> None:
    """``status`` latency with a million jobs in the store, in-process and through the CLI."""
    jobs = config.size(1_000_000, 100_000)
    runs = config.runs(15, 7)
    with scratch(config, "status") as tmp:
        path = tmp / "queue.db"
        filled = fill_queue(path, jobs, str(tmp / "thumbs"))
        env = clean_env(path)
        cli = [*thumbgen_argv(), "--queue", str(path), "status", "--json"]
        _, first = run_timed(cli, env=env)
        shown = json.loads(first.stdout)
        if shown["done"] != filled.done or shown["failed"] != filled.failed:
            raise RuntimeError(f"status --json disagrees with the store: {first.stdout[:300]}")

        queue = open_queue(str(path))
        conn = _sql(path)

        floor = (
            "import sqlite3, sys; sqlite3.connect(sys.argv[1])"
            ".execute('SELECT state, n FROM job_counts').fetchall()"
        )
        cases: dict[str, Callable[[], object]] = {
            "pass": lambda: run_timed([sys.executable, "-c", "pass"], env=env),
            "floor": lambda: run_timed([sys.executable, "-c", floor, str(path)], env=env),
            "cli": lambda: run_timed(cli, env=env),
            "warm": lambda: commands.status(queue),
            "cold": lambda: _cold_status(path),
            "group-by": lambda: conn.execute(
                "SELECT state, count(*) FROM jobs GROUP BY state"
            ).fetchall(),
            "counters": lambda: conn.execute("SELECT state, n FROM job_counts").fetchall(),
        }
        imports = {k: v for k, v in IMPORTS.items() if _importable(v)}
        for name, code in imports.items():
            cases[name] = functools.partial(run_timed, [sys.executable, "-c", code], env=env)
        samples = _interleaved(cases, runs)
        locked = Stats.of([_status_while_writing(path, LOCK_HOLD) for _ in range(3)])
        size = sum(os.path.getsize(p) for p in tmp.glob("queue.db*"))
        queue.close()
        conn.close()

    table = TimingTable(
        f"queue/status: {jobs:,} jobs ({filled.done:,} done, {filled.failed:,} failed, "
        f"{filled.queued:,} queued), queue file {fmt_mib(size)}; medians of {runs} runs"
    )
    table.baseline("pass", "python -c pass (interpreter start)", samples["pass"])
    table.row("python: sqlite3 read of job_counts (floor)", samples["floor"], vs="pass")
    for name, code in imports.items():
        table.row(f"python -c '{code}'", samples[name], vs="pass")
    table.row("thumbgen status --json (CLI, wall)", samples["cli"], vs="pass", goal=STATUS_GOAL)
    table.baseline("group-by", "SELECT state, count(*) ... GROUP BY state", samples["group-by"])
    table.row("SELECT state, n FROM job_counts", samples["counters"], vs="group-by")
    table.row(
        "commands.status, open queue (in-process)", samples["warm"], vs="group-by", goal=STATUS_GOAL
    )
    table.row(
        "open_queue() + commands.status + close", samples["cold"], vs="group-by", goal=STATUS_GOAL
    )
    table.row(
        f"open_queue() + commands.status, another writer busy {fmt_time(LOCK_HOLD)}",
        locked,
        goal=STATUS_GOAL,
    )
    table.row(
        "fill: store.submit of all jobs (1 run)",
        Stats.of([filled.submit_seconds]),
        count=jobs,
        unit=" jobs/s",
    )
    table.note(
        f"fill: submit() in chunks of {SUBMIT_CHUNK:,}; then one SQL UPDATE marked "
        f"98% finished ({fmt_time(filled.mark_seconds)}); sources do not exist"
    )
    table.note(
        "CLI wall includes interpreter start and imports; 'import thumbgen.cli' alone "
        "shows how much of it is spent before status runs"
    )
    report.table(table)


def _status_while_writing(path: Path, hold: float) -> float:
    """Seconds for Queue() + status while another connection holds the write lock ``hold`` s.

    In WAL mode a reader never has to wait for a writer; ``add`` commits
    chunks of SUBMIT_CHUNK jobs and every worker writes after each job.
    """
    writer = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(hold, writer.execute, ["COMMIT"])
    timer.start()
    try:
        return clock(lambda: _cold_status(path))
    finally:
        timer.join()
        writer.close()


def _cold_status(path: Path) -> None:
    """What a CLI call does once imported: open the queue, read the status, close."""
    queue = open_queue(str(path))
    commands.status(queue)
    queue.close()


def _interleaved(
    cases: dict[str, Callable[[], object]], runs: int, *, warmup: bool = True
) -> dict[str, Stats]:
    """Time every case ``runs`` times, round-robin, so that noise hits them alike."""
    for fn in cases.values() if warmup else ():
        fn()  # caches, imports, page cache
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            times[name].append(clock(fn))
    return {name: Stats.of(values) for name, values in times.items()}


# -- b. add rate ----------------------------------------------------------------------


def make_tree(root: Path, files: int) -> int:
    """``files`` tiny JPEGs, FILES_PER_DIR per folder: hard links of one file per folder.

    One distinct file per folder keeps thumbgen's duplicate check (device,
    inode, name) from merging links that share a name across folders.
    """
    made = 0
    for d in range((files + FILES_PER_DIR - 1) // FILES_PER_DIR):
        folder = root / f"d{d:03d}"
        first = folder / "img0000.jpg"
        tiny_jpeg(first, d)
        made += 1
        for i in range(1, min(FILES_PER_DIR, files - made + 1)):
            link = folder / f"img{i:04d}.jpg"
            try:
                os.link(first, link)
            except OSError:
                link.write_bytes(first.read_bytes())
            made += 1
    return made


def walk_stat(root: Path, *, read: bool = False) -> int:
    """Baseline: os.walk and os.stat every file (and read its first 32 bytes if ``read``)."""
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            os.stat(path)
            if read:
                with open(path, "rb") as f:
                    f.read(32)
            count += 1
    return count


def discover_only(root: Path, out_dir: str) -> list[Source]:
    """thumbgen's discovery alone (walk, stat, sniff, {dir}), nothing queued."""
    return [s for s in discover([str(root)], exclude=[out_dir]) if isinstance(s, Source)]


def mark_done_with_outputs(queue_path: Path, out_dir: Path) -> int:
    """Mark every job done with one real output file each (hard links), as a worker would."""
    conn = _sql(queue_path)
    rows = conn.execute("SELECT id, source, rel_dir FROM jobs").fetchall()
    updates = []
    now = time.time()
    for job_id, source, rel_dir in rows:
        stem = os.path.splitext(os.path.basename(source))[0]
        output = out_dir / rel_dir / f"{stem}_256x256.jpg"
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, output)
        except OSError:
            output.write_bytes(Path(source).read_bytes())
        updates.append((now, json.dumps([str(output)]), job_id))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "UPDATE jobs SET state = 'done', finished_at = ?, outputs = ? WHERE id = ?", updates
    )
    _drop_tokens(conn, 0)
    conn.execute("COMMIT")
    conn.close()
    return len(rows)


def bench_add(config: Config, report: Reporter) -> None:
    """``add`` of 100,000 files: in-process and CLI, first time and again (nothing to do)."""
    files = config.size(100_000, 10_000)
    runs = config.runs(3, 3)
    with scratch(config, "add") as tmp:
        root, out = tmp / "photos", tmp / "thumbs"
        made = make_tree(root, files)
        options = build_options(out_dir=str(out))
        queues = iter(tmp / f"queue{i}.db" for i in range(10_000))
        env = clean_env(tmp / "unused.db")
        cli_added = 0
        last_queue: Path | None = None

        def add_argv(queue: Path) -> list[str]:
            return [*thumbgen_argv(), "--queue", str(queue), "add", str(root), "-o", str(out)]

        def add_fresh() -> None:
            nonlocal last_queue
            path = next(queues)
            queue = open_queue(str(path))
            try:
                result = commands.add(queue, [str(root)], options)
            finally:
                queue.close()
            _expect(result.queued, made, "add queued")
            if last_queue is not None:
                remove_queue(last_queue)
            last_queue = path

        def cli_add() -> None:
            nonlocal cli_added
            path = next(queues)
            _, proc = run_timed(add_argv(path), env=env, cwd=tmp)
            cli_added = int(proc.stdout.split()[0])
            remove_queue(path)

        cases: dict[str, Callable[[], object]] = {
            "walk": lambda: walk_stat(root),
            "walk+read": lambda: walk_stat(root, read=True),
            "discover": lambda: discover_only(root, str(out)),
            "add": add_fresh,
            "cli": cli_add,
        }
        walk_stat(root, read=True)  # page and dentry caches, instead of a warm-up per case
        samples = _interleaved(cases, runs, warmup=False)
        _expect(cli_added, made, "CLI add queued")
        submit = _submit_only(tmp, discover_only(root, str(out)), options, runs)

        assert last_queue is not None
        again = _readd(last_queue, root, options, made, runs, expect="pending")
        mark_done_with_outputs(last_queue, out)
        fresh = _readd(last_queue, root, options, made, runs, expect="up_to_date")
        again_argv = add_argv(last_queue)
        cli_again = Stats.of([run_timed(again_argv, env=env, cwd=tmp)[0] for _ in range(runs)])
        profile = _profile_add(tmp, root, options) if config.profile else ""

    goal = Goal.rate_above(ADD_GOAL_PER_S, made, " files/s")
    table = TimingTable(
        f"queue/add: {made:,} tiny JPEGs in {made // FILES_PER_DIR} folders "
        f"(hard links), medians of {runs} runs"
    )
    table.baseline("walk", "os.walk + os.stat (baseline)", samples["walk"], count=made)
    table.row("os.walk + os.stat + read 32 bytes", samples["walk+read"], vs="walk", count=made)
    table.row(
        "discover() only (walk, stat, sniff, {dir})", samples["discover"], vs="walk", count=made
    )
    table.row("store.submit only (jobs ready, fresh queue)", submit, vs="walk", count=made)
    table.row(
        "commands.add, fresh queue (in-process)", samples["add"], vs="walk", count=made, goal=goal
    )
    table.row(
        "thumbgen add DIR, fresh queue (CLI, wall)",
        samples["cli"],
        vs="walk",
        count=made,
        goal=goal,
    )
    table.row("commands.add again: all already queued", again, vs="walk", count=made, goal=goal)
    table.row("commands.add again: all up to date", fresh, vs="walk", count=made, goal=goal)
    table.row(
        "thumbgen add DIR again: all up to date (CLI)", cli_again, vs="walk", count=made, goal=goal
    )
    table.note("rate = files / median time; 'up to date' = done with every output present")
    report.table(table)
    if profile:
        report.text(profile)


def _expect(got: int, want: int, what: str) -> None:
    if got != want:
        raise RuntimeError(f"{what} {got:,} files, expected {want:,}")


def _submit_only(tmp: Path, sources: Sequence[Source], options: Options, runs: int) -> Stats:
    """store.submit of ready-made jobs in SUBMIT_CHUNK chunks, on a fresh queue per run."""
    jobs = [new_job(s.path, s.rel_dir, s.size, s.mtime_ns, options.out_dir) for s in sources]
    times = []
    for i in range(runs):
        path = tmp / f"submit{i}.db"
        queue = open_queue(str(path))
        store = queue.store
        start = time.perf_counter()
        for first in range(0, len(jobs), SUBMIT_CHUNK):
            store.submit(jobs[first : first + SUBMIT_CHUNK], options, batch="bench")
        times.append(time.perf_counter() - start)
        queue.close()
        remove_queue(path)
    return Stats.of(times)


def _readd(
    path: Path, root: Path, options: Options, files: int, runs: int, *, expect: str
) -> Stats:
    """commands.add of the same tree on a queue that already has every job."""
    queue = open_queue(str(path))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = commands.add(queue, [str(root)], options)
        times.append(time.perf_counter() - start)
        sub = result.submitted
        got = len(sub.pending_ids) if expect == "pending" else sub.up_to_date
        _expect(got, files, f"re-add ({expect}) found")
    queue.close()
    return Stats.of(times)


def _profile_add(tmp: Path, root: Path, options: Options) -> str:
    """cProfile of one in-process add on a fresh queue: top functions by own and total time."""
    path = tmp / "profile.db"
    queue = open_queue(str(path))
    profiler = cProfile.Profile()
    profiler.enable()
    commands.add(queue, [str(root)], options)
    profiler.disable()
    queue.close()
    remove_queue(path)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    text.write("\ncProfile of commands.add (fresh queue), top 15 by own time:\n")
    stats.sort_stats("tottime").print_stats(15)
    text.write("top 15 by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(15)
    return "\n".join(line for line in text.getvalue().splitlines() if line.strip())


PARTS = ("status", "add", "overhead")


def run(config: Config, report: Reporter, parts: Sequence[str] = PARTS) -> None:
    """Run the queue benchmarks named in ``parts``."""
    from bench_overhead import bench_overhead

    benches = {"status": bench_status, "add": bench_add, "overhead": bench_overhead}
    for part in parts:
        benches[part](config, report)
