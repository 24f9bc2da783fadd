"""Start-up: what people type all day, against ``python -c pass`` in the same run.

``thumbgen status --json`` on a queue of a million jobs (goal 100 ms),
``thumbgen --help`` (150 ms) and ``thumbgen add`` of one file (200 ms), each
the wall time of a fresh process, measured round-robin with the baseline.
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
        cases: dict[str, Callable[[], object]] = {
            "pass": lambda: run_timed([sys.executable, "-c", "pass"], env=env),
            "status": lambda: run_timed([*tg, "--queue", str(big), "status", "--json"], env=env),
            "help": lambda: run_timed([*tg, "--help"], env=env),
            "add": lambda: run_timed(add, env=env),
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
    report.table(table)
