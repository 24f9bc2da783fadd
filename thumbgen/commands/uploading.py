"""Uploads: queue files that are completely on disk, with options a request may change.

The HTTP server stores each upload under a name made from its content hash
and calls :func:`queue_files` once every file of the request is complete;
the queue's policy (fresh, pending, failed before, conflicting) is the
store's, exactly as for ``add``. Identical content is one stored file and
so one job: the store's identity is the source path with the options.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from thumbgen import locations
from thumbgen.errors import QueueError, UsageError
from thumbgen.jobqueue.contract import JobDetail, NewJob
from thumbgen.options import Options, build_options

from .adding import check_out_dir, target

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue


@dataclasses.dataclass(frozen=True)
class QueuedFile:
    """What became of one stored file: its job and how the queue took it."""

    path: str
    job_id: int
    #: The job's state now (queued, running, done, failed...).
    state: str
    #: ``queued`` (now), ``pending`` (already queued or running), ``up_to_date``
    #: (done and unchanged), ``failed_before`` (failed and unchanged).
    outcome: str
    error: str | None = None


def request_options(
    base: Options,
    *,
    sizes: Sequence[str] = (),
    fit: str | None = None,
    format: str | None = None,
    quality: str | None = None,
) -> Options:
    """``base`` with the sizes, fit, format and quality of a request, validated as the CLI does.

    Everything else stays the server's: output folder, name template, crop,
    background, upscale, pixel limit, placeholder, manifest, Cache-Control
    and ``--animated``. A client cannot choose where files are written.
    """
    spec = base.specs[0]
    if quality is not None:
        try:
            quality_value = int(quality.strip())
        except ValueError:
            raise UsageError(f"Invalid quality {quality!r}: use a number from 1 to 100") from None
    else:
        quality_value = spec.quality
    crop = spec.crop if isinstance(spec.crop, str) else f"{spec.crop[0]},{spec.crop[1]}"
    asked = build_options(
        list(sizes) or [s.size.label for s in base.specs],
        fit=fit if fit is not None else spec.fit.value,
        crop=crop,
        format=format if format is not None else spec.format.value,
        quality=quality_value,
        out_dir=base.out_dir,
        name=base.name,
        upscale=spec.upscale,
        background="#{:02x}{:02x}{:02x}{:02x}".format(*spec.background),
        max_pixels=base.max_pixels,
        # `serve --animated`: uploaded animations and videos move too (and -f gif is valid).
        animated=base.animated,
    )
    # Only the specs come from the request: the server's other choices are
    # kept whole, whatever fields Options gains.
    return dataclasses.replace(base, specs=asked.specs)


def queue_files(
    queue: Queue, paths: Sequence[str], options: Options, *, priority: int = 0
) -> list[QueuedFile]:
    """Queue one job per file in ``paths`` (complete files, all in one folder), in one step.

    Returns one :class:`QueuedFile` per distinct path, in order. The folder
    is the ``{dir}`` root, so outputs are named by the file's own name.
    """
    from thumbgen import storage
    from thumbgen.commands.discovery import Source

    check_out_dir(options.out_dir)
    unique = list(dict.fromkeys(locations.absolute(p) for p in paths))
    jobs = []
    for path in unique:
        if locations.is_path(path):
            st = os.stat(path)
            source = Source(path, "", st.st_size, st.st_mtime_ns)
        else:
            # Stored in a bucket: its ETag, which a worker's GET will name too.
            where, key = storage.open_object(path)
            entry = where.stat(key)
            source = Source(path, "", entry.size, entry.mtime_ns, entry.version)
        jobs.append(
            NewJob(path, "", source.size, source.mtime_ns, target(source, options), source.version)
        )
    started = time.time()
    result = queue.store.submit(
        jobs, options, batch=uuid.uuid4().hex, priority=priority, exists=storage.exists
    )
    failed_before = dict(result.failed_before)
    conflicts = dict(result.conflicts)
    pending = set(result.pending_ids)
    found = []
    for path in unique:
        if path in conflicts:
            raise UsageError(
                f"Cannot queue {os.path.basename(path)}: its thumbnails would overwrite "
                f"those of {os.path.basename(conflicts[path])}"
            )
        detail = queue.store.job(path)
        if detail is not None and detail.options.digest != options.digest:
            detail = _job_with_options(queue, path, options)
        if detail is None:
            raise QueueError(f"The job for {os.path.basename(path)} vanished after it was queued")
        job = detail.job
        if path in failed_before:
            outcome = "failed_before"
        elif job.id in pending:
            outcome = "pending"
        elif job.queued_at is not None and job.queued_at >= started:
            outcome = "queued"  # even if a worker has finished it already
        else:
            outcome = "up_to_date"
        found.append(QueuedFile(path, job.id, job.state.value, outcome, job.error))
    return found


def _job_with_options(queue: Queue, path: str, options: Options) -> JobDetail | None:
    """The job of ``path`` with ``options`` when its newest job has other options.

    The store finds a source's newest job only; the same content uploaded with
    other sizes is rare, so this slow path reads the job list.
    """
    store = queue.store
    for record in reversed(store.jobs(limit=None)):
        if record.source == path:
            detail = store.job(record.id)
            if detail is not None and detail.options.digest == options.digest:
                return detail
    return None
