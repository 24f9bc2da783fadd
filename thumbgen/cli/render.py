"""Terminal output for the CLI: messages, progress and the lines of add, watch and config.

The core returns plain reports and this turns them into text (the queue's
tables are in :mod:`.tables`). Data goes to
stdout, messages to stderr. Every file name printed goes through
:func:`path`, so a name holding a newline or undecodable bytes stays on one
line and cannot forge an ``Error:`` line of its own.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from thumbgen.errors import UsageError
from thumbgen.messages import display_path

if TYPE_CHECKING:
    from rich.console import Console

    from thumbgen.commands import AddReport, WatchProgress
    from thumbgen.jobqueue.contract import Counts
    from thumbgen.watch.config import WatchStatus

    from .settings import Setting

#: Skips and similar lists shown before "... and N more".
SHOWN = 20
#: Keyword arguments for the consoles, set by ``--color``.
_COLOR: dict[str, Any] = {}
_CONSOLES: dict[str, Console] = {}


def set_color(mode: str, *, no_color: bool = False) -> None:
    """Apply ``--color auto|always|never`` (and ``NO_COLOR``) to both consoles."""
    word = mode.strip().lower()
    if word not in ("auto", "always", "never"):
        raise UsageError(f"Invalid --color {mode!r}: choose one of auto, always, never")
    _COLOR.clear()
    _CONSOLES.clear()
    if word == "always":
        _COLOR["force_terminal"] = True
    if word == "never" or no_color:
        _COLOR["no_color"] = True


def __getattr__(name: str) -> Console:
    # The consoles (and rich) are made on first use: ``status --json`` and
    # ``--help`` print without them and start faster.
    if name not in ("out", "err"):
        raise AttributeError(name)
    if name not in _CONSOLES:
        from rich.console import Console

        # No emoji codes: a file named "a:fire:.jpg" is printed as it is.
        _CONSOLES[name] = Console(stderr=name == "err", soft_wrap=True, emoji=False, **_COLOR)
    return _CONSOLES[name]


def escape(text: str) -> str:
    """``text`` with rich markup characters escaped."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def line(text: str) -> None:
    """Print a line of data on stdout as it is (JSON, counts)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def text(data: str) -> None:
    """Print ``data`` on stdout as it is (it brings its own newlines)."""
    sys.stdout.write(data)
    sys.stdout.flush()


def path(name: str) -> str:
    """A file name made safe for one line of output."""
    return display_path(name)


def error(message: str) -> None:
    """Print ``Error: message`` on stderr (always one line)."""
    _err().print(f"[bold red]Error:[/] {escape(_one_line(message))}", highlight=False)


def note(message: str) -> None:
    """Print an informational line on stderr."""
    if "err" not in _CONSOLES:
        # Nothing of rich's is on the screen (no bar, no live status line), and
        # a plain line needs none of it: the last line of a quick ``add --wait
        # --quiet`` would otherwise import rich for itself (40 ms).
        sys.stderr.write(_one_line(message) + "\n")
        sys.stderr.flush()
        return
    _err().print(escape(_one_line(message)), highlight=False)


def warn(message: str) -> None:
    """Print ``Warning: message`` on stderr."""
    _err().print(f"[yellow]Warning:[/] {escape(_one_line(message))}", highlight=False)


def _one_line(text: str) -> str:
    return text if "\n" not in text and "\r" not in text else display_path(text)


def add_report(report: AddReport, *, verbose: bool = False, quiet: bool = False) -> None:
    """Summarise what ``add`` queued, found up to date and skipped."""
    sub = report.submitted
    verb = "would be queued" if report.dry_run else "queued"
    parts = [f"{len(sub.would_queue) if report.dry_run else sub.queued} {verb}"]
    if sub.pending_ids:
        parts.append(f"{len(sub.pending_ids)} already queued")
    if sub.up_to_date:
        parts.append(f"{sub.up_to_date} up to date")
    if sub.failed_before:
        parts.append(f"{len(sub.failed_before)} failed before")
    skipped = len(report.skipped) + len(sub.conflicts)
    if skipped:
        parts.append(f"{skipped} skipped")
    # "0 queued" and nothing else would only precede the error that says why.
    says_nothing = len(parts) == 1 and not report.found and (report.missing or report.nothing_found)
    if not quiet:
        if not says_nothing:
            line(", ".join(parts))
        limit = None if verbose or report.dry_run else SHOWN
        if report.dry_run:
            for source in sub.would_queue[:limit]:
                note(f"would queue {path(source)}")
        _skips(report, limit)
    for item in report.missing:
        error(f"{path(item.path)}: {item.reason}")
    if report.nothing_found:
        where = ", ".join(path(p) for p in report.paths[:3])
        more = f" and {len(report.paths) - 3} more" if len(report.paths) > 3 else ""
        error(f"No image found in {where}{more}; nothing to queue")


def _skips(report: AddReport, limit: int | None) -> None:
    sub = report.submitted
    shown = report.skipped[:limit]
    for item in shown:
        note(f"skipped {path(item.path)}: {item.reason}")
    if len(shown) < len(report.skipped):
        note(f"... and {len(report.skipped) - len(shown)} more skipped (-v lists them all)")
    for source, other in sub.conflicts[:limit]:
        note(
            f"skipped {path(source)}: its thumbnails would overwrite those of {path(other)}; "
            "use another -o folder, or put {name} in --name"
        )
    for _source, reason in sub.failed_before[:limit]:
        note(f"failed before (unchanged since): {reason}")
    if sub.failed_before:
        note("run `thumbgen retry` or add --force to try them again")


@contextmanager
def batch_progress(total: int, *, quiet: bool = False) -> Iterator[Callable[[Counts], None]]:
    """A progress bar with done/total, rate, ETA and failures so far.

    Yields the function that moves the bar to new counts. Quiet, there is no
    bar and rich's progress module is not even imported: it is a tenth of a
    small batch's fixed cost.
    """
    if quiet:
        yield lambda _counts: None
        return
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
        console=_err(),
        transient=False,
    )
    started = time.monotonic()
    with progress:
        task = progress.add_task("thumbnails", total=total, rate="", failed="")

        def update(counts: Counts) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            rate = f"{counts.finished / elapsed:.1f}/s" if counts.finished else ""
            failed = f"[red]{counts.failed} failed" if counts.failed else ""
            progress.update(task, completed=counts.finished, rate=rate, failed=failed)

        yield update


def settings_lines(settings: list[Setting]) -> str:
    """``thumbgen config``: one ``name = value  # source`` line per setting.

    A setting with no value until one is given (``--poll``, ``--token``) is a
    comment, ``# name: not set``: ``name = ""`` would read as a value to copy.
    """
    return "".join(
        (f"{s.name} = {_toml(s.value)}" if s.value is not None else f"# {s.name}: not set")
        + f"  # {s.source}; {', '.join(s.commands)}\n"
        for s in settings
    )


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '""'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class Arrivals:
    """What ``watch`` prints about files as they arrive: skips, conflicts, failures."""

    def add(self, report: AddReport) -> None:
        """One line per file the watcher could not queue (the rest show in the status line)."""
        for item in report.skipped:
            note(f"skipped {path(item.path)}: {item.reason}")
        for source, other in report.submitted.conflicts:
            note(f"skipped {path(source)}: its thumbnails would overwrite those of {path(other)}")
        for _source, reason in report.submitted.failed_before:
            note(f"failed before (unchanged since): {reason}")

    def failures(self, progress: WatchProgress) -> None:
        """One line per new failure among the watch's jobs."""
        for failure in progress.failures:
            note(f"failed: {failure.error}")


@contextmanager
def watch_line(
    arrivals: Arrivals,
) -> Iterator[Callable[[WatchStatus, WatchProgress], None]]:
    """A live status line for ``watch``; yields the function that updates it.

    Only on a terminal: in a log file a redrawn line is just noise (failures
    are printed as lines either way).
    """
    if not _err().is_terminal:
        yield lambda watch, progress: arrivals.failures(progress)
        return
    from rich.live import Live
    from rich.text import Text

    with Live(console=_err(), refresh_per_second=4, transient=False) as live:

        def show(watch: WatchStatus, progress: WatchProgress) -> None:
            arrivals.failures(progress)
            c = progress.counts
            folders = ", ".join(_short(f) for f in watch.folders)
            line = Text.assemble(
                ("watching ", "bold"),
                f"{folders} ({watch.observer}): {watch.settling} settling, ",
                f"{c.queued} queued, {c.running} running, {c.done} done, ",
                (f"{c.failed} failed", "red" if c.failed else ""),
                f", {c.vanished} vanished" if c.vanished else "",
                f", {progress.workers} workers",
            )
            live.update(line)

        yield show


def _short(name: str) -> str:
    """``name`` relative to the current folder when that is shorter, made printable."""
    try:
        rel = os.path.relpath(name)
    except ValueError:
        return path(name)
    return path(rel if len(rel) < len(name) else name)


def _out() -> Console:
    return __getattr__("out")


def _err() -> Console:
    return __getattr__("err")
