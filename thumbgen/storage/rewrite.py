"""Rewriting one small file that several processes keep up to date (a manifest).

Each writer makes the whole new content from the source of truth (the
queue) inside :func:`rewrite`, so the last write must be made from a state
no older than any other writer's. Locally an exclusive lock beside the file
serialises the make-and-replace (the replace itself is atomic: temporary
file, fsync, rename). In a bucket there is no lock: the object is replaced
with an ETag-conditional PUT (``If-Match``; create-only while there is
none), and a writer that lost the race (412) makes the content again from
the newer state and tries again.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Callable

from thumbgen import locations
from thumbgen.errors import OutputError, SourceMissing
from thumbgen.messages import display_path, os_reason

from .atomic import atomic_write

#: Conditional PUTs a writer tries before giving up (each loss means another
#: writer stored a newer state, so giving up loses nothing but that try).
_TRIES = 50


def rewrite(location: str, make: Callable[[], bytes], content_type: str) -> None:
    """Replace the file at ``location`` with ``make()``, no writer losing another's update."""
    if locations.is_path(location):
        _rewrite_local(location, make)
    else:
        _rewrite_bucket(location, make, content_type)


def _rewrite_local(path: str, make: Callable[[], bytes]) -> None:
    folder = os.path.dirname(path) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        # The lock file stays: removing it would let two writers lock two files.
        fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise OutputError(f"Cannot write {display_path(path)}: {os_reason(exc)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = make()
        try:
            with atomic_write(path) as f:
                f.write(data)
        except OSError as exc:
            raise OutputError(f"Cannot write {display_path(path)}: {os_reason(exc)}") from None
    finally:
        os.close(fd)  # and the lock with it


def _rewrite_bucket(location: str, make: Callable[[], bytes], content_type: str) -> None:
    import obstore
    from obstore.exceptions import AlreadyExistsError, PreconditionError

    from .s3 import S3Storage, _error

    parent, _, name = location.rpartition("/")
    store = S3Storage(parent)
    for _ in range(_TRIES):
        try:
            etag: str | None = store.stat(name).version or None
        except SourceMissing:
            etag = None
        data = make()
        # e_tag alone: obstore refuses a None version (a TypeError before any request).
        mode: object = "create" if etag is None else {"e_tag": etag}
        try:
            obstore.put(
                store.store,
                store.prefix + name,
                data,
                mode=mode,  # type: ignore[arg-type]
                attributes={"Content-Type": content_type},
            )
            return
        except (AlreadyExistsError, PreconditionError):
            # Another writer stored first: its state is older or newer than
            # ours, so make it again from the queue as it is now.
            time.sleep(random.uniform(0, 0.05))
        except Exception as exc:
            raise _error(location, exc, reading=False) from None
    raise OutputError(f"Cannot write {location}: other writers kept replacing it ({_TRIES} tries)")
