"""Storage: where sources come from and where outputs go, behind one protocol.

- ``base``: the :class:`Storage` protocol and what it hands around (entries, blobs);
- ``local``: folders on this machine;
- ``s3``: buckets on S3 and S3-compatible servers (the ``s3`` extra);
- ``atomic``: writing a set of files that appear complete, durable, all or none.

:func:`open_storage` is the one place that picks an implementation for a
location (a path, or ``s3://bucket/prefix/``), through :func:`thumbgen.locations.parse`.
"""

from __future__ import annotations

import os

from thumbgen import locations
from thumbgen.errors import UsageError

from .base import Blob, Entry, LocalFile, RemoteObject, Storage, Unlisted
from .local import LocalStorage

__all__ = [
    "Blob",
    "Entry",
    "LocalFile",
    "LocalStorage",
    "RemoteObject",
    "Storage",
    "Unlisted",
    "exists",
    "open_object",
    "open_storage",
]


def open_storage(location: str) -> Storage:
    """The storage rooted at ``location``: a local folder, or a bucket and prefix (``s3://``)."""
    loc = locations.parse(location)
    if loc.is_path:
        return LocalStorage(location)
    if loc.kind is locations.Kind.S3:
        from .s3 import S3Storage  # obstore: only for s3:// locations

        return S3Storage(location)
    raise UsageError(
        f"Unsupported location {location!r}: {loc.scheme}:// storage is not available yet; "
        "use a folder path"
    )


def open_object(location: str) -> tuple[Storage, str]:
    """The storage holding the single object at ``location``, and its key there."""
    loc = locations.parse(location)
    if loc.is_path:
        folder, name = os.path.split(location)
        return LocalStorage(folder), name
    parent, _, name = location.rstrip("/").rpartition("/")
    return open_storage(parent), name


def exists(location: str) -> bool:
    """Whether an object is stored at ``location`` (an output a job recorded, say)."""
    storage, key = open_object(location)
    return storage.exists(key)
