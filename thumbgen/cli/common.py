"""What every command module shares: the one place errors become output, the queue.

:func:`reporting_errors` turns a :class:`~thumbgen.errors.ThumbgenError` into
``Error: ...`` on stderr and its exit code; usage errors that the parser
finds are turned into the same one line by :mod:`thumbgen.cli.app`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from thumbgen.errors import Interrupted, ThumbgenError

from . import render

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

QueueOpt = Annotated[
    str | None,
    typer.Option(
        "--queue",
        metavar="PATH",
        help="Queue file or redis:// URL (also before the command; THUMBGEN_QUEUE).",
        show_default=False,
    ),
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


def location(ctx: typer.Context, queue: str | None = None) -> str:
    """The queue location: this command's ``--queue``, else the one resolved at the top."""
    if queue:
        from thumbgen.config import resolve_queue

        return resolve_queue(queue)
    value: str = ctx.obj["queue"]
    return value


def open_queue(
    ctx: typer.Context, queue: str | None = None, *, create: bool = True, readonly: bool = False
) -> Queue:
    """Open the queue for this command, with one-line errors.

    Only the commands that put work in (add, worker, watch) create a queue;
    the others are told there is none where they looked. The commands that
    only read open it read-only, so a queue the user may only read works.
    """
    from thumbgen.jobqueue.backend import open_queue as open_location

    with reporting_errors():
        opened = open_location(location(ctx, queue), create=create, readonly=readonly)
    # Closed with the command, not left to the interpreter's teardown, which
    # main() skips: SQLite checkpoints and removes its -wal file on close.
    ctx.call_on_close(opened.close)
    return opened
