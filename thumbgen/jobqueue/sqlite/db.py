"""The SQLite connection under the job store: schema, transactions, errors, tokens.

Tokens are rows in Huey's own ``task`` and ``schedule`` tables, written in
the caller's transaction so that a job and its token commit together; the
statements below are all the SQL thumbgen runs on them. No immediate token
is made while the queue is paused (``resume`` tops them up), so paused
workers do not spin on tokens that find nothing.

One :class:`SqliteDb` per process and thread. Write transactions start with
``BEGIN IMMEDIATE`` so the busy timeout applies to them (a deferred one that
upgrades can fail at once); every SQLite error leaves as a one-line
:class:`~thumbgen.errors.ThumbgenError`. Opening, and reading a file the
user may only read, are :mod:`.opening`'s business.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from thumbgen.errors import QueueError, QueueLost, TransientError
from thumbgen.jobqueue.contract import Tokens
from thumbgen.messages import display_path

from . import opening
from .schema import SCHEMA_VERSION, migrate

T = TypeVar("T")

#: How long a write waits for another process's transaction before giving up
#: (THUMBGEN_BUSY_TIMEOUT, for tests that hold a lock past it in seconds).
BUSY_TIMEOUT = float(os.environ.get("THUMBGEN_BUSY_TIMEOUT") or 60.0)

#: A token to run now, and one due at ``timestamp`` (Huey's scheduler moves it).
INSERT_TOKEN = "INSERT INTO task (queue, data, priority) VALUES (?, ?, 0)"
INSERT_SCHEDULED_TOKEN = "INSERT INTO schedule (queue, data, timestamp) VALUES (?, ?, ?)"
COUNT_TOKENS = (
    "SELECT (SELECT count(*) FROM task WHERE queue = ?)"
    " + (SELECT count(*) FROM schedule WHERE queue = ?)"
)
COUNT_IMMEDIATE_TOKENS = "SELECT count(*) FROM task WHERE queue = ?"
DELETE_TOKENS = ("DELETE FROM task WHERE queue = ?", "DELETE FROM schedule WHERE queue = ?")
DELETE_IMMEDIATE_TOKENS = "DELETE FROM task WHERE queue = ?"
#: The newest ``n`` tokens to run now (tokens are alike: which ones go does not matter).
DELETE_SOME_TOKENS = (
    "DELETE FROM task WHERE id IN (SELECT id FROM task WHERE queue = ? ORDER BY id DESC LIMIT ?)"
)
IS_PAUSED = "SELECT 1 FROM meta WHERE key = 'paused'"


class SqliteDb:
    """A connection to one queue file, with its schema in place."""

    def __init__(
        self, path: str, tokens: Tokens, *, create: bool = True, readonly: bool = False
    ) -> None:
        self.path = path
        self._tokens = tokens
        opening.check_location(path, create=create, readonly=readonly)
        try:
            if create and not readonly:
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self._file = opening.QueueFile(path, readonly=readonly, timeout=BUSY_TIMEOUT)
        except OSError as exc:
            raise QueueError(
                f"Cannot open queue {display_path(path)}: {exc.strerror or exc}"
            ) from None
        except sqlite3.Error as exc:
            raise opening.explain(path, exc) from None
        #: The file this connection opened, as the device and inode it is on.
        self._identity = _identity(path)
        try:
            self._prepare(create=create, readonly=readonly)
        except BaseException:
            self._file.close()
            raise

    @property
    def _conn(self) -> sqlite3.Connection:
        """The connection writes go through (refused on a read-only queue)."""
        return self._file.writer()

    def _prepare(self, *, create: bool, readonly: bool) -> None:
        try:
            # Opening must not wait for writers (``status`` during a big
            # submit): only a file without the current schema takes the lock.
            version = self._file.query(_schema_version)
            if version != SCHEMA_VERSION:
                # Before anything is written: another program's database, or
                # an empty file where none may be created, is left as it was.
                self._check_version(version, create=create)
            if not readonly:
                self._set_wal()
                self._conn.execute("PRAGMA synchronous = NORMAL")
            if version != SCHEMA_VERSION:
                self._upgrade(readonly=readonly)
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _check_version(self, version: str | None, *, create: bool) -> None:
        shown = display_path(self.path)
        if version is not None and version.isdigit() and int(version) > int(SCHEMA_VERSION):
            raise QueueError(
                f"Queue {shown} was made by a newer thumbgen (schema {version}, this one "
                f"reads {SCHEMA_VERSION}); upgrade thumbgen to use it"
            )
        if version is not None and not version.isdigit():
            # Never "upgrade" what cannot be read: it would be rewritten as ours.
            raise QueueError(
                f"Queue {shown} has an unreadable schema version ({version[:20]!r}): "
                "damaged, or not a thumbgen queue; move it aside to start afresh"
            )
        if version is None and self._file.query(_has_tables):
            if self._file.query(_schema_version) is not None:
                return  # made by another process since the first read (two workers starting)
            raise QueueError(f"{shown} is a SQLite database but not a thumbgen queue")
        if version is None and not create:
            raise opening.no_queue(self.path)

    def _upgrade(self, *, readonly: bool) -> None:
        """Create or migrate the schema: the one write an open may make."""
        mode = self._file.mode
        if mode is opening.Mode.QUERY_ONLY:
            # The user may write the file: upgrade it, then read only again.
            conn = self._file.conn
            assert conn is not None
            conn.execute("PRAGMA query_only = OFF")
            try:
                self._migrate_on(conn)
            finally:
                conn.execute("PRAGMA query_only = ON")
        elif readonly:
            raise QueueError(
                f"Queue {display_path(self.path)} was made by an older thumbgen and needs "
                "an upgrade only a user who may write it can make: run `thumbgen status` "
                "once as such a user"
            )
        else:
            self._migrate_on(self._conn)

    def _migrate_on(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have upgraded it while this one waited.
            if _schema_version(conn) != SCHEMA_VERSION:
                migrate(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _set_wal(self) -> None:
        # Switching a new file to WAL needs a moment of exclusive access;
        # several processes opening a fresh queue at once may collide.
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    # -- plumbing ---------------------------------------------------------

    def _error(self, exc: sqlite3.Error) -> QueueError | TransientError:
        message = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
            return TransientError(
                f"Queue {display_path(self.path)} stayed locked by another process for "
                f"{BUSY_TIMEOUT:.0f} s; try again"
            )
        if "disk is full" in message or "disk I/O error" in message:
            # Transient: the worker retries, and recovers once space returns.
            return TransientError(f"Queue {display_path(self.path)} cannot be written: {message}")
        if "unable to open" in message or "readonly" in message or opening.damaged(message):
            return opening.explain(self.path, exc)
        return QueueError(f"Cannot use queue {display_path(self.path)}: {message}")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _same_file(self) -> None:
        """Raise QueueLost once the path names another file than the one opened.

        A backup restored or a sync tool's copy moved over the queue
        (``mv new.db queue.db``) leaves this connection on the old file
        while its -wal, which goes by name, would be replayed into the new
        one: counts from the old file, jobs run into the wrong folders, a
        corrupted new file. One stat per transaction tells it.
        """
        now = _identity(self.path)
        if now == self._identity:
            return
        conn = self._file.conn
        if conn is not None and not self._file.readonly:
            # SQLite neither checkpoints nor removes the -wal of a file that
            # was moved (it cannot know where to): the next process to open
            # the new file would replay this one's frames into it. Emptied
            # into the old file now, there is nothing left to replay.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shown = display_path(self.path)
        what = "deleted or moved away" if now is None else "replaced by another file"
        raise QueueLost(
            f"Queue {shown} was {what} while in use; stopped using it, and left what is "
            "there now untouched (start the workers again to use it)"
        )

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE so that the busy timeout applies."""
        self._same_file()
        conn = self._conn
        with self._errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn`` run on a connection that may read (whichever way the file was opened)."""
        self._same_file()
        with self._errors():
            return self._file.query(fn)

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        return self._query(lambda conn: conn.execute(sql, params).fetchall())

    def _paused(self, db: sqlite3.Connection) -> bool:
        return db.execute(IS_PAUSED).fetchone() is not None

    def _add_tokens(self, db: sqlite3.Connection, count: int) -> None:
        if count <= 0 or self._paused(db):
            return
        # Tokens carry no job id, so one message serves the whole transaction.
        data = self._tokens.immediate()
        name = self._tokens.queue_name
        db.executemany(INSERT_TOKEN, ((name, data) for _ in range(count)))

    def _add_delayed_token(self, db: sqlite3.Connection, delay: float) -> None:
        data, timestamp = self._tokens.delayed(delay)
        db.execute(INSERT_SCHEDULED_TOKEN, (self._tokens.queue_name, data, timestamp))

    def _count_tokens(self, db: sqlite3.Connection) -> int:
        name = self._tokens.queue_name
        return int(db.execute(COUNT_TOKENS, (name, name)).fetchone()[0])

    def _drop_tokens(self, db: sqlite3.Connection, *, scheduled: bool = True) -> None:
        name = self._tokens.queue_name
        for sql in DELETE_TOKENS if scheduled else (DELETE_IMMEDIATE_TOKENS,):
            db.execute(sql, (name,))

    def _trim_tokens(self, db: sqlite3.Connection) -> None:
        """Drop tokens to run now beyond one per queued job (after jobs left the queue).

        Keeping at least as many as there are queued jobs, due or not, keeps
        every queued job its token; the rest would wake workers for nothing.
        """
        name = self._tokens.queue_name
        queued = db.execute("SELECT n FROM job_counts WHERE state = 'queued'").fetchone()[0]
        surplus = int(db.execute(COUNT_IMMEDIATE_TOKENS, (name,)).fetchone()[0]) - int(queued)
        if surplus > 0:
            db.execute(DELETE_SOME_TOKENS, (name, surplus))

    def close(self) -> None:
        """Close the connection."""
        self._file.close()


def _identity(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at ``path``; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _schema_version(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError as exc:  # no meta table: a new (or a foreign) file
        if "no such table" not in str(exc):
            raise
        return None
    return None if row is None else str(row[0])


def _has_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    return bool(row[0])
