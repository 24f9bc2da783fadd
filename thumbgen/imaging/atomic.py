"""Writing a file so that no reader ever sees it half-written.

The bytes go to a new file in the target folder that gets its final name only
when complete. On Linux that file has no name at all while it is written
(``O_TMPFILE``), so a process killed mid-write leaves nothing behind;
elsewhere it is a hidden temporary name, then ``os.replace``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from typing import BinaryIO

#: Unnamed files (Linux O_TMPFILE) can be written and then linked into place.
UNNAMED_FILES = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[BinaryIO]:
    """Yield a binary file that appears at ``path``, complete, when the block ends.

    If the block raises, nothing appears and any old file at ``path`` stays.
    The parent folder is created if needed. ``OSError`` passes through.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = _open_temp(folder, path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if tmp is None:
                f.flush()
                _link_into_place(f.fileno(), path)
        if tmp is not None:
            os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


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
