"""Writing files so that no reader ever sees one half-written, and a set of them all or none.

Each file's bytes go to a new file in its target folder that gets its final
name only when complete. On Linux that file has no name at all while it is
written (``O_TMPFILE``), so a process killed mid-write leaves nothing behind;
elsewhere it is a hidden temporary name, then ``os.replace``.

Complete means checked and durable: every ``write`` is checked for a short
count (Pillow's encoders ignore one, which once linked a cut-short thumbnail
into place on a full disk), and the file is fsynced before it gets its name
and its folder after, so that a job recorded done (``synchronous=NORMAL``)
never points at an empty file after a power cut.

A set of files (one job's sizes) is staged in full before any of them gets
its name, so a full disk or an encoder failure on a later size leaves none
of them; if giving the names fails part-way, the names already given are
taken back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import os
import secrets
from collections.abc import Iterator, Sequence
from typing import BinaryIO

#: Unnamed files (Linux O_TMPFILE) can be written and then linked into place.
UNNAMED_FILES = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


@dataclasses.dataclass
class _Staged:
    """A complete, fsynced file waiting for its name."""

    path: str
    fd: int
    #: The hidden temporary name, or None for an unnamed (O_TMPFILE) file.
    tmp: str | None


def write_files(files: Sequence[tuple[str, bytes]]) -> None:
    """Make every ``(path, data)`` appear complete and durable, or none of them.

    Parent folders are created if needed. The first ``OSError`` met is raised
    again with the output's path as its ``filename`` (whichever folder or
    system call failed); then no new file is left and no temporary file either.
    An old file at a path is replaced; if a later path then fails, the
    replaced one is removed rather than left out of step with the others.
    """
    staged: list[_Staged] = []
    linked: list[str] = []
    try:
        for path, data in files:
            with _named(path):
                staged.append(_stage(path, data))
        for item in staged:
            with _named(item.path):
                _give_name(item)
            linked.append(item.path)
        folders = {os.path.dirname(item.path): item.path for item in staged}
        for folder, path in folders.items():
            with _named(path):
                fsync_folder(folder)
    except BaseException:
        for path in linked:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    finally:
        for item in staged:
            os.close(item.fd)
            if item.tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(item.tmp)  # a named file that never got its final name


@contextlib.contextmanager
def _named(path: str) -> Iterator[None]:
    """Tell which output an ``OSError`` was about (the caller's message names it)."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from exc


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Yield a binary buffer that appears at ``path``, complete, when the block ends.

    If the block raises, nothing appears and any old file at ``path`` stays.
    """
    buf = io.BytesIO()
    yield buf
    write_files([(path, buf.getvalue())])


def _stage(path: str, data: bytes) -> _Staged:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = _open_temp(folder, path)
    try:
        write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    return _Staged(path, fd, tmp)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` or raise: a short write is retried, none is ignored."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            # A write that stores nothing without an error: the disk is full.
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def _give_name(item: _Staged) -> None:
    if item.tmp is None:
        _link_into_place(item.fd, item.path)
    else:
        os.replace(item.tmp, item.path)
        item.tmp = None


def fsync_folder(folder: str) -> None:
    """Make the new names durable (a file's fsync does not cover its directory entry)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_temp(folder: str, path: str) -> tuple[int, str | None]:
    """A new, empty file in ``folder``: unnamed where the system allows (name None)."""
    # Mode 0o666 minus the umask, like any new file (mkstemp's 0600 would make
    # thumbnails unreadable to a web server or other users).
    if UNNAMED_FILES:
        try:
            return os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o666), None
        except OSError as exc:
            # Old kernels (EISDIR) and file systems without it (EOPNOTSUPP).
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
    tmp = temp_name(path)
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp


def _link_into_place(fd: int, path: str) -> None:
    """Give the finished unnamed file ``fd`` the name ``path``, replacing any old file."""
    try:
        _link_fd(fd, path)  # a new output appears complete, in one step
        return
    except FileExistsError:
        pass
    # link() never replaces; a rename does, atomically, from a name that
    # exists only for these two system calls.
    tmp = temp_name(path)
    _link_fd(fd, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _link_fd(fd: int, path: str) -> None:
    # linkat("/proc/self/fd/N", AT_SYMLINK_FOLLOW) as in open(2). The directory
    # fd matters: without one, Python 3.11's os.link() calls plain link(),
    # which links the /proc symlink itself and fails with EXDEV.
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), path, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def temp_name(path: str) -> str:
    """Hidden, unique, and short enough for NAME_MAX even for a long output name."""
    base = os.path.basename(path)[:200]
    return os.path.join(os.path.dirname(path), f".{base}.{secrets.token_hex(6)}.tmp")
