"""Output for scripts: one tab-separated line per row, never wrapped.

When stdout is not a terminal (a pipe, a file), ``jobs``, ``status`` and
``show`` print these instead of rich's tables: a table wraps at 80 columns
there, splitting long file names over lines that grep and cut then miss.
Every name is escaped onto one line (a tab in a name shows as ``\\t``), so a
row's fields are exactly its tab-separated parts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from thumbgen.messages import display_path

if TYPE_CHECKING:
    from thumbgen.commands import StatusReport
    from thumbgen.jobqueue.contract import JobDetail, JobRecord


def rows(lines: Iterable[Iterable[object]]) -> str:
    """Each row as its fields joined by tabs, a line each."""
    return "".join("\t".join(str(field) for field in row) + "\n" for row in lines)


def jobs(found: list[JobRecord], now: float | None = None) -> str:
    """``jobs``: id, state, tries, age in seconds, source, error (empty when none)."""
    now = time.time() if now is None else now
    return rows(
        (
            job.id,
            job.state.value,
            job.attempts,
            f"{now - job.queued_at:.0f}" if job.queued_at else "",
            display_path(job.source),
            display_path(job.error or ""),
        )
        for job in found
    )


def status(report: StatusReport) -> str:
    """``status``: a ``key<TAB>value`` line per number of ``status --json``, then failures."""
    data = report.to_dict()
    keys = ("queued", "running", "done", "failed", "cancelled", "vanished", "workers")
    lines: list[tuple[object, ...]] = [("queue", display_path(report.queue))]
    lines.append(("paused", "yes" if report.paused else "no"))
    lines += [(key, data[key]) for key in (*keys, "stranded", "finished_last_minute")]
    lines += [("failure", display_path(f.error)) for f in report.failures]
    return rows(lines)


def job(detail: JobDetail, planned: Iterable[str]) -> str:
    """``show``: a ``field<TAB>value`` line per field, output, planned output and try."""
    j = detail.job
    lines: list[tuple[object, ...]] = [
        ("job", j.id),
        ("source", display_path(j.source)),
        ("state", j.state.value),
        ("priority", j.priority),
        ("sizes", ",".join(s.size.label for s in detail.options.specs)),
    ]
    if j.error:
        lines.append(("error", display_path(j.error)))
    from thumbgen.commands import media_lines

    lines += media_lines(j.info)
    lines += [("output", display_path(o)) for o in j.outputs]
    if not j.outputs:
        lines += [("planned", display_path(p)) for p in planned]
    for a in detail.attempts:
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(a.started_at))
        outcome = a.outcome or "running"
        lines.append(
            ("attempt", a.number, when, a.host, a.worker, outcome, display_path(a.error or ""))
        )
    return rows(lines)
