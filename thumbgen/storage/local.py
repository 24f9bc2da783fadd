"""Local folders as storage: the file system, with every guarantee of :mod:`.atomic`.

Keys are paths relative to the root folder. Reads refuse anything but a
regular file (a FIFO swapped in for a source would block a worker for good);
writes go through :func:`~.atomic.write_files` (unnamed files, checked
writes, fsync of file and folder, all or none); deletes stay inside the root
and take the folders they leave empty with them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from thumbgen.errors import (
    NotAnImage,
    OutputError,
    SourceError,
    SourceMissing,
    TransientError,
)
from thumbgen.messages import display_path, os_reason, reason

from .atomic import fsync_folder, write_files
from .base import Blob, Entry, LocalFile, Unlisted


class LocalStorage:
    """A folder on this machine (or a share mounted on it)."""

    def __init__(self, root: str) -> None:
        self.location = root

    def path(self, key: str) -> str:
        """The file path of ``key`` (the root as given, joined with the key)."""
        # A root of "" is the current folder, with keys shown as given.
        return os.path.join(self.location, key) if key else self.location or os.curdir

    def entries(
        self,
        prefix: str = "",
        *,
        exclude: Sequence[str] = (),
        recursive: bool = True,
        skips: bool = False,
    ) -> Iterator[Entry | Unlisted]:
        """Every regular file under ``prefix``, folder by folder in name order.

        Symlinks are followed, and a loop is walked once; hidden names and
        folders under ``exclude`` (paths) are left out. With ``skips`` (for
        ``add``, which counts and names what it leaves out), what else there is
        comes as :class:`Unlisted` with its reason: FIFOs, devices and sockets
        (or links to them), and symlinks that lead out of ``prefix``, which
        would queue files the user never named (a link to ``..``).
        """
        excluded = {os.path.realpath(p) for p in exclude}
        tree = os.path.realpath(self.path(prefix))
        seen_dirs: set[tuple[int, int]] = set()
        stack = [prefix]
        while stack:
            folder = stack.pop()
            where = self.path(folder)
            try:
                st = os.stat(where)
            except OSError as exc:
                yield Unlisted(folder, os_reason(exc))
                continue
            # A symlink loop brings us back to a folder already walked: stop there.
            if (st.st_dev, st.st_ino) in seen_dirs or os.path.realpath(where) in excluded:
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            try:
                with os.scandir(where) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                yield Unlisted(folder, os_reason(exc))
                continue
            subfolders = []
            for item in entries:
                if item.name.startswith("."):
                    continue
                key = f"{folder}/{item.name}" if folder else item.name
                found = _listed(item, key, tree if skips else None)
                if found is _FOLDER:
                    if recursive:
                        subfolders.append(key)
                elif isinstance(found, (Entry, Unlisted)):
                    yield found
            stack.extend(reversed(subfolders))

    def stat(self, key: str) -> Entry:
        """Size, modification time and inode of the file at ``key``."""
        try:
            return _entry(key, os.stat(self.path(key)))
        except OSError as exc:
            raise source_error(self.path(key), exc) from None

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """The file at ``key`` open for reading (:meth:`open_version`)."""
        with self.open_version(key) as (_, f):
            yield f

    @contextlib.contextmanager
    def open_version(self, key: str) -> Iterator[tuple[Entry, BinaryIO]]:
        """The file at ``key`` open for reading, if it is a regular file, and its stat.

        The open never waits (O_NONBLOCK), and what it opened is checked
        before anything is read: a FIFO or device refuses at once.
        """
        path = self.path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError as exc:
            raise source_error(path, exc) from None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise NotAnImage(f"Not an image: {display_path(path)} is a folder", why="a folder")
            if not stat.S_ISREG(st.st_mode):
                raise NotAnImage(
                    f"Not an image: {display_path(path)} is not a regular file (a FIFO or device?)",
                    why="not a regular file",
                )
            os.set_blocking(fd, True)  # a regular file never blocks; reads need no EAGAIN care
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as f:
            yield _entry(key, st), f

    def read(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        """``length`` bytes of ``key`` from ``start`` (all the rest when None)."""
        with self.open(key) as f:
            f.seek(start)
            try:
                return f.read() if length is None else f.read(length)
            except OSError as exc:
                raise source_error(self.path(key), exc) from None

    def prepare(self, key: str) -> None:
        """Make the folder ``key`` goes in (:meth:`put_all` makes it again if it went)."""
        path = self.path(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            raise output_error(path, exc) from None

    def put_all(self, blobs: Sequence[Blob]) -> None:
        """Write every blob complete and durable, or none (:func:`~.atomic.write_files`)."""
        if not blobs:
            return
        try:
            write_files([(self.path(b.key), b.data) for b in blobs])
        except OSError as exc:
            raise output_error(exc.filename or self.path(blobs[0].key), exc) from None

    def put_new(self, files: Sequence[tuple[str, str]]) -> list[bool]:
        """Hard-link each staged file (already fsynced, in this folder) under its key.

        ``link`` never replaces, so a name taken meanwhile by another server
        sharing the folder is kept. One folder fsync makes every new name durable.
        """
        stored = []
        for key, staged in files:
            try:
                os.link(staged, self.path(key))
                stored.append(True)
            except FileExistsError:
                stored.append(False)
        if any(stored):
            fsync_folder(self.location or os.curdir)
        return stored

    def exists(self, key: str) -> bool:
        """Whether a file (or anything) is at ``key``."""
        return os.path.exists(self.path(key))

    def delete(self, keys: Iterable[str]) -> int:
        """Unlink each file inside the root, then the folders it leaves empty.

        A key whose folder resolves outside the root is left alone.
        """
        top = os.path.realpath(self.location)
        removed = 0
        folders = set()
        for key in keys:
            path = self.path(key)
            if not inside(path, top):
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            removed += 1
            folders.add(os.path.dirname(path))
        for folder in sorted(folders, key=len, reverse=True):
            # rmdir only ever removes an empty folder; stop at the first that is not.
            while os.path.realpath(folder).startswith(top + os.sep):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
                if os.path.isdir(folder):
                    break
                folder = os.path.dirname(folder)
        return removed

    def serve(self, key: str) -> LocalFile | None:
        """The regular file at ``key``, if it resolves inside the root (symlinks included)."""
        root = os.path.realpath(self.location)
        real = os.path.realpath(os.path.join(root, *key.split("/")))
        if not real.startswith(root + os.sep):
            return None
        try:
            st = os.stat(real)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return LocalFile(real, st.st_size, f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}")


def inside(path: str, top: str) -> bool:
    """Whether ``path`` (its folder's real location) lies inside the real folder ``top``."""
    real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    return real.startswith(top + os.sep)


def _entry(key: str, st: os.stat_result) -> Entry:
    return Entry(
        key,
        st.st_size,
        f"{st.st_mtime_ns}:{st.st_ino}",
        st.st_mtime_ns,
        f"{st.st_dev}:{st.st_ino}",
    )


def source_error(path: str, exc: OSError) -> Exception:
    """The one-line error for an ``OSError`` met reading the source at ``path``."""
    shown = display_path(path)
    why = os_reason(exc)
    if isinstance(exc, FileNotFoundError):
        return SourceMissing(f"Source file not found: {shown} (moved or deleted?)", why=why)
    if isinstance(exc, IsADirectoryError):
        return NotAnImage(f"Not an image: {shown} is a folder", why=why)
    if isinstance(exc, PermissionError):
        return SourceError(
            f"Permission denied reading {shown}; check the file's permissions", why=why
        )
    if isinstance(exc, NotADirectoryError):
        return SourceMissing(f"Source file not found: {shown} (a parent is not a folder)", why=why)
    return TransientError(f"Cannot read {shown}: {exc.strerror or reason(exc)}", why=why)


def output_error(path: str, exc: OSError) -> Exception:
    """The one-line error for an ``OSError`` met writing the output at ``path``."""
    shown = display_path(path)
    # No "(will retry)": the same text is stored when the last try fails too.
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return TransientError(f"Cannot write {shown}: {exc.strerror}; free some space there")
    if exc.errno in (errno.EIO, errno.EAGAIN, errno.EBUSY):
        return TransientError(f"Cannot write {shown}: {exc.strerror}")
    if exc.errno is None:
        return OutputError(f"Cannot encode {shown}: {reason(exc)}")
    return OutputError(f"Cannot write {shown}: {exc.strerror}; check --out and its permissions")


#: What :func:`_listed` says of a folder (walked, not yielded).
_FOLDER = "folder"


def _listed(item: os.DirEntry[str], key: str, tree: str | None) -> Entry | Unlisted | str | None:
    """One name of a listing: a file's Entry, :data:`_FOLDER`, an Unlisted, or None (left out).

    With ``tree`` (the walk's real root) anything else is an Unlisted with
    its reason; without it, only what could not be looked at.
    """
    if tree is not None and item.is_symlink():
        outside = _outside(item.path, tree)
        if outside is not None:
            return Unlisted(key, f"a symlink leading out of the folder added ({outside})")
    try:
        if item.is_dir():
            return _FOLDER
        est = item.stat()
    except OSError as exc:
        return Unlisted(key, os_reason(exc))
    if stat.S_ISREG(est.st_mode):
        return _entry(key, est)
    return Unlisted(key, f"not a regular file ({_kind(est.st_mode)})") if tree else None


def _outside(link: str, tree: str) -> str | None:
    """Where the symlink ``link`` leads when that is outside ``tree`` (shown), else None."""
    target = os.path.realpath(link)
    if target == tree or target.startswith(tree.rstrip(os.sep) + os.sep):
        return None
    return f"to {display_path(target)}"


def _kind(mode: int) -> str:
    """What a file that is not regular is, in words."""
    for test, word in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return word
    return "a special file"
