"""The queue as tables: ``status`` (once, live or failures only), ``jobs`` and ``show``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import render

if TYPE_CHECKING:
    from rich.table import Table

    from thumbgen.commands import StatusReport
    from thumbgen.jobqueue.contract import JobDetail, JobRecord


def status_table(report: StatusReport) -> Table:
    """The ``status`` view: counts, throughput, workers and newest failures."""
    from rich.table import Table

    c = report.counts
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    grid.add_row(
        "queue", render.escape(render.path(report.queue)) + (" [yellow](paused)[/]" * report.paused)
    )
    grid.add_row("queued", str(c.queued))
    running = str(c.running)
    if report.stranded:
        running += " [yellow](no live worker: requeued when a worker starts)[/]"
    grid.add_row("running", running)
    grid.add_row("done", str(c.done))
    grid.add_row("failed", f"[red]{c.failed}[/]" if c.failed else "0")
    if c.cancelled:
        grid.add_row("cancelled", str(c.cancelled))
    if c.vanished:
        grid.add_row("vanished", f"{c.vanished} (source gone before its job ran)")
    grid.add_row("last minute", f"{report.finished_last_minute} finished")
    grid.add_row("workers", str(len(report.workers)))
    for w in report.workers:
        doing = render.escape(render.path(w.current)) if w.current else "idle"
        grid.add_row("", f"{render.escape(w.host)} pid {w.pid}: {w.jobs_done} done, {doing}")
    for f in report.failures:
        grid.add_row("[red]failure[/]", render.escape(render.path(f.error)))
    return grid


def live_status(refresh: Callable[[], StatusReport], interval: float = 1.0) -> None:
    """Redraw the status view every ``interval`` seconds until interrupted."""
    from rich.live import Live

    with Live(console=render.out) as live:
        while True:
            live.update(status_table(refresh()))
            time.sleep(interval)


def failure_lines(report: StatusReport) -> str:
    """Every failure, one line each (the reason names the file), for ``status --failed``."""
    return "".join(f"{render.path(f.error)}\n" for f in report.failures)


def jobs_table(jobs: list[JobRecord], now: float | None = None) -> Table:
    """``thumbgen jobs``: one row per job."""
    from rich.table import Table

    now = time.time() if now is None else now
    table = Table(box=None, padding=(0, 1), header_style="bold")
    for column in ("id", "state", "tries", "age", "source", "error"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        age = _age(now - job.queued_at) if job.queued_at else ""
        table.add_row(
            str(job.id),
            job.state.value,
            str(job.attempts),
            age,
            render.escape(render.path(job.source)),
            render.escape(render.path(job.error or "")),
        )
    return table


def job_detail(detail: JobDetail) -> Table:
    """``thumbgen show``: one job, its outputs and each attempt."""
    from rich.table import Table

    job = detail.job
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    grid.add_row("job", str(job.id))
    grid.add_row("source", render.escape(render.path(job.source)))
    grid.add_row("state", job.state.value)
    grid.add_row("priority", str(job.priority))
    grid.add_row("sizes", ", ".join(s.size.label for s in detail.options.specs))
    if job.error:
        grid.add_row("error", render.escape(render.path(job.error)))
    from thumbgen.commands import media_lines

    for field, value in media_lines(job.info):
        grid.add_row(field, render.escape(value))
    for output in job.outputs:
        grid.add_row("output", render.escape(render.path(output)))
    if not job.outputs:
        from thumbgen.commands import planned as plan_of

        for planned in plan_of(detail):
            grid.add_row("planned", render.escape(render.path(planned.shown())))
    for a in detail.attempts:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(a.started_at))
        outcome = a.outcome or "running"
        line = f"#{a.number} {when} {render.escape(a.host)} {render.escape(a.worker)}: {outcome}"
        if a.error:
            line += f" ({render.escape(render.path(a.error))})"
        grid.add_row("attempt", line)
    return grid


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{max(seconds, 0):.0f}s"
