"""Terminal output for the CLI: rich tables, progress and messages.

Only :mod:`thumbgen.cli` imports this module; the core returns plain reports
and this turns them into text. Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from thumbgen.commands import AddReport, StatusReport
from thumbgen.jobqueue.contract import Counts

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from thumbgen.watch.watcher import WatchStatus

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def error(message: str) -> None:
    """Print ``Error: message`` on stderr."""
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False)


def note(message: str) -> None:
    """Print an informational line on stderr."""
    err.print(escape(message), highlight=False)


def add_report(report: AddReport, *, verbose: bool = False) -> None:
    """Summarise what ``add`` queued, found up to date and skipped."""
    sub = report.submitted
    parts = [f"{sub.queued} queued"]
    if sub.pending_ids:
        parts.append(f"{len(sub.pending_ids)} already queued")
    if sub.up_to_date:
        parts.append(f"{sub.up_to_date} up to date")
    if sub.failed_before:
        parts.append(f"{len(sub.failed_before)} failed before")
    skipped = len(report.skipped) + len(sub.conflicts)
    if skipped:
        parts.append(f"{skipped} skipped")
    out.print(", ".join(parts), highlight=False)
    shown = report.skipped if verbose else report.skipped[:20]
    for item in shown:
        note(f"skipped {item.path}: {item.reason}")
    if len(shown) < len(report.skipped):
        note(f"... and {len(report.skipped) - len(shown)} more skipped (-v lists them all)")
    for source, other in sub.conflicts[:20]:
        note(
            f"skipped {source}: its thumbnails would overwrite those of {other}; "
            "use another -o folder, or put {name} in --name"
        )
    for _source, reason in sub.failed_before[:20]:
        note(f"failed before (unchanged since): {reason}")
    if sub.failed_before:
        note("run `thumbgen retry` or add --force to try them again")
    for item in report.missing:
        error(f"{item.path}: {item.reason}")


@contextmanager
def batch_progress(total: int) -> Iterator[tuple[Progress, TaskID]]:
    """A progress bar with done/total, rate, ETA and failures so far."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]thumbnails"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[failed]}"),
        console=err,
        transient=False,
    )
    with progress:
        task = progress.add_task("thumbnails", total=total, rate="", failed="")
        yield progress, task


def update_progress(progress: Progress, task: TaskID, counts: Counts, started: float) -> None:
    """Move the bar to ``counts``."""
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = f"{counts.finished / elapsed:.1f}/s" if counts.finished else ""
    failed = f"[red]{counts.failed} failed" if counts.failed else ""
    progress.update(task, completed=counts.finished, rate=rate, failed=failed)


def status_table(report: StatusReport) -> Table:
    """The ``status`` view: counts, throughput, workers and newest failures."""
    c = report.counts
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    grid.add_row("queue", escape(report.queue))
    grid.add_row("queued", str(c.queued))
    grid.add_row("running", str(c.running))
    grid.add_row("done", str(c.done))
    grid.add_row("failed", f"[red]{c.failed}[/]" if c.failed else "0")
    grid.add_row("last minute", f"{report.finished_last_minute} finished")
    grid.add_row("workers", str(len(report.workers)))
    for w in report.workers:
        doing = escape(w.current) if w.current else "idle"
        grid.add_row("", f"{escape(w.host)} pid {w.pid}: {w.jobs_done} done, {doing}")
    for f in report.failures:
        grid.add_row("[red]failure[/]", escape(f.error))
    return grid


def live_status(refresh: Callable[[], StatusReport], interval: float = 1.0) -> None:
    """Redraw the status view every ``interval`` seconds until interrupted."""
    with Live(console=out) as live:
        while True:
            live.update(status_table(refresh()))
            time.sleep(interval)


def failure_lines(report: StatusReport) -> str:
    """Every failure, one line each (the reason names the file), for ``status --failed``."""
    return "".join(f"{f.error}\n" for f in report.failures)


def arrivals(report: AddReport) -> None:
    """One line per file the watcher could not queue (the rest show in the status line)."""
    for item in report.skipped:
        note(f"skipped {item.path}: {item.reason}")
    for source, other in report.submitted.conflicts:
        note(f"skipped {source}: its thumbnails would overwrite those of {other}")
    for _source, reason in report.submitted.failed_before:
        note(f"failed before (unchanged since): {reason}")


@contextmanager
def watch_line() -> Iterator[Callable[[WatchStatus, StatusReport], None]]:
    """A live status line for ``watch``; yields the function that updates it.

    Only on a terminal: in a log file a redrawn line is just noise.
    """
    if not err.is_terminal:
        yield lambda watch, queue: None
        return
    with Live(console=err, refresh_per_second=4, transient=False) as live:

        def show(watch: WatchStatus, queue: StatusReport) -> None:
            c = queue.counts
            folders = ", ".join(_short(f) for f in watch.folders)
            line = Text.assemble(
                ("watching ", "bold"),
                f"{folders} ({watch.observer}): {watch.settling} settling, ",
                f"{c.queued} queued, {c.running} running, {c.done} done, ",
                (f"{c.failed} failed", "red" if c.failed else ""),
                f", {len(queue.workers)} workers",
            )
            live.update(line)

        yield show


def _short(path: str) -> str:
    """``path`` relative to the current folder when that is shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path
