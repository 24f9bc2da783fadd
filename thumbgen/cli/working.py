"""``thumbgen worker``: run the processes that make the queued thumbnails."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from thumbgen import workers as worker_processes
from thumbgen.errors import ExitCode
from thumbgen.jobqueue.backend import shown
from thumbgen.options import DEFAULT_MAX_MEMORY_MIB
from thumbgen.workers import WorkerConfig
from thumbgen.workers.limits import JOB_TIMEOUT
from thumbgen.workers.retry import RetryPolicy
from thumbgen.workers.stopping import SHUTDOWN_TIMEOUT

from . import render
from .common import QueueOpt, open_queue, reporting_errors
from .options import CORES, WorkersOpt


def worker(
    ctx: typer.Context,
    workers: WorkersOpt = CORES,
    burst: Annotated[
        bool,
        typer.Option(
            "--burst", envvar="THUMBGEN_BURST", help="Exit once nothing is queued or running."
        ),
    ] = False,
    retries: Annotated[
        int,
        typer.Option(
            min=1,
            metavar="N",
            envvar="THUMBGEN_RETRIES",
            help="Tries per job for transient errors.",
        ),
    ] = RetryPolicy.attempts,
    retry_delay: Annotated[
        float,
        typer.Option(
            min=0.0,
            metavar="SECONDS",
            envvar="THUMBGEN_RETRY_DELAY",
            help="Seconds before the first retry; doubles each time.",
        ),
    ] = RetryPolicy.delay,
    job_timeout: Annotated[
        float,
        typer.Option(
            min=0.0,
            metavar="SECONDS",
            envvar="THUMBGEN_JOB_TIMEOUT",
            help="Longest time one file may take; longer ones fail (0: no limit)."
            " Example: --job-timeout 120",
        ),
    ] = JOB_TIMEOUT,
    max_memory: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="MIB",
            envvar="THUMBGEN_MAX_MEMORY",
            help="Refuse files whose decode needs more memory (estimated from the header),"
            " per worker (0: no limit). Example: --max-memory 2048",
        ),
    ] = DEFAULT_MAX_MEMORY_MIB,
    shutdown_timeout: Annotated[
        float,
        typer.Option(
            min=0.0,
            metavar="SECONDS",
            envvar="THUMBGEN_SHUTDOWN_TIMEOUT",
            help="Longest wait for running jobs after Ctrl-C.",
        ),
    ] = SHUTDOWN_TIMEOUT,
    exit_with_parent: Annotated[bool, typer.Option(hidden=True)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every job.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Log errors only.")] = False,
    queue: QueueOpt = None,
) -> None:
    """Run worker processes that make the queued thumbnails.

    Ctrl-C lets running jobs finish; a second Ctrl-C stops at once (those
    jobs go back to the queue). Example: thumbgen worker -w 4
    """
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(processName)s %(message)s")
    logging.getLogger("huey").setLevel(logging.ERROR)

    q = open_queue(ctx, queue)
    if not quiet:
        where = render.path(shown(q.location))
        render.note(f"thumbgen worker: {workers} process(es) on {where}")
    with reporting_errors():
        stopped = worker_processes.run(  # imports Huey's consumer and Pillow
            q,
            WorkerConfig(
                workers=workers,
                burst=burst,
                exit_with_parent=exit_with_parent,
                shutdown_timeout=shutdown_timeout,
                retry=RetryPolicy(attempts=retries, delay=retry_delay),
                job_timeout=job_timeout,
                max_memory=max_memory * 1024 * 1024,
            ),
        )
    raise typer.Exit(int(ExitCode.INTERRUPTED if stopped else ExitCode.OK))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(worker)
