"""The ``thumbgen`` commands: parse, call one service function, render.

The one place where a :class:`~thumbgen.errors.ThumbgenError` becomes
``Error: ...`` and an exit code (:func:`reporting_errors`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Annotated

import typer

from thumbgen import commands, supervisor
from thumbgen.config import resolve_queue
from thumbgen.errors import ExitCode, Interrupted, ThumbgenError
from thumbgen.jobqueue.contract import Counts, State
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.jobqueue.retry import RetryPolicy
from thumbgen.options import Options
from thumbgen.stopping import SHUTDOWN_TIMEOUT, STOPPING_MESSAGE
from thumbgen.watch.config import WatchConfig

from . import render
from .options import CORES, OutputOptions, WorkersOpt, with_output_options

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    help="Make thumbnails through a durable local queue.\n\nExample: thumbgen add photos/ --wait",
)


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
@with_output_options
def add(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Image files, folders and quoted globs.")],
    output: OutputOptions,
    wait: Annotated[
        bool, typer.Option("--wait", help="Show progress until these jobs are finished.")
    ] = False,
    workers: WorkersOpt = CORES,
    force: Annotated[
        bool, typer.Option("--force", help="Queue again even if thumbnails are up to date.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every skip.")] = False,
) -> None:
    """Queue thumbnail jobs for images, one job per source file.

    Example: thumbgen add photos/ "shots/**/*.jpg" -s 256 -s 1024 --wait
    """
    with reporting_errors():
        options = output.build()
        queue = Queue(ctx.obj["queue"])
        report = commands.add(queue, paths, options, force=force)
    render.add_report(report, verbose=verbose)
    finished = None
    if wait and report.waiting_for:
        finished = _wait(queue, report, max(workers, 1), options)
    raise typer.Exit(int(commands.add_exit_code(report, finished)))


def _wait(queue: Queue, report: commands.AddReport, workers: int, options: Options) -> Counts:
    started = time.monotonic()
    with reporting_errors(), render.batch_progress(report.waiting_for) as (bar, task):
        counts = supervisor.wait_for_batch(
            queue,
            report,
            workers=workers,
            on_update=lambda c, _live: render.update_progress(bar, task, c, started),
            on_stopping=lambda: render.note(STOPPING_MESSAGE),
        )
    for failure in commands.batch_failures(queue, report):
        render.note(f"failed: {failure.error}")
    render.note(f"{counts.done} done, {counts.failed} failed; thumbnails in {options.out_dir}")
    return counts


@app.command()
@with_output_options
def watch(
    ctx: typer.Context,
    dirs: Annotated[list[str], typer.Argument(help="Folders to watch.")],
    output: OutputOptions,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            envvar="THUMBGEN_WORKERS",
            help="Worker processes to run; 0 = only queue (workers run elsewhere).",
        ),
    ] = CORES,
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
    ] = WatchConfig.settle,
    rescan: Annotated[
        float, typer.Option(min=1.0, help="Seconds between scans for files events missed.")
    ] = WatchConfig.rescan,
) -> None:
    """Queue every image that arrives in DIR, once it is completely written.

    Starts by queueing what is already there and not yet done. Ctrl-C stops
    watching and lets running jobs finish. Example: thumbgen watch inbox/ -w 2
    """
    # Lost events and rescans are worth a line; watchdog's overflow warning too.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with reporting_errors():
        options = output.build()
        queue = Queue(ctx.obj["queue"])
        config = WatchConfig(
            tuple(dirs), recursive=recursive, poll=poll, settle=settle, rescan=rescan
        )
        with render.watch_line() as show:
            supervisor.watch(
                queue,
                config,
                options,
                workers=workers,
                on_report=render.arrivals,
                on_hint=render.note,
                on_status=show,
                on_stopping=lambda: render.note(STOPPING_MESSAGE),
            )


@app.command()
def worker(
    ctx: typer.Context,
    workers: WorkersOpt = CORES,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once nothing is queued or running.")
    ] = False,
    retries: Annotated[
        int,
        typer.Option(min=1, envvar="THUMBGEN_RETRIES", help="Tries per job for transient errors."),
    ] = RetryPolicy.attempts,
    retry_delay: Annotated[
        float,
        typer.Option(
            min=0.0,
            envvar="THUMBGEN_RETRY_DELAY",
            help="Seconds before the first retry; doubles each time.",
        ),
    ] = RetryPolicy.delay,
    shutdown_timeout: Annotated[
        float,
        typer.Option(
            min=0.0,
            envvar="THUMBGEN_SHUTDOWN_TIMEOUT",
            help="Longest wait for running jobs after Ctrl-C.",
        ),
    ] = SHUTDOWN_TIMEOUT,
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
    from thumbgen.jobqueue.worker import WorkerConfig, run_worker  # huey.consumer, Pillow

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
            render.out.print(json.dumps(report.to_dict(), indent=2), highlight=False)
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
