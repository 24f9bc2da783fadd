"""The ``thumbgen`` command line: parse, call one core function, render.

This is the only module that imports typer, and the one place where a
:class:`~thumbgen.errors.ThumbgenError` becomes ``Error: ...`` and an exit code.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from typing import Annotated

import typer

from thumbgen import commands
from thumbgen.config import resolve_queue
from thumbgen.errors import ExitCode, Interrupted, ThumbgenError
from thumbgen.jobqueue.contract import State
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.jobqueue.runner import RetryPolicy
from thumbgen.jobqueue.worker import WorkerConfig, run_worker
from thumbgen.options import DEFAULT_NAME, Options, build_options
from thumbgen.supervisor import EmbeddedWorkers, wait_for_batch
from thumbgen.watch.running import run_watch
from thumbgen.watch.watcher import WatchConfig, Watcher

from . import render

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    help="Make thumbnails through a durable local queue.\n\nExample: thumbgen add photos/ --wait",
)

_CORES = os.cpu_count() or 1

# -- shared options ---------------------------------------------------------

SizeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--size",
        "-s",
        envvar="THUMBGEN_SIZE",
        help="Box to fit: 256 (256x256), 320x240, 320x (width), x240 (height). Repeatable.",
    ),
]
FitOpt = Annotated[
    str,
    typer.Option(envvar="THUMBGEN_FIT", help="contain, cover (crop to fill), pad or fill."),
]
CropOpt = Annotated[
    str,
    typer.Option(envvar="THUMBGEN_CROP", help="Where cover crops: center, entropy, or x,y."),
]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        envvar="THUMBGEN_FORMAT",
        help="auto (JPEG, or PNG with transparency), jpeg, png, webp, avif.",
    ),
]
QualityOpt = Annotated[
    int, typer.Option("--quality", "-q", envvar="THUMBGEN_QUALITY", help="JPEG/WebP/AVIF quality.")
]
OutOpt = Annotated[str, typer.Option("--out", "-o", envvar="THUMBGEN_OUT", help="Output folder.")]
NameOpt = Annotated[
    str,
    typer.Option(
        envvar="THUMBGEN_NAME",
        help="Output name: {dir} {stem} {name} {size} {width} {height} {ext}.",
    ),
]
UpscaleOpt = Annotated[
    bool, typer.Option(envvar="THUMBGEN_UPSCALE", help="Enlarge sources smaller than the box.")
]
BackgroundOpt = Annotated[
    str,
    typer.Option(envvar="THUMBGEN_BACKGROUND", help="Colour for pad and for JPEG transparency."),
]
MaxPixelsOpt = Annotated[
    int | None,
    typer.Option(envvar="THUMBGEN_MAX_PIXELS", help="Refuse larger sources [default: 178956970]."),
]
WorkersOpt = Annotated[
    int,
    typer.Option("--workers", "-w", min=0, envvar="THUMBGEN_WORKERS", help="Worker processes."),
]


@contextlib.contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn expected errors into ``Error: ...`` on stderr and their exit code."""
    try:
        yield
    except Interrupted as exc:
        render.note(str(exc))
        raise typer.Exit(int(exc.exit_code)) from None
    except ThumbgenError as exc:
        render.error(str(exc))
        raise typer.Exit(int(exc.exit_code)) from None


def _options(
    size: list[str] | None,
    fit: str,
    crop: str,
    format: str,
    quality: int,
    out: str,
    name: str,
    upscale: bool,
    background: str,
    max_pixels: int | None,
) -> Options:
    """The shared output options of ``add`` and ``watch``, validated."""
    return build_options(
        size or ["256"],
        fit=fit,
        crop=crop,
        format=format,
        quality=quality,
        out_dir=out,
        name=name,
        upscale=upscale,
        background=background,
        max_pixels=max_pixels,
    )


def _queue(ctx: typer.Context) -> Queue:
    location: str = ctx.obj["queue"]
    with reporting_errors():
        return Queue(location)


@app.callback()
def _main(
    ctx: typer.Context,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            envvar="THUMBGEN_QUEUE",
            help="Queue: a SQLite file [default: queue.db in the per-user data folder].",
        ),
    ] = None,
) -> None:
    """Make thumbnails through a durable local queue."""
    ctx.obj = {"queue": resolve_queue(queue)}


@app.command()
def add(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Image files, folders and quoted globs.")],
    size: SizeOpt = None,
    fit: FitOpt = "contain",
    crop: CropOpt = "center",
    format: FormatOpt = "auto",
    quality: QualityOpt = 85,
    out: OutOpt = "thumbnails",
    name: NameOpt = DEFAULT_NAME,
    upscale: UpscaleOpt = False,
    background: BackgroundOpt = "white",
    max_pixels: MaxPixelsOpt = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Show progress until these jobs are finished.")
    ] = False,
    workers: WorkersOpt = _CORES,
    force: Annotated[
        bool, typer.Option("--force", help="Queue again even if thumbnails are up to date.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every skip.")] = False,
) -> None:
    """Queue thumbnail jobs for images, one job per source file.

    Example: thumbgen add photos/ "shots/**/*.jpg" -s 256 -s 1024 --wait
    """
    with reporting_errors():
        options = _options(
            size, fit, crop, format, quality, out, name, upscale, background, max_pixels
        )
        queue = Queue(ctx.obj["queue"])
        report = commands.add(queue, paths, options, force=force)
    render.add_report(report, verbose=verbose)
    code = ExitCode.OK
    if report.submitted.failed_before:
        code = ExitCode.SOME_FAILED
    if wait and report.waiting_for:
        code = max(code, _wait(queue, report, max(workers, 1), options))
    if report.missing:
        code = ExitCode.ERROR
    raise typer.Exit(int(code))


def _wait(queue: Queue, report: commands.AddReport, workers: int, options: Options) -> ExitCode:
    started = time.monotonic()
    with reporting_errors(), render.batch_progress(report.waiting_for) as (bar, task):
        counts = wait_for_batch(
            queue,
            report,
            workers=workers,
            on_update=lambda c, _live: render.update_progress(bar, task, c, started),
            on_stopping=lambda: render.note(
                "Stopping: finishing running jobs (Ctrl-C again to stop at once)"
            ),
        )
    for failure in queue.store.batch_failures(report.batch, report.submitted.pending_ids):
        render.note(f"failed: {failure.error}")
    render.note(f"{counts.done} done, {counts.failed} failed; thumbnails in {options.out_dir}")
    return ExitCode.SOME_FAILED if counts.failed else ExitCode.OK


@app.command()
def watch(
    ctx: typer.Context,
    dirs: Annotated[list[str], typer.Argument(help="Folders to watch.")],
    size: SizeOpt = None,
    fit: FitOpt = "contain",
    crop: CropOpt = "center",
    format: FormatOpt = "auto",
    quality: QualityOpt = 85,
    out: OutOpt = "thumbnails",
    name: NameOpt = DEFAULT_NAME,
    upscale: UpscaleOpt = False,
    background: BackgroundOpt = "white",
    max_pixels: MaxPixelsOpt = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            envvar="THUMBGEN_WORKERS",
            help="Worker processes to run; 0 = only queue (workers run elsewhere).",
        ),
    ] = _CORES,
    poll: Annotated[
        float | None,
        typer.Option(min=0.1, help="Poll every SECONDS instead of OS events (network shares)."),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Watch subfolders too.")
    ] = False,
    settle: Annotated[
        float,
        typer.Option(min=0.0, help="Seconds a file must stay unchanged before it is queued."),
    ] = 2.0,
    rescan: Annotated[
        float, typer.Option(min=1.0, help="Seconds between scans for files events missed.")
    ] = 300.0,
) -> None:
    """Queue every image that arrives in DIR, once it is completely written.

    Starts by queueing what is already there and not yet done. Ctrl-C stops
    watching and lets running jobs finish. Example: thumbgen watch inbox/ -w 2
    """
    location = ctx.obj["queue"]
    # Lost events and rescans are worth a line; watchdog's overflow warning too.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with reporting_errors():
        options = _options(
            size, fit, crop, format, quality, out, name, upscale, background, max_pixels
        )
        queue = Queue(location)

        def on_ready(root: str, paths: list[str]) -> None:
            report = commands.add(queue, paths, options, root=root)
            render.arrivals(report)

        config = WatchConfig(
            tuple(dirs),
            recursive=recursive,
            poll=poll,
            settle=settle,
            rescan=rescan,
            exclude=(options.out_dir,),
        )
        watcher = Watcher(config, on_ready)
        for hint in watcher.hints():
            render.note(hint)
        embedded = (
            EmbeddedWorkers(location, workers, burst=False, shutdown_timeout=5.0)
            if workers
            else None
        )
        with render.watch_line() as show:
            run_watch(
                watcher,
                embedded,
                on_status=lambda st: show(st, commands.status(queue, failures=0)),
                on_stopping=lambda: render.note(
                    "Stopping: finishing running jobs (Ctrl-C again to stop at once)"
                ),
            )


@app.command()
def worker(
    ctx: typer.Context,
    workers: WorkersOpt = _CORES,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once nothing is queued or running.")
    ] = False,
    retries: Annotated[
        int,
        typer.Option(min=1, envvar="THUMBGEN_RETRIES", help="Tries per job for transient errors."),
    ] = 3,
    retry_delay: Annotated[
        float,
        typer.Option(
            min=0.0,
            envvar="THUMBGEN_RETRY_DELAY",
            help="Seconds before the first retry; doubles each time.",
        ),
    ] = 2.0,
    shutdown_timeout: Annotated[
        float,
        typer.Option(
            min=0.0,
            envvar="THUMBGEN_SHUTDOWN_TIMEOUT",
            help="Longest wait for running jobs after Ctrl-C.",
        ),
    ] = 30.0,
    exit_with_parent: Annotated[bool, typer.Option(hidden=True)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every job.")] = False,
) -> None:
    """Run worker processes that make the queued thumbnails.

    Ctrl-C lets running jobs finish; a second Ctrl-C stops at once (those
    jobs go back to the queue). Example: thumbgen worker -w 4
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(processName)s %(message)s",
    )
    logging.getLogger("huey").setLevel(logging.ERROR)
    queue = _queue(ctx)
    render.note(f"thumbgen worker: {max(workers, 1)} process(es) on {queue.location}")
    with reporting_errors():
        stopped = run_worker(
            queue,
            WorkerConfig(
                workers=max(workers, 1),
                burst=burst,
                exit_with_parent=exit_with_parent,
                shutdown_timeout=shutdown_timeout,
                retry=RetryPolicy(attempts=retries, delay=retry_delay),
            ),
        )
    raise typer.Exit(int(ExitCode.INTERRUPTED if stopped else ExitCode.OK))


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every second.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="List every failure.")] = False,
) -> None:
    """Show the queue: jobs per state, live workers, throughput and failures."""
    queue = _queue(ctx)
    limit = None if failed else 5
    with reporting_errors():
        report = commands.status(queue, failures=limit)
        if as_json:
            render.out.print(render.status_json(report), highlight=False)
        elif failed:
            render.out.out(render.failure_lines(report), end="", highlight=False)
        elif watch:
            with contextlib.suppress(KeyboardInterrupt):
                render.live_status(lambda: commands.status(queue))
        else:
            render.out.print(render.status_table(report))


@app.command()
def retry(ctx: typer.Context) -> None:
    """Queue every failed job again."""
    queue = _queue(ctx)
    with reporting_errors():
        n = commands.retry(queue)
    render.out.print(f"{n} queued again", highlight=False)


@app.command()
def clear(
    ctx: typer.Context,
    done: Annotated[bool, typer.Option("--done", help="Forget finished jobs.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Forget failed jobs.")] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Forget every job, queued and running too.")
    ] = False,
) -> None:
    """Forget jobs (thumbnails stay). Without flags: --done and --failed."""
    states = [State.DONE] if done else []
    states += [State.FAILED] if failed else []
    if all_:
        states = list(State)
    queue = _queue(ctx)
    with reporting_errors():
        n = commands.clear(queue, states or [State.DONE, State.FAILED])
    render.out.print(f"{n} jobs cleared", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="thumbgen")
