"""``add``: find the images under some paths and queue one job per source file."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from thumbgen import locations, outputs
from thumbgen.errors import ExitCode, OutputError, UsageError
from thumbgen.jobqueue.contract import Counts, Failure, NewJob, SubmitResult
from thumbgen.messages import display_path
from thumbgen.options import Options

if TYPE_CHECKING:
    from thumbgen.commands.discovery import Skipped, Source
    from thumbgen.jobqueue.huey_app import Queue

#: Sources per submit transaction: big enough to be fast, small enough that
#: no writer waits long (notes/huey.md section 2).
SUBMIT_CHUNK = 5000
#: The first transaction when someone waits for the first jobs (``on_queued``):
#: workers start on them while the rest of the paths are still being read.
FIRST_CHUNK = 16


@dataclasses.dataclass
class AddReport:
    """What ``add`` did (or, in a dry run, would do)."""

    batch: str
    submitted: SubmitResult
    skipped: list[Skipped]
    missing: list[Skipped]
    #: Image sources found, whatever became of them.
    found: int = 0
    dry_run: bool = False
    #: The PATH arguments, as given.
    paths: list[str] = dataclasses.field(default_factory=list)

    @property
    def queued(self) -> int:
        """Jobs queued by this call."""
        return self.submitted.queued

    @property
    def waiting_for(self) -> int:
        """Jobs ``--wait`` waits for: queued now or already pending."""
        return self.submitted.queued + len(self.submitted.pending_ids)

    @property
    def nothing_found(self) -> bool:
        """True when the paths held no image at all (an empty folder, only other files)."""
        return self.found == 0 and not self.missing

    def to_dict(self) -> dict[str, Any]:
        """The ``add --json`` object."""
        sub = self.submitted
        return {
            "dry_run": self.dry_run,
            "queued": sub.queued,
            "already_queued": len(sub.pending_ids),
            "up_to_date": sub.up_to_date,
            "would_queue": list(sub.would_queue),
            "failed_before": [{"source": s, "error": e} for s, e in sub.failed_before],
            "skipped": [{"source": s.path, "reason": s.reason} for s in self.skipped]
            + [
                {"source": s, "reason": f"its thumbnails would overwrite those of {o}"}
                for s, o in sub.conflicts
            ],
            "missing": [{"path": s.path, "reason": s.reason} for s in self.missing],
        }


def add_exit_code(report: AddReport, finished: Counts | None = None) -> ExitCode:
    """The exit code of ``add`` (``finished``: this batch's counts after ``--wait``).

    A PATH that matched nothing, or paths that hold no image at all, are an
    error (1) whatever else happened; a source that failed, now or before and
    unchanged since, makes it 3.
    """
    if report.missing or report.nothing_found:
        return ExitCode.ERROR
    if report.submitted.failed_before or (finished is not None and finished.failed):
        return ExitCode.SOME_FAILED
    return ExitCode.OK


def batch_failures(queue: Queue, report: AddReport) -> list[Failure]:
    """The failures among the jobs one ``add`` queued or found pending, oldest first."""
    return queue.store.batch_failures(report.batch, report.submitted.pending_ids)


def check_out_dir(out_dir: str) -> None:
    """Refuse an output folder that cannot be written before anything is queued.

    Otherwise every job would be queued only to fail the same way.
    """
    shown = display_path(out_dir)
    if not locations.is_path(out_dir):
        from thumbgen import storage  # storage: only for the commands that add

        # A bucket: one listing of the prefix tells a missing bucket, bad
        # credentials or no permission, before any job is queued.
        for item in storage.open_storage(out_dir).entries(recursive=False):
            if isinstance(item, storage.Unlisted):
                raise OutputError(f"Cannot write thumbnails to {shown}: {item.reason}")
            break
        return
    probe = locations.nearest_existing(out_dir)
    if not os.path.isdir(probe):
        raise UsageError(f"Invalid --out {shown}: {display_path(probe)} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write thumbnails to {shown}: {display_path(probe)} is not writable; "
            "check --out and its permissions"
        )
    if probe != out_dir:
        _try_making(probe, shown)


def _try_making(existing: str, shown: str) -> None:
    """Make a folder in ``existing``, where ``--out``'s missing folders go, and remove it again.

    Permission bits do not tell everything: root may "write" anywhere, yet
    nothing can be made in /proc or on a read-only bind mount. Only trying
    tells, and nothing is left behind either way. The folder has a name of
    its own: checks running at once (a server's uploads, two adds, a worker
    making the real folders) never meet, as probes of the real names did.
    """
    try:
        made = tempfile.mkdtemp(prefix=".thumbgen-check-", dir=existing)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"Cannot write thumbnails to {shown}: {reason}; check --out and its permissions"
        ) from None
    with contextlib.suppress(OSError):
        os.rmdir(made)


def add(
    queue: Queue,
    paths: Sequence[str],
    options: Options,
    *,
    force: bool = False,
    root: str | None = None,
    priority: int = 0,
    dry_run: bool = False,
    batch: str | None = None,
    on_queued: Callable[[], object] | None = None,
) -> AddReport:
    """Queue one job per image found under ``paths`` (``{dir}`` measured from ``root``).

    ``batch`` groups the jobs (``add --wait`` and ``watch`` follow their own);
    a dry run decides everything and writes nothing. ``on_queued`` is called
    once, as soon as the first jobs of the batch are in the queue (``add
    --wait`` starts its workers then, not after the last path).
    """
    # Discovery sniffs files with Pillow, storage reads them: imported only by
    # the commands that add.
    from thumbgen.commands.discovery import discover

    check_out_dir(options.out_dir)
    found = discover(paths, exclude=[options.out_dir], root=root)
    return submit_found(
        queue,
        found,
        options,
        force=force,
        priority=priority,
        dry_run=dry_run,
        batch=batch,
        on_queued=on_queued,
        paths=paths,
    )


def submit_found(
    queue: Queue,
    found: Iterable[Source | Skipped],
    options: Options,
    *,
    force: bool = False,
    priority: int = 0,
    dry_run: bool = False,
    batch: str | None = None,
    on_queued: Callable[[], object] | None = None,
    paths: Sequence[str] = (),
) -> AddReport:
    """Queue one job per :class:`Source` in ``found``, in chunks; see :func:`add`.

    For callers that found their sources themselves (a bucket watch has the
    listing's entries, an event its records).
    """
    from thumbgen.commands.discovery import Skipped
    from thumbgen.storage.presence import Presence

    report = AddReport(
        batch or uuid.uuid4().hex, SubmitResult(), [], [], dry_run=dry_run, paths=list(paths)
    )
    chunk: list[NewJob] = []
    store = queue.store
    # Called, then dropped: once set to None, chunks are full size again.
    first_jobs = None if dry_run else on_queued
    # Recorded outputs are checked through one Presence for the whole pass:
    # in a bucket, folder listings instead of a HEAD per output.
    exists = Presence()

    def submit() -> None:
        nonlocal first_jobs
        report.submitted.merge(
            store.submit(
                chunk,
                options,
                batch=report.batch,
                force=force,
                priority=priority,
                dry_run=dry_run,
                exists=exists,
            )
        )
        chunk.clear()
        if first_jobs is not None and report.waiting_for:
            first_jobs()
            first_jobs = None

    for item in found:
        if isinstance(item, Skipped):
            (report.missing if item.missing else report.skipped).append(item)
            continue
        report.found += 1
        chunk.append(
            NewJob(
                item.path,
                item.rel_dir,
                item.size,
                item.mtime_ns,
                target(item, options),
                item.version,
            )
        )
        if len(chunk) >= (SUBMIT_CHUNK if first_jobs is None else FIRST_CHUNK):
            submit()
    submit()
    return report


def target(source: Source, options: Options) -> str:
    """The output pattern of ``source``: its outputs whatever their size and format.

    Two sources with one target (``a.jpg`` and ``a.png`` side by side, or the
    same names under two folders added separately) would overwrite each
    other's thumbnails; the store refuses the second.
    """
    return outputs.target(options, source.path, source.rel_dir)
