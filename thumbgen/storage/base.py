"""The storage protocol: where sources come from and where outputs go.

A :class:`Storage` is one root (a local folder, or a bucket and prefix)
holding objects under keys: ``/``-separated paths relative to the root.
Everything else in thumbgen reaches files through it, so a new kind of
storage is one new implementation of this protocol and one entry in
:func:`thumbgen.storage.open_storage`.

Errors are :class:`~thumbgen.errors.ThumbgenError` subclasses worded for
one line: a missing object raises :class:`~thumbgen.errors.SourceMissing`,
an unreadable one :class:`~thumbgen.errors.SourceError` (or
:class:`~thumbgen.errors.TransientError` when trying again may help), a
failed write :class:`~thumbgen.errors.OutputError` or ``TransientError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol


@dataclasses.dataclass(frozen=True)
class Entry:
    """One stored object: its key, size and version."""

    key: str
    size: int
    #: Changes whenever the content may have: modification time and inode
    #: locally, the ETag or version id on an object store.
    version: str
    #: Modification time in nanoseconds (0 where the store keeps none); a
    #: job's freshness check records it with the size.
    mtime_ns: int = 0
    #: The same for one object reached under two keys (a hard link, a
    #: symlinked folder), so that a listing yields it once.
    identity: str = ""


@dataclasses.dataclass(frozen=True)
class Unlisted:
    """A key a listing could not look into or at, and why (one line)."""

    key: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Blob:
    """One output to store: its key, its bytes and their media type."""

    key: str
    data: bytes
    content_type: str
    #: ``Cache-Control`` for stores that keep headers with an object (S3).
    cache_control: str | None = None


@dataclasses.dataclass(frozen=True)
class LocalFile:
    """How a local object is served: the file itself (sendfile, ranges)."""

    path: str
    size: int
    version: str


@dataclasses.dataclass(frozen=True)
class RemoteObject:
    """How a stored object is served from elsewhere: a (presigned) URL to redirect to."""

    url: str
    size: int
    version: str


class Storage(Protocol):
    """Sources in, outputs out: the one interface over local folders and object stores."""

    #: The root as the user wrote it (a folder path; a URL for remote stores).
    location: str

    def entries(
        self, prefix: str = "", *, exclude: Sequence[str] = (), recursive: bool = True
    ) -> Iterator[Entry | Unlisted]:
        """Every object under the folder key ``prefix``, streamed in key order folder by folder.

        Hidden names (a leading dot) are left out, and so are locations under
        ``exclude`` (the output folder inside a source folder). Not
        ``recursive``: the objects directly in ``prefix`` only.
        """
        ...

    def stat(self, key: str) -> Entry:
        """The object's size and version; SourceMissing when there is none."""
        ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A seekable stream of the object's bytes, closed when the block ends."""
        ...

    def open_version(self, key: str) -> AbstractContextManager[tuple[Entry, BinaryIO]]:
        """:meth:`open`, with the size and version of what the stream holds.

        What a job records: the version read, not one seen before or after.
        """
        ...

    def path(self, key: str) -> str:
        """The location of ``key``: a file path, or an ``s3://`` URL."""
        ...

    def read(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        """``length`` bytes from ``start`` (to the end when None): a range read."""
        ...

    def prepare(self, key: str) -> None:
        """Make ``key`` ready to be written, raising now the error a write would meet.

        Called before an output is encoded: an output location that cannot
        be written fails the job without the cost of an encode.
        """
        ...

    def put_all(self, blobs: Sequence[Blob]) -> None:
        """Store every blob complete, or none of them, as atomically as the store allows."""
        ...

    def put_new(self, files: Sequence[tuple[str, str]]) -> list[bool]:
        """Store each staged local file ``(key, path)`` unless ``key`` holds an object already.

        For content-named objects (uploads), where an existing one holds the
        same bytes. The staged files are left for the caller to remove; True
        for each file stored, False for each already there.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, keys: Iterable[str]) -> int:
        """Remove the objects at ``keys`` (one already gone is no error); how many went."""
        ...

    def serve(self, key: str) -> LocalFile | RemoteObject | None:
        """How the HTTP server hands the object out; None when there is none to serve."""
        ...
