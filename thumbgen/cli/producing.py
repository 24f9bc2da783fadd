"""The commands that put work in the queue: ``add`` and ``watch``."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from thumbgen import commands
from thumbgen.errors import Interrupted
from thumbgen.watch.config import WatchConfig
from thumbgen.workers.stopping import STOPPING_MESSAGE

from . import render
from .common import QueueOpt, open_queue, reporting_errors
from .options import CORES, OutputOptions, QueueingWorkersOpt, WorkersOpt, with_output_options

if TYPE_CHECKING:
    from thumbgen.jobqueue.contract import Counts
    from thumbgen.jobqueue.huey_app import Queue
    from thumbgen.options import Options
    from thumbgen.workers.embedded import EmbeddedWorkers

PriorityOpt = Annotated[
    int,
    typer.Option(
        "--priority",
        "-p",
        metavar="N",
        envvar="THUMBGEN_PRIORITY",
        help="Higher runs first: fresh arrivals can jump a backlog.",
    ),
]


@with_output_options
def add(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(metavar="PATH...", help="Image files, folders and quoted globs.")
    ],
    output: OutputOptions,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", envvar="THUMBGEN_WAIT", help="Show progress until these jobs are finished."
        ),
    ] = False,
    workers: WorkersOpt = CORES,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            envvar="THUMBGEN_FORCE",
            help="Queue again even if thumbnails are up to date.",
        ),
    ] = False,
    priority: PriorityOpt = 0,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say what would be queued, up to date or skipped; queue nothing."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", envvar="THUMBGEN_JSON", help="Print one JSON object.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every skip.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print errors only.")] = False,
    queue: QueueOpt = None,
) -> None:
    """Queue thumbnail jobs for images, one job per source file.

    Example: thumbgen add photos/ "shots/**/*.jpg" -s 256 -s 1024 --wait
    """
    with reporting_errors():
        options = output.build()
    q = open_queue(ctx, queue)
    if not wait or dry_run:
        with reporting_errors():
            report = commands.add(
                q, paths, options, force=force, priority=priority, dry_run=dry_run
            )
        _report(report, as_json=as_json, verbose=verbose, quiet=quiet)
        raise typer.Exit(int(commands.add_exit_code(report)))
    from thumbgen.workers import supervisor  # starts worker processes: only for --wait

    # The workers start with the first jobs, while the rest are still found.
    with reporting_errors(), supervisor.WorkersOnDemand(q, workers, on_stopping=_stopping) as early:
        report = commands.add(
            q, paths, options, force=force, priority=priority, on_queued=early.start
        )
        _report(report, as_json=as_json, verbose=verbose, quiet=quiet)
        finished = None
        if report.waiting_for:
            finished = _wait(q, report, workers, options, quiet=quiet, embedded=early.embedded)
    raise typer.Exit(int(commands.add_exit_code(report, finished)))


def _stopping() -> None:
    render.note(STOPPING_MESSAGE)


def _report(report: commands.AddReport, *, as_json: bool, verbose: bool, quiet: bool) -> None:
    if as_json:
        render.line(json.dumps(report.to_dict(), indent=2))
    else:
        render.add_report(report, verbose=verbose, quiet=quiet)


def _wait(
    queue: Queue,
    report: commands.AddReport,
    workers: int,
    options: Options,
    *,
    quiet: bool,
    embedded: EmbeddedWorkers | None,
) -> Counts:
    from thumbgen.workers import supervisor

    latest: list[Counts] = []

    def update(counts: Counts) -> None:
        latest[:] = [counts]
        move_bar(counts)

    with reporting_errors():
        try:
            with render.batch_progress(report.waiting_for, quiet=quiet) as move_bar:
                counts = supervisor.wait_for_batch(
                    queue,
                    report,
                    workers=workers,
                    on_update=lambda c, _live: update(c),
                    on_stopping=_stopping,
                    embedded=embedded,
                )
        except Interrupted:
            # What was finished before the stop is worth a line too.
            if latest:
                _summary(queue, report, latest[0], options, quiet=quiet)
            raise
        _summary(queue, report, counts, options, quiet=quiet)
    return counts


def _summary(
    queue: Queue, report: commands.AddReport, counts: Counts, options: Options, *, quiet: bool
) -> None:
    for failure in commands.batch_failures(queue, report):
        render.note(f"failed: {failure.error}")
    if quiet:
        return  # errors only: the failures above
    shown = render.path(options.out_dir)
    vanished = f", {counts.vanished} vanished" if counts.vanished else ""
    render.note(f"{counts.done} done, {counts.failed} failed{vanished}; thumbnails in {shown}")


@with_output_options
def watch(
    ctx: typer.Context,
    dirs: Annotated[
        list[str],
        typer.Argument(
            metavar="DIR...", help="Folders, or s3://BUCKET/PREFIX/ prefixes, to watch."
        ),
    ],
    output: OutputOptions,
    workers: QueueingWorkersOpt = CORES,
    poll: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            metavar="SECONDS",
            envvar="THUMBGEN_POLL",
            help="Poll every SECONDS instead of OS events (network shares);"
            " buckets are listed every 10 s unless given.",
        ),
    ] = None,
    recursive: Annotated[
        bool,
        typer.Option(
            "--recursive", "-r", envvar="THUMBGEN_RECURSIVE", help="Watch subfolders too."
        ),
    ] = False,
    settle: Annotated[
        float,
        typer.Option(
            min=0.0,
            metavar="SECONDS",
            envvar="THUMBGEN_SETTLE",
            help="Seconds a file must stay unchanged before it is queued.",
        ),
    ] = WatchConfig.settle,
    rescan: Annotated[
        float,
        typer.Option(
            min=1.0,
            metavar="SECONDS",
            envvar="THUMBGEN_RESCAN",
            help="Seconds between scans for files events missed.",
        ),
    ] = WatchConfig.rescan,
    mirror_deletes: Annotated[
        bool,
        typer.Option(
            "--mirror-deletes",
            envvar="THUMBGEN_MIRROR_DELETES",
            help="When a source is deleted or renamed away, remove its thumbnails"
            " (and its queued job).",
        ),
    ] = False,
    priority: PriorityOpt = 0,
    queue: QueueOpt = None,
) -> None:
    """Queue every image that arrives in DIR, once it is completely written.

    Starts by queueing what is already there and not yet done. Ctrl-C stops
    watching and lets running jobs finish. Example: thumbgen watch inbox/ -w 2
    """
    from thumbgen.workers import supervisor  # watchdog and worker processes: only for watch

    # Lost events and rescans are worth a line; watchdog's overflow warning too.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with reporting_errors():
        options = output.build()
    q = open_queue(ctx, queue)
    arrivals = render.Arrivals()
    with reporting_errors():
        config = WatchConfig(
            tuple(dirs),
            recursive=recursive,
            poll=poll,
            settle=settle,
            rescan=rescan,
            mirror_deletes=mirror_deletes,
        )
        with render.watch_line(arrivals) as show:
            supervisor.watch(
                q,
                config,
                options,
                workers=workers,
                priority=priority,
                on_report=arrivals.add,
                on_hint=render.note,
                on_status=show,
                on_stopping=lambda: render.note(STOPPING_MESSAGE),
            )


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(add)
    app.command()(watch)
