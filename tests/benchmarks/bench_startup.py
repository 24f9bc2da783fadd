"""Start-up: what people type all day, against ``python -c pass`` in the same run.

``thumbgen status --json`` on a queue of a million jobs (goal 100 ms),
``thumbgen --help`` (150 ms), ``thumbgen add`` of one file (200 ms) and
``thumbgen add --wait -w 2`` of one small image on a fresh queue file (300 ms:
the fixed cost of a batch, issue 10), each the wall time of a fresh process,
measured round-robin with the baseline.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench_common import (
    Config,
    Goal,
    Reporter,
    Stats,
    TimingTable,
    clean_env,
    clock,
    run_timed,
    scratch,
    thumbgen_argv,
    tiny_jpeg,
)
from bench_queue import fill_queue

GOALS = {
    "status": Goal.time_below(0.100),
    "help": Goal.time_below(0.150),
    "add": Goal.time_below(0.200),
    "wait": Goal.time_below(0.300),
}


def run(config: Config, report: Reporter) -> None:
    """Medians of each command's wall time, interleaved with the interpreter's own start."""
    runs = config.runs(21, 7)
    jobs = config.size(1_000_000, 100_000)
    with scratch(config, "startup") as tmp:
        big = tmp / "big.db"
        fill_queue(big, jobs, str(tmp / "thumbs"))
        small = tmp / "small.db"
        image = tmp / "one.jpg"
        tiny_jpeg(image, 1)
        env = clean_env(small)
        tg = thumbgen_argv()
        add = [*tg, "--queue", str(small), "add", str(image), "-o", str(tmp / "out")]
        run_timed(add, env=env)  # later adds find it up to date: the same work each run
        fresh = iter(range(1_000_000))

        def add_wait() -> object:
            # A fresh queue file and output folder each run: the whole batch
            # every time (start the workers, one job, stop them).
            n = next(fresh)
            queue, out = tmp / f"wait-{n}.db", tmp / f"wait-out-{n}"
            argv = [*tg, "--queue", str(queue), "add", str(image), "-o", str(out)]
            return run_timed([*argv, "--wait", "-w", "2", "--quiet"], env=env)

        cases: dict[str, Callable[[], object]] = {
            "pass": lambda: run_timed([sys.executable, "-c", "pass"], env=env),
            "status": lambda: run_timed([*tg, "--queue", str(big), "status", "--json"], env=env),
            "help": lambda: run_timed([*tg, "--help"], env=env),
            "add": lambda: run_timed(add, env=env),
            "wait": add_wait,
        }
        for fn in cases.values():
            fn()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, fn in cases.items():
                times[name].append(clock(fn))
    samples = {name: Stats.of(values) for name, values in times.items()}
    table = TimingTable(f"startup: fresh processes, medians of {runs} runs, round-robin")
    table.baseline("pass", "python -c pass (interpreter start)", samples["pass"])
    table.row(
        f"thumbgen status --json ({jobs:,} jobs)",
        samples["status"],
        vs="pass",
        goal=GOALS["status"],
    )
    table.row("thumbgen --help", samples["help"], vs="pass", goal=GOALS["help"])
    table.row("thumbgen add ONE.jpg (up to date)", samples["add"], vs="pass", goal=GOALS["add"])
    table.row(
        "thumbgen add ONE.jpg --wait -w 2 (fresh queue)",
        samples["wait"],
        vs="pass",
        goal=GOALS["wait"],
    )
    report.table(table)
