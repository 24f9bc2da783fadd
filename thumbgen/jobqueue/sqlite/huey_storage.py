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
import sqlite3

from huey import SqliteHuey
from huey.storage import SqliteStorage

from thumbgen.jobqueue.contract import QUEUE_NAME


class NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
    """Huey's storage with ``synchronous=NORMAL``, like the store's connection."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        # Huey leaves SQLite's default FULL, an fsync per dequeue; NORMAL is
        # crash-safe in WAL mode and several times faster (notes/huey.md 3).
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def read_schedule(self, ts: datetime.datetime) -> list[bytes]:
        """Tokens now due; none while another process holds the queue locked.

        Huey's scheduler would log a lock past the busy timeout as a traceback
        (the worker service logs it as one line); the due tokens stay in the
        table and are read once the lock goes.
        """
        try:
            due: list[bytes] = super().read_schedule(ts)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return []
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
