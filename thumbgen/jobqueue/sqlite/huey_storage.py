"""Huey's SQLite storage as thumbgen runs it: tables created by the store, ``synchronous=NORMAL``.

Thumbgen leans on two of Huey's internals, pinned by
tests/unit/jobqueue/test_huey_pins.py: ``SqliteStorage._create_connection``
(overridden below) and the ``task`` and ``schedule`` tables of
``SqliteStorage.ddl``, which the job store creates (:mod:`.schema`) and
writes its tokens into (:mod:`.db`). Importing Huey loads its consumer too,
so this module is imported only when a transport is made.
"""

from __future__ import annotations

import datetime
import logging
import sqlite3

from huey import SqliteHuey
from huey.storage import SqliteStorage

from thumbgen.jobqueue.contract import QUEUE_NAME

log = logging.getLogger("thumbgen.worker")


class NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
    """Huey's storage with ``synchronous=NORMAL``, like the store's connection.

    Reading a token that fails (a full disk under the queue file, a lock held
    past the busy timeout) is said once per episode and per process, then
    nothing until the reason changes or the queue reads again: Huey's
    consumer logged a traceback for every try, thousands of lines a minute.
    """

    #: Why reading tokens fails right now (None: it works).
    _trouble: str | None = None

    def _episode(self, exc: sqlite3.Error | None) -> None:
        reason = None if exc is None else " ".join(str(exc).split())
        if reason == self._trouble:
            return
        if reason is not None:
            log.warning("Cannot read the queue %s: %s; waiting for it", self.filename, reason)
        else:
            log.warning("queue %s readable again", self.filename)
        self._trouble = reason

    def dequeue(self) -> bytes | None:
        """The next token, or None when there is none or the queue cannot be read now."""
        try:
            data: bytes | None = super().dequeue()
        except sqlite3.Error as exc:
            self._episode(exc)
            return None
        self._episode(None)
        return data

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        # Huey leaves SQLite's default FULL, an fsync per dequeue; NORMAL is
        # crash-safe in WAL mode and several times faster (notes/huey.md 3).
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def read_schedule(self, ts: datetime.datetime) -> list[bytes]:
        """Tokens now due; none while another process holds the queue locked.

        Huey's scheduler would log a lock past the busy timeout, or a full
        disk, as a traceback each second (said once per episode instead); the
        due tokens stay in the table and are read once it goes.
        """
        try:
            due: list[bytes] = super().read_schedule(ts)
        except sqlite3.Error as exc:
            self._episode(exc)  # a full disk, too
            return []
        self._episode(None)
        return due


class ThumbgenSqliteHuey(SqliteHuey):  # type: ignore[misc]
    """SqliteHuey on :class:`NormalSyncStorage`."""

    storage_class = NormalSyncStorage


def make_huey(path: str, busy_timeout: float) -> ThumbgenSqliteHuey:
    """The transport for the queue file at ``path`` (opens no connection yet)."""
    # The store creates Huey's tables with its own (once, not at every open:
    # creating takes the write lock, and status must not wait).
    return ThumbgenSqliteHuey(
        QUEUE_NAME,
        filename=path,
        results=False,
        timeout=busy_timeout,
        utc=True,
        create_tables=False,
    )
