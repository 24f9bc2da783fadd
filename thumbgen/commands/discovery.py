"""Discovery: turn the PATH arguments of ``add`` into source images.

Files, folders (recursed through :mod:`thumbgen.storage`) and quoted globs
(expanded here, so they work the same in every shell). Hidden entries and
thumbgen's own output folder are left out; symlink loops are walked once.
Non-regular files (FIFOs, devices, sockets) and symlinks that lead out of a
folder added are skipped with their reason, so "N skipped" counts them. Every file is
identified by its content, and anything that is not an image comes back as
:class:`Skipped` with the reason.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import BinaryIO

from thumbgen import locations, storage
from thumbgen.errors import SourceMissing, ThumbgenError
from thumbgen.imaging import formats
from thumbgen.imaging.sniff import NotImage, sniff
from thumbgen.messages import os_reason
from thumbgen.naming import relative_dir
from thumbgen.storage import Entry, LocalStorage, Storage, Unlisted


@dataclasses.dataclass(frozen=True)
class Source:
    """An image to thumbnail, with the ``{dir}`` it was found under and its signature."""

    path: str
    rel_dir: str
    size: int
    mtime_ns: int
    #: The store's version of it (see :attr:`thumbgen.storage.Entry.version`).
    version: str = ""


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A path that will not be queued, and why."""

    path: str
    reason: str
    #: True for a PATH argument that matched nothing (an error, not just a skip).
    missing: bool = False


#: How much of an object is read to tell its format (a RAW's TIFF header may
#: point past the first few KiB).
SNIFF_BYTES = 64 * 1024


def is_glob(text: str) -> bool:
    """True when ``text`` has glob characters and is not itself an existing path."""
    return glob.has_magic(text) and not os.path.lexists(text)


def common_root(paths: Sequence[str]) -> str:
    """The folder that ``{dir}`` is measured from for this set of PATH arguments.

    It is the deepest folder holding every argument: ``add photos`` measures
    from ``photos``; ``add a/x b/y`` from their common parent, so same-named
    files in ``a/x`` and ``b/y`` never share a thumbnail name.
    """
    anchors = []
    for text in paths:
        if not locations.is_path(text):
            continue  # a bucket's {dir} is measured from the prefix given (see _bucket)
        if is_glob(text):
            anchors.append(_glob_base(text))
        elif os.path.isdir(text):
            anchors.append(os.path.abspath(text))
        else:
            anchors.append(os.path.dirname(os.path.abspath(text)))
    return os.path.commonpath(anchors) if anchors else os.getcwd()


def _glob_base(pattern: str) -> str:
    parts = []
    for part in os.path.normpath(pattern).split(os.sep):
        if glob.has_magic(part):
            break
        parts.append(part)
    base = os.sep.join(parts) or "."
    if pattern.startswith(os.sep) and not base.startswith(os.sep):
        base = os.sep + base
    return os.path.abspath(base)


def discover(
    paths: Sequence[str], *, exclude: Sequence[str] = (), root: str | None = None
) -> Iterator[Source | Skipped]:
    """Yield a :class:`Source` for each image under ``paths`` and a :class:`Skipped` otherwise.

    ``exclude`` lists folders never to enter (the output folder); ``root``
    overrides :func:`common_root` for ``{dir}``. The same file reached twice
    (``add a.jpg ./a.jpg``, or a folder and a file in it) is yielded once.
    """
    root = root or common_root(paths)
    seen: set[tuple[str, str]] = set()
    for text in paths:
        if locations.parse(text).kind is locations.Kind.S3:
            yield from _bucket(text, exclude, seen)
        elif is_glob(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                yield Skipped(text, "no file matches this pattern", missing=True)
            for match in matches:
                yield from _argument(match, root, exclude, seen)
        elif not os.path.lexists(text):
            yield Skipped(text, "no such file or folder", missing=True)
        else:
            yield from _argument(text, root, exclude, seen)


def _argument(
    path: str, root: str, exclude: Sequence[str], seen: set[tuple[str, str]]
) -> Iterator[Source | Skipped]:
    """One PATH argument (or glob match): a folder walked through storage, or one file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        yield Skipped(path, os_reason(exc))
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _folder(LocalStorage(path), root, exclude, seen)
    elif not stat.S_ISREG(st.st_mode):
        yield Skipped(path, "not a regular file")
    else:
        folder, name = os.path.split(path)
        store = LocalStorage(folder)
        try:
            entry = store.stat(name)
        except ThumbgenError as exc:
            yield Skipped(path, exc.why)
            return
        yield from _file(store, entry, relative_dir(path, root), seen)


def _bucket(
    location: str, exclude: Sequence[str], seen: set[tuple[str, str]]
) -> Iterator[Source | Skipped]:
    """Every image under an ``s3://`` prefix, or the one object it names.

    ``{dir}`` is the key's folder under the prefix given (under its folder,
    for one object).
    """
    try:
        store = storage.open_storage(location.rstrip("/") + "/")
        if not location.endswith("/") and _has_key(location):
            # One object, like a file argument; else the prefix of a listing.
            parent, name = storage.open_object(location)
            try:
                entry = parent.stat(name)
            except SourceMissing:
                pass
            else:
                yield from objects(parent, [entry], exclude, seen)
                return
    except ThumbgenError as exc:
        yield Skipped(location, exc.why, missing=True)
        return
    listed = False
    for item in objects(store, store.entries(exclude=exclude), exclude, seen):
        if isinstance(item, Skipped) and item.missing and listed:
            item = dataclasses.replace(item, missing=False)
        listed = True
        yield item


def objects(
    store: Storage,
    items: Iterable[Entry | Unlisted],
    exclude: Sequence[str] = (),
    seen: set[tuple[str, str]] | None = None,
) -> Iterator[Source | Skipped]:
    """Listed objects of ``store`` as sources; ``{dir}`` is each key's folder in it.

    An object named as an image is queued from the listing alone, and its
    worker tells it by content (not an image: the job fails in one line);
    any other object is told by its first bytes, one ranged GET, and skipped
    unless it is an image. A GET per object would make ``add`` of an
    unchanged bucket of 100,000 photos take minutes to queue nothing. An
    :class:`Unlisted` comes back as a missing :class:`Skipped` (the listing
    failed). Objects under ``exclude`` (the output prefix) are never sources.
    """
    seen = set() if seen is None else seen
    skip = tuple(e.rstrip("/") + "/" for e in exclude if not locations.is_path(e))
    for item in items:
        if isinstance(item, Unlisted):
            yield Skipped(store.path(item.key), item.reason, missing=True)
            continue
        path = store.path(item.key)
        if path.startswith(skip):
            continue
        identity = (item.identity, item.key)
        if identity in seen:
            continue
        seen.add(identity)
        if os.path.splitext(item.key)[1].lower() not in formats.READ_EXTENSIONS:
            refused = _refusal(path, functools.partial(_head, store, item.key))
            if refused is not None:
                yield refused
                continue
        rel_dir = item.key.rpartition("/")[0]
        yield Source(path, rel_dir, item.size, item.mtime_ns, item.version)


def _has_key(location: str) -> bool:
    """Whether an ``s3://bucket/...`` location names more than the bucket."""
    return bool(locations.parse(location).rest.partition("/")[2].strip("/"))


def _folder(
    folder: LocalStorage, root: str, exclude: Sequence[str], seen: set[tuple[str, str]]
) -> Iterator[Source | Skipped]:
    rel_dirs: dict[str, str] = {}
    for item in folder.entries(exclude=exclude, skips=True):
        path = folder.path(item.key)
        if isinstance(item, Unlisted):
            yield Skipped(path, item.reason)
            continue
        parent = item.key.rpartition("/")[0]
        if parent not in rel_dirs:
            # One {dir} per folder: relpath per file cost a fifth of discovery.
            rel_dirs[parent] = relative_dir(os.path.join(folder.path(parent), "-"), root)
        yield from _file(folder, item, rel_dirs[parent], seen)


def _file(
    store: LocalStorage, entry: Entry, rel_dir: str, seen: set[tuple[str, str]]
) -> Iterator[Source | Skipped]:
    path = store.path(entry.key)
    identity = (entry.identity, os.path.basename(entry.key))
    if identity in seen:
        return
    seen.add(identity)
    refused = _refusal(path, lambda: store.open(entry.key))
    if refused is not None:
        yield refused
        return
    yield Source(os.path.abspath(path), rel_dir, entry.size, entry.mtime_ns, entry.version)


def _head(store: Storage, key: str) -> BinaryIO:
    """The first bytes of an object, enough to tell its format, as a stream."""
    return io.BytesIO(store.read(key, 0, SNIFF_BYTES))


def _refusal(path: str, opening: Callable[[], AbstractContextManager[BinaryIO]]) -> Skipped | None:
    """Why the file at ``path`` is not queued, told by its first bytes; None for an image.

    ``opening`` gives the stream to sniff: the file itself, or the first
    bytes of an object read into memory.
    """
    try:
        with opening() as f:
            sniff(f, path)
    except NotImage as exc:
        return Skipped(path, str(exc))
    except ThumbgenError as exc:
        return Skipped(path, exc.why)
    except OSError as exc:
        return Skipped(path, os_reason(exc))
    return None
