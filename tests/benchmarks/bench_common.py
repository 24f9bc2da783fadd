"""Shared helpers for the benchmarks: settings, timing, subprocesses, tables.

Every number a benchmark prints is a median over several runs, next to a
baseline measured in the same run (the machine is shared and noisy: compare
ratios, not seconds across runs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from PIL import Image


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings shared by every benchmark (from run.py's command line)."""

    quick: bool = False
    #: Runs per measurement; None lets each benchmark pick its default.
    repeat: int | None = None
    #: Print a cProfile of the hot path where a benchmark has one.
    profile: bool = False
    #: Parent folder for temporary files (None: the system's temp folder).
    tmp: str | None = None

    def runs(self, full: int, quick: int) -> int:
        """How many runs to make: ``--repeat``, else the full or quick default."""
        if self.repeat is not None:
            return max(1, self.repeat)
        return quick if self.quick else full

    def size(self, full: int, quick: int) -> int:
        """A problem size: ``full``, or ``quick`` with ``--quick``."""
        return quick if self.quick else full


# -- measuring ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Stats:
    """Samples of one measurement (seconds, bytes or any other unit)."""

    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        """Stats of ``samples`` (at least one)."""
        if not samples:
            raise ValueError("no samples")
        return cls(tuple(samples))

    @property
    def median(self) -> float:
        """The median sample."""
        return float(statistics.median(self.samples))

    @property
    def min(self) -> float:
        """The smallest sample."""
        return min(self.samples)

    @property
    def max(self) -> float:
        """The largest sample."""
        return max(self.samples)

    @property
    def n(self) -> int:
        """How many samples."""
        return len(self.samples)


def clock(fn: Callable[[], object]) -> float:
    """Seconds that one call of ``fn`` takes (wall clock)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def repeat(fn: Callable[[], object], runs: int, *, warmup: int = 1) -> Stats:
    """Time ``fn`` ``runs`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return Stats.of([clock(fn) for _ in range(runs)])


# -- processes ----------------------------------------------------------------


def thumbgen_argv() -> list[str]:
    """The installed ``thumbgen`` console script beside this interpreter, else ``-m thumbgen``."""
    script = Path(sys.executable).with_name("thumbgen")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "thumbgen"]


def clean_env(queue: str | Path | None = None) -> dict[str, str]:
    """This environment without the user's THUMBGEN_* settings, with a private queue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUMBGEN_")}
    if queue is not None:
        env["THUMBGEN_QUEUE"] = str(queue)
    return env


def run_timed(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 900,
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``argv`` to completion; wall seconds (process start included) and its result.

    A non-zero exit raises, with the command's stderr, so that a broken run is
    never reported as a fast one.
    """
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr.strip()[-2000:]}"
        )
    return elapsed, proc


# -- files --------------------------------------------------------------------


@contextlib.contextmanager
def scratch(config: Config, name: str) -> Iterator[Path]:
    """A temporary folder for one benchmark, removed afterwards whatever happens."""
    if config.tmp:
        os.makedirs(config.tmp, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"thumbgen-bench-{name}-", dir=config.tmp))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_queue(path: Path) -> None:
    """Delete a SQLite queue file and its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


def tiny_jpeg(path: Path, marker: int, size: tuple[int, int] = (8, 8)) -> None:
    """A small noisy JPEG whose first pixel encodes ``marker`` (distinct content per file)."""
    im = Image.effect_noise(size, 60).convert("RGB")
    im.putpixel((0, 0), (marker % 256, (marker // 256) % 256, (marker // 65536) % 256))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, quality=85)


# -- formatting ---------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    """``12.3 ms``, ``4.56 s``, ``789 µs``: three significant digits."""
    if math.isnan(seconds):
        return "-"
    value, unit = seconds, "s"
    if abs(seconds) < 1e-3:
        value, unit = seconds * 1e6, "µs"
    elif abs(seconds) < 1:
        value, unit = seconds * 1e3, "ms"
    return f"{_sig3(value)} {unit}"


def fmt_rate(per_second: float, unit: str = "/s") -> str:
    """``23,456/s``, or three significant digits below 100 (``8.45/s``)."""
    if per_second < 100:
        return f"{_sig3(per_second)}{unit}"
    return f"{per_second:,.0f}{unit}"


def fmt_mib(nbytes: float) -> str:
    """``123.4 MiB``."""
    return f"{nbytes / 2**20:,.1f} MiB"


def fmt_ratio(value: float) -> str:
    """``2.31x``."""
    if math.isnan(value) or math.isinf(value):
        return "-"
    return f"{_sig3(value)}x"


def _sig3(value: float) -> str:
    if value == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"


@dataclasses.dataclass(frozen=True)
class Goal:
    """An acceptance number from the issue, checked against a median."""

    text: str
    check: Callable[[float], bool]

    @classmethod
    def time_below(cls, seconds: float) -> Goal:
        """Met when the median time is below ``seconds``."""
        return cls(f"< {fmt_time(seconds)}", lambda median: median < seconds)

    @classmethod
    def rate_above(cls, per_second: float, count: int, unit: str = "/s") -> Goal:
        """Met when ``count`` items in the median time is faster than ``per_second``."""
        return cls(f"> {fmt_rate(per_second, unit)}", lambda median: count / median > per_second)

    def verdict(self, median: float) -> str:
        """``met`` or ``MISSED``."""
        return "met" if self.check(median) else "MISSED"


class Table:
    """A titled, aligned text table with notes underneath."""

    def __init__(self, title: str, headers: Sequence[str]) -> None:
        self.title = title
        self.headers = list(headers)
        self.rows: list[list[str]] = []
        self.notes: list[str] = []

    def add(self, *cells: object) -> None:
        """Append a row (cells are turned into text)."""
        self.rows.append([str(c) for c in cells])

    def note(self, text: str) -> None:
        """Add a line printed under the table."""
        self.notes.append(text)

    def render(self) -> str:
        """The table as text."""
        widths = [len(h) for h in self.headers]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]

        def line(cells: Sequence[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=False)]
            return "  ".join([first, *rest]).rstrip()

        out = [self.title, line(self.headers), line(["-" * w for w in widths])]
        out += [line(row) for row in self.rows]
        out += [f"  {n}" for n in self.notes]
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """The table as plain data (for ``run.py --json``)."""
        return {
            "title": self.title,
            "headers": self.headers,
            "rows": self.rows,
            "notes": self.notes,
        }


class TimingTable(Table):
    """A table of timed cases: median, spread, optional rate, ratio to a baseline, goal."""

    HEADERS = ("case", "runs", "median", "min", "max", "rate", "vs baseline", "goal", "verdict")

    def __init__(self, title: str) -> None:
        super().__init__(title, self.HEADERS)
        self._baselines: dict[str, Stats] = {}

    def baseline(
        self, key: str, label: str, stats: Stats, *, count: int | None = None, unit: str = "/s"
    ) -> None:
        """A reference row; later rows give their ratio to it as ``1.23x key``."""
        self._baselines[key] = stats
        self.row(f"{label} [baseline {key}]", stats, count=count, unit=unit)

    def row(
        self,
        label: str,
        stats: Stats,
        *,
        vs: str | None = None,
        count: int | None = None,
        unit: str = "/s",
        goal: Goal | None = None,
    ) -> None:
        """A timed case; ``count`` items per run gives a rate column (items per second)."""
        ratio = ""
        if vs is not None:
            ratio = f"{fmt_ratio(stats.median / self._baselines[vs].median)} {vs}"
        self.add(
            label,
            stats.n,
            fmt_time(stats.median),
            fmt_time(stats.min),
            fmt_time(stats.max),
            fmt_rate(count / stats.median, unit) if count else "",
            ratio,
            goal.text if goal else "",
            goal.verdict(stats.median) if goal else "",
        )


class Reporter:
    """Prints tables and text as soon as a benchmark has them, and keeps them for --json."""

    def __init__(self) -> None:
        self.tables: list[Table] = []

    def table(self, table: Table) -> None:
        """Print ``table`` now."""
        self.tables.append(table)
        print(f"\n{table.render()}", flush=True)

    def text(self, text: str) -> None:
        """Print free text (a profile, a skip notice)."""
        print(text, flush=True)
