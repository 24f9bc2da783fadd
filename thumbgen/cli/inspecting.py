"""The commands that look at the queue: ``status``, ``jobs``, ``show``, ``manifest``.

Each prints a table on a terminal, tab-separated lines (:mod:`.plain`)
anywhere else, and JSON with ``--json``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from thumbgen import commands
from thumbgen.errors import ExitCode, UsageError
from thumbgen.jobqueue.contract import State

from . import plain, render, tables

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

from .common import QueueOpt, open_queue, reporting_errors

_STATES = "|".join(s.value for s in State)
JsonOpt = Annotated[
    bool, typer.Option("--json", envvar="THUMBGEN_JSON", help="Print JSON for scripts.")
]


def status(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Refresh every second (with --json: a line a second).")
    ] = False,
    failed: Annotated[bool, typer.Option("--failed", help="List every failure.")] = False,
    queue: QueueOpt = None,
) -> None:
    """Show the queue: jobs per state, live workers, throughput and failures.

    Example: thumbgen status --watch
    """
    q = open_queue(ctx, queue, create=False, readonly=True)
    limit = None if failed else 5
    with reporting_errors():
        if watch:
            _watch(q, as_json=as_json)
        report = commands.status(q, failures=limit)
        for warning in report.warnings:
            render.warn(warning)
        if as_json:
            render.line(json.dumps(report.to_dict(), indent=2))
        elif failed:
            render.text(tables.failure_lines(report))
        elif not sys.stdout.isatty():
            render.text(plain.status(report))
        else:
            render.out.print(tables.status_table(report))


def _watch(q: Queue, *, as_json: bool) -> None:
    try:
        if as_json:
            while True:
                line = json.dumps(commands.status(q).to_dict())
                render.line(line)
                time.sleep(1.0)
        tables.live_status(lambda: commands.status(q))
    except KeyboardInterrupt:
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def jobs(
    ctx: typer.Context,
    state: Annotated[
        str | None,
        typer.Option("--state", metavar=f"[{_STATES}]", help="Only jobs in this state."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, metavar="N", help="At most N jobs.")
    ] = 50,
    as_json: JsonOpt = False,
    queue: QueueOpt = None,
) -> None:
    """List jobs in queue order: id, state, tries, age, source and error.

    Example: thumbgen jobs --state failed
    """
    with reporting_errors():
        chosen = _state(state)
    q = open_queue(ctx, queue, create=False, readonly=True)
    with reporting_errors():
        found = commands.jobs(q, state=chosen, limit=limit)
    if as_json:
        data = [commands.job_dict(j) for j in found]
        render.line(json.dumps(data, indent=2))
    elif not sys.stdout.isatty():
        render.text(plain.jobs(found))
    else:
        render.out.print(tables.jobs_table(found))


def _state(text: str | None) -> State | None:
    if text is None:
        return None
    try:
        return State(text.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in State)
        raise UsageError(f"Invalid state {text!r}: choose one of {choices}") from None


def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID|SOURCE", help="A job id or a source file.")],
    as_json: JsonOpt = False,
    queue: QueueOpt = None,
) -> None:
    """Show one job: its outputs and each attempt (worker, host, time, outcome).

    Example: thumbgen show photos/cat.jpg
    """
    q = open_queue(ctx, queue, create=False, readonly=True)
    with reporting_errors():
        detail = commands.show(q, ref)
    if as_json:
        render.line(json.dumps(commands.show_dict(detail), indent=2))
    elif not sys.stdout.isatty():
        render.text(plain.job(detail, (p.shown() for p in commands.planned(detail))))
    else:
        render.out.print(tables.job_detail(detail))


def manifest(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SOURCE|FOLDER]...", help="Only these sources and those under these folders."
        ),
    ] = None,
    of: Annotated[
        str | None,
        typer.Option(
            "--manifest", metavar="FILE", help="Only the jobs queued with --manifest FILE."
        ),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite FILE (--manifest) from the queue instead.")
    ] = False,
    queue: QueueOpt = None,
) -> None:
    """Print the manifest of finished sources from the queue, without re-running anything.

    JSON: each source's outputs (path, key, width, height, bytes, format,
    SHA-256, crop), its size and orientation, a srcset, the average colour
    and the placeholder. Example: thumbgen manifest --manifest site/thumbs.json photos/
    """
    from thumbgen import locations
    from thumbgen.commands import manifest as manifests

    if write and (of is None or paths):
        raise UsageError("manifest --write needs --manifest FILE and no sources (it lists all)")
    where = locations.absolute(of) if of else None
    q = open_queue(ctx, queue, create=False, readonly=True)
    with reporting_errors():
        if write and where is not None:
            n = manifests.refresh(q.store, where)
            render.line(f"{where}: {n} source(s)")
            return
        found = manifests.entries(q.store, manifest=where, sources=paths or ())
    render.line(manifests.document(found).decode("utf-8", "surrogateescape").rstrip("\n"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(status)
    app.command()(jobs)
    app.command()(show)
    app.command()(manifest)
