"""The commands that steer the queue: retry, cancel, clear, pause, resume, config."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from thumbgen import commands
from thumbgen.errors import ExitCode
from thumbgen.jobqueue.contract import State

from . import render, settings

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

from .common import QueueOpt, location, open_queue, reporting_errors

RefsArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="[ID|SOURCE]...", help="Job ids or source files.", show_default=False),
]


JsonOpt = Annotated[
    bool, typer.Option("--json", envvar="THUMBGEN_JSON", help="Print JSON for scripts.")
]


def _counted(as_json: bool, key: str, n: int, words: str) -> None:
    render.line(json.dumps({key: n}) if as_json else f"{n} {words}")


def retry(
    ctx: typer.Context, refs: RefsArg = None, as_json: JsonOpt = False, queue: QueueOpt = None
) -> None:
    """Queue failed jobs again: those named, or every failure.

    Example: thumbgen retry 12 photos/cat.jpg
    """
    q = open_queue(ctx, queue, create=False)
    with reporting_errors():
        n = commands.retry(q, refs or [])
    _counted(as_json, "queued_again", n, "queued again")


def cancel(
    ctx: typer.Context,
    refs: RefsArg = None,
    every: Annotated[bool, typer.Option("--all", help="Cancel every queued job.")] = False,
    as_json: JsonOpt = False,
    queue: QueueOpt = None,
) -> None:
    """Cancel queued jobs (running ones finish): those named, or --all.

    Example: thumbgen cancel --all
    """
    q = open_queue(ctx, queue, create=False)
    with reporting_errors():
        n = commands.cancel(q, refs or [], every=every)
    _counted(as_json, "cancelled", n, "cancelled")


def clear(
    ctx: typer.Context,
    done: Annotated[bool, typer.Option("--done", help="Forget finished jobs.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Forget failed jobs.")] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Forget every job, queued and running too.")
    ] = False,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", metavar="AGE", help="Only jobs finished longer ago: 90s, 30m, 12h, 7d."
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --all.")] = False,
    as_json: JsonOpt = False,
    queue: QueueOpt = None,
) -> None:
    """Forget jobs (thumbnails stay). Without flags: --done and --failed.

    Example: thumbgen clear --older-than 7d
    """
    with reporting_errors():
        age = commands.parse_age(older_than) if older_than is not None else None
    states = [State.DONE] if done else []
    states += [State.FAILED] if failed else []
    if all_:
        states = list(State)
    q = open_queue(ctx, queue, create=False)
    if all_ and not yes:
        _confirm_all(q)
    with reporting_errors():
        finished = [State.DONE, State.FAILED, State.CANCELLED, State.VANISHED]
        n = commands.clear(q, states or finished, older_than=age)
    _counted(as_json, "cleared", n, "jobs cleared")


def _confirm_all(q: Queue) -> None:
    counts = q.store.counts()
    if not sys.stdin.isatty():
        render.error("clear --all forgets queued and running jobs too; add --yes to confirm")
        raise typer.Exit(int(ExitCode.USAGE))
    question = (
        f"Forget all {counts.total} jobs, {counts.queued} queued and {counts.running} running?"
    )
    if not typer.confirm(question, default=False, err=True):
        render.note("Nothing cleared")
        raise typer.Exit(int(ExitCode.ERROR))


def pause(ctx: typer.Context, queue: QueueOpt = None) -> None:
    """Stop workers on every machine from starting jobs (running ones finish).

    Example: thumbgen pause
    """
    q = open_queue(ctx, queue, create=False)
    with reporting_errors():
        commands.pause(q)
    render.line("paused: workers start no new jobs until `thumbgen resume`")


def resume(ctx: typer.Context, queue: QueueOpt = None) -> None:
    """Let workers start jobs again after `thumbgen pause`.

    Example: thumbgen resume
    """
    q = open_queue(ctx, queue, create=False)
    with reporting_errors():
        commands.resume(q)
    render.line("resumed")


def repair(ctx: typer.Context, queue: QueueOpt = None) -> None:
    """Salvage the jobs of a damaged queue file into a fresh one (thumbnails untouched).

    Queued and running jobs are queued again, finished ones kept; the damaged
    file stays beside it as NAME.damaged-TIME. Stop the workers first.
    Example: thumbgen repair --queue ~/thumbs/queue.db
    """
    from thumbgen.commands import repairing

    with reporting_errors():
        report = repairing.repair(location(ctx, queue))
    render.line(report.summary())


def config(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print the effective settings and where each came from.

    Settings resolve: flag, then THUMBGEN_* variable, then the config file,
    then the default. Example: thumbgen --config my.toml config
    """
    loaded: settings.Loaded = ctx.obj["config"]
    group = ctx.find_root().command
    found = settings.effective(loaded, group)
    if as_json:
        data = {
            "config_file": loaded.file.path,
            "found": loaded.file.found,
            "settings": [dataclasses.asdict(s) for s in found],
        }
        render.line(json.dumps(data, indent=2))
        return
    status = "" if loaded.file.found else " (not found; defaults apply)"
    render.line(f"# config file: {render.path(loaded.file.path)}{status}")
    render.text(render.settings_lines(found))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    for command in (retry, cancel, clear, pause, resume, repair, config):
        app.command()(command)
