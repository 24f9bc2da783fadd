"""The SQLite connection under the job store: schema, transactions, errors, tokens.

Tokens are rows in Huey's own ``task`` and ``schedule`` tables, written in
the caller's transaction so that a job and its token commit together; the
statements below are all the SQL thumbgen runs on them.

One :class:`SqliteDb` per process and thread. Write transactions start with
``BEGIN IMMEDIATE`` so the busy timeout applies to them (a deferred one that
upgrades can fail at once); every SQLite error leaves as a one-line
:class:`~thumbgen.errors.ThumbgenError`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

from thumbgen.errors import QueueError, TransientError
from thumbgen.jobqueue.contract import Tokens

from .schema import SCHEMA_VERSION, statements

#: How long a write waits for another process's transaction before giving up.
BUSY_TIMEOUT = 60.0

#: A token to run now, and one due at ``timestamp`` (Huey's scheduler moves it).
INSERT_TOKEN = "INSERT INTO task (queue, data, priority) VALUES (?, ?, 0)"
INSERT_SCHEDULED_TOKEN = "INSERT INTO schedule (queue, data, timestamp) VALUES (?, ?, ?)"
COUNT_TOKENS = (
    "SELECT (SELECT count(*) FROM task WHERE queue = ?)"
    " + (SELECT count(*) FROM schedule WHERE queue = ?)"
)
DELETE_TOKENS = ("DELETE FROM task WHERE queue = ?", "DELETE FROM schedule WHERE queue = ?")


class SqliteDb:
    """A connection to one queue file, with its schema in place."""

    def __init__(self, path: str, tokens: Tokens) -> None:
        self.path = path
        self._tokens = tokens
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self._conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
            with self._errors():
                self._set_wal()
                self._conn.execute("PRAGMA synchronous = NORMAL")
                # Opening must not wait for writers (``status`` during a big
                # submit): only a file without the schema takes the write lock.
                if self._schema_version() != SCHEMA_VERSION:
                    with self._write() as db:
                        self._create(db)
        except OSError as exc:
            raise QueueError(f"Cannot open queue {path}: {exc.strerror or exc}") from None

    def _schema_version(self) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError:  # no meta table: a new file
            return None
        return None if row is None else str(row[0])

    def _create(self, db: sqlite3.Connection) -> None:
        # executescript() would commit the open transaction; run one by one.
        for statement in statements():
            db.execute(statement)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

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

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise TransientError(
                    f"Queue {self.path} stayed locked by another process for "
                    f"{BUSY_TIMEOUT:.0f} s; try again"
                ) from None
            raise QueueError(f"Cannot use queue {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise QueueError(f"Cannot use queue {self.path}: {exc}") from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE so that the busy timeout applies."""
        with self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._errors():
            return self._conn.execute(sql, params).fetchall()

    def _add_tokens(self, db: sqlite3.Connection, count: int) -> None:
        if count <= 0:
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

    def _drop_tokens(self, db: sqlite3.Connection) -> None:
        for sql in DELETE_TOKENS:
            db.execute(sql, (self._tokens.queue_name,))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
