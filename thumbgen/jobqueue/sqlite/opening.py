"""Opening a queue file: each way it can fail as one line, and reading without write access.

SQLite says "unable to open database file" for a folder, a missing parent,
an unwritable folder and an unreadable file alike; :func:`check_location`
tells them apart before SQLite is asked, and :func:`explain` words what
SQLite reports afterwards.

Reading a WAL-mode file that the user may not write (SQLite's "Read-Only
Databases" rules, https://sqlite.org/wal.html#readonly) takes care:

- while any connection has the file open, its ``-wal`` and ``-shm`` exist and
  a ``mode=ro`` connection reads through them, committed WAL pages included;
- when nobody has it open they are gone, and ``mode=ro`` must create them:
  in a folder the user may not write it fails ("attempt to write a readonly
  database"); in one they may write, it leaves ``-wal`` and ``-shm`` owned by
  the reader, with the file's permission bits, behind (a read-only connection
  cannot delete them) and from then on the owner cannot write the queue;
- ``immutable=1`` reads the main file alone, without locks: fine while
  nobody writes, stale or torn once a writer is live.

So a reader who may write the file uses an ordinary connection with
``query_only`` (nothing written, ``-wal``/``-shm`` cleaned up on close);
one who may not uses ``mode=ro`` while ``-wal`` exists, and otherwise
:class:`QueueFile` reads a *snapshot*: it holds a POSIX read lock on the
file's SHARED byte range, which every WAL connection holds too and which a
closing writer must lock exclusively before it checkpoints and deletes the
``-wal``; checks that no ``-wal`` exists; reads through a fresh
``immutable=1`` connection; and checks again before it lets go. A writer
that opened the file meanwhile has created a ``-wal`` it cannot delete while
the lock is held, so a read that saw no writer before and after is whole;
otherwise it is read again through ``mode=ro``.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from thumbgen import locations
from thumbgen.errors import QueueError
from thumbgen.messages import display_path

T = TypeVar("T")

#: SQLite's lock bytes on Unix (os_unix.c): SHARED is a read lock on this range.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510
#: Characters a ``file:`` URI may carry as they are; everything else is %-escaped.
_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


class Mode(enum.Enum):
    """How a queue file is opened."""

    #: Read and write (workers, add, the steering commands).
    WRITE = "write"
    #: Read-only on a file the user may write: ``query_only``.
    QUERY_ONLY = "query only"
    #: Read-only through a live writer's ``-wal`` and ``-shm``: ``mode=ro``.
    READ_ONLY = "read-only"
    #: Read-only with no ``-wal``: locked ``immutable=1`` snapshots, one per read.
    SNAPSHOT = "snapshot"


def no_queue(path: str) -> QueueError:
    """The error for a location without a queue, where only ``add`` and friends create one."""
    shown = display_path(path)
    return QueueError(f"No queue at {shown}; `thumbgen add` creates one (or check --queue)")


def check_location(path: str, *, create: bool, readonly: bool) -> None:
    """Refuse, in one line, a location that cannot be opened as asked (creates nothing)."""
    shown = display_path(path)
    if os.path.isdir(path):
        example = display_path(os.path.join(path, "queue.db"))
        raise QueueError(f"Queue {shown} is a folder; give a file path such as {example}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(path):
        if not create or readonly:
            raise no_queue(path)
        _check_creatable(shown, folder)
        return
    if not os.access(path, os.R_OK):
        raise QueueError(f"Cannot read queue {shown}: permission denied")
    if readonly:
        return
    if not os.access(path, os.W_OK):
        raise QueueError(
            f"Queue {shown} is read-only for you: status, jobs and show work, "
            "but this command needs write access"
        )
    if not (_writable_folder(folder) or _wal_files_writable(path)):
        raise QueueError(
            f"Cannot open queue {shown} for writing: SQLite keeps its -wal and -shm files "
            f"beside it, and folder {display_path(folder)} is not writable"
        )


def _check_creatable(shown: str, folder: str) -> None:
    probe = locations.nearest_existing(folder)
    if not os.path.isdir(probe):
        raise QueueError(f"Cannot create queue {shown}: {display_path(probe)} is not a folder")
    if not _writable_folder(probe):
        raise QueueError(
            f"Cannot create queue {shown}: folder {display_path(probe)} is not writable"
        )


def _writable_folder(folder: str) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _wal_files_writable(path: str) -> bool:
    return all(os.access(path + suffix, os.W_OK) for suffix in ("-wal", "-shm"))


def choose_mode(path: str, *, readonly: bool) -> Mode:
    """The way to open ``path`` (see the module docstring for why)."""
    if not readonly:
        return Mode.WRITE
    folder = os.path.dirname(os.path.abspath(path))
    if os.access(path, os.W_OK) and (_writable_folder(folder) or _wal_files_writable(path)):
        return Mode.QUERY_ONLY
    if os.path.exists(path + "-wal"):
        return Mode.READ_ONLY
    return Mode.SNAPSHOT


def uri(path: str, **params: str) -> str:
    """A ``file:`` URI for ``path`` (any bytes, %-escaped) with query ``params``."""
    raw = os.fsencode(os.path.abspath(path))
    quoted = "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in raw)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{quoted}?{query}" if query else f"file:{quoted}"


def connect(path: str, mode: Mode, timeout: float) -> sqlite3.Connection:
    """A connection to ``path`` in ``mode`` (not SNAPSHOT, whose connections are per read)."""
    if mode is Mode.READ_ONLY:
        return sqlite3.connect(
            uri(path, mode="ro"), uri=True, timeout=timeout, isolation_level=None
        )
    # The file system's bytes, so that a queue path that is not UTF-8 opens too.
    conn = sqlite3.connect(os.fsencode(path), timeout=timeout, isolation_level=None)
    if mode is Mode.QUERY_ONLY:
        conn.execute("PRAGMA query_only = ON")
    return conn


class QueueFile:
    """One queue file's connection, opened for writing or in the best read-only mode."""

    def __init__(self, path: str, *, readonly: bool, timeout: float) -> None:
        self.path = path
        self.readonly = readonly
        self.timeout = timeout
        self.mode = choose_mode(path, readonly=readonly)
        self.conn: sqlite3.Connection | None = None
        if self.mode is not Mode.SNAPSHOT:
            self.conn = connect(path, self.mode, timeout)

    def query(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn``'s result on a connection that sees every committed transaction."""
        if self.conn is not None:
            return fn(self.conn)
        while True:
            done, result = self._snapshot(fn)
            if done:
                return result  # type: ignore[return-value]
            if os.path.exists(self.path + "-wal"):
                # A writer has the file open: read through its -wal and -shm.
                self.mode = Mode.READ_ONLY
                self.conn = connect(self.path, self.mode, self.timeout)
                return fn(self.conn)

    def _snapshot(self, fn: Callable[[sqlite3.Connection], T]) -> tuple[bool, T | None]:
        with self._shared_lock():
            if os.path.exists(self.path + "-wal"):
                return False, None
            conn = sqlite3.connect(
                uri(self.path, mode="ro", immutable="1"), uri=True, isolation_level=None
            )
            try:
                result = fn(conn)
            except sqlite3.DatabaseError:
                if os.path.exists(self.path + "-wal"):
                    return False, None  # a writer came and the read tore: read again
                raise
            finally:
                # Checked before closing: closing SQLite's descriptor of the file
                # drops this process's POSIX locks on it, ours included.
                whole = not os.path.exists(self.path + "-wal")
                conn.close()
            return whole, result

    @contextlib.contextmanager
    def _shared_lock(self) -> Iterator[None]:
        """SQLite's SHARED lock, as a WAL connection holds it, until the block ends."""
        fd = os.open(os.fsencode(self.path), os.O_RDONLY)
        try:
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST)
                    break
                except OSError as exc:
                    # A closing writer holds it exclusively while it checkpoints.
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise QueueError(
                            f"Cannot lock queue {display_path(self.path)} for reading: "
                            f"{exc.strerror}"
                        ) from None
                    if time.monotonic() > deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(0.002)
            yield
        finally:
            os.close(fd)

    def writer(self) -> sqlite3.Connection:
        """The connection for a write transaction; refused on a read-only queue."""
        if self.readonly or self.conn is None:
            raise QueueError(
                f"Queue {display_path(self.path)} was opened read-only; this needs write access"
            )
        return self.conn

    def close(self) -> None:
        """Close the connection, if there is one."""
        if self.conn is not None:
            self.conn.close()


def explain(path: str, exc: sqlite3.Error) -> QueueError:
    """A one-line error for what SQLite said when opening ``path``."""
    shown = display_path(path)
    message = str(exc)
    if "readonly" in message or "read-only" in message:
        return QueueError(
            f"Cannot open queue {shown}: it is read-only here ({message}); "
            "check the permissions of the file and its folder"
        )
    if "unable to open" in message:
        folder = display_path(os.path.dirname(os.path.abspath(path)))
        return QueueError(
            f"Cannot open queue {shown} ({message}); check the permissions of it and {folder}"
        )
    if damaged(message):
        return QueueError(
            f"Queue {shown} is damaged ({message}); `thumbgen repair` salvages its jobs"
            " into a fresh queue, or move it aside and run `thumbgen add` again to start"
            " afresh (the thumbnails already made are left as they are)"
        )
    return QueueError(f"Cannot use queue {shown}: {message}")


def damaged(message: str) -> bool:
    """Whether SQLite's ``message`` says a database file is corrupt.

    Not "file is not a database": that is as likely some other file at the
    queue's path as a queue damaged beyond recognition.
    """
    return "malformed" in message
