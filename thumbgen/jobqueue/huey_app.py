"""The Huey instance for one queue location, and the job store that goes with it.

Huey here only carries tokens: a token wakes a worker, which claims the
oldest due job from the store (see :mod:`thumbgen.store`). Results are off
(the store holds outcomes) and the SQLite connection runs with
``synchronous=NORMAL`` like the store's (notes/huey.md section 8).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from huey import SqliteHuey
from huey.storage import SqliteStorage

from thumbgen.errors import QueueError
from thumbgen.jobqueue.sqlite.db import BUSY_TIMEOUT
from thumbgen.jobqueue.sqlite.store import SqliteStore

QUEUE_NAME = "thumbgen"


class _NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
    def _create_connection(self):  # type: ignore[no-untyped-def]
        conn = super()._create_connection()
        # Huey leaves SQLite's default FULL, an fsync per dequeue; NORMAL is
        # crash-safe in WAL mode and several times faster (notes/huey.md 3).
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn


class _Huey(SqliteHuey):  # type: ignore[misc]
    storage_class = _NormalSyncStorage


class Queue:
    """One queue location: its Huey instance, its token task and a store per thread."""

    def __init__(self, location: str) -> None:
        if "://" in location:
            scheme = location.split("://", 1)[0]
            raise QueueError(
                f"Unsupported queue {location!r}: {scheme}:// queues are not available yet; "
                "use a SQLite file path"
            )
        self.location = location
        self.queue_name = QUEUE_NAME
        try:
            os.makedirs(os.path.dirname(location) or ".", exist_ok=True)
            # The store creates Huey's tables with its own (once, not at every
            # open: creating takes the write lock, and status must not wait).
            self.huey = _Huey(
                QUEUE_NAME,
                filename=location,
                results=False,
                timeout=BUSY_TIMEOUT,
                utc=True,
                create_tables=False,
            )
        except Exception as exc:  # sqlite3 and OS errors alike
            raise QueueError(f"Cannot open queue {location}: {exc}") from None
        self.run_token = self.huey.task(name="run_token")(self._run_token)
        #: What a token does in a worker process; set by :mod:`thumbgen.worker`.
        self.on_token: Callable[[], None] | None = None
        self._local = threading.local()
        self.store  # noqa: B018 - opening the store creates the schema Huey needs

    @property
    def store(self) -> SqliteStore:
        """This thread's store connection (a fork gets a fresh one, never the parent's)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.store = SqliteStore(self.location, self)
            local.pid = os.getpid()
        store: SqliteStore = local.store
        return store

    def immediate(self) -> bytes:
        """A serialized token to run now."""
        data: bytes = self.huey.serialize_task(self.run_token.s())
        return data

    def delayed(self, seconds: float) -> tuple[bytes, float]:
        """A serialized token due in ``seconds``, with its schedule timestamp."""
        task = self.run_token.s(delay=seconds)
        # The same conversion Huey's own add_schedule() applies to task.eta.
        return self.huey.serialize_task(task), float(task.eta.timestamp())

    def _run_token(self) -> None:
        if self.on_token is not None:
            self.on_token()

    def close_thread(self) -> None:
        """Close this thread's store connection, if it has one."""
        local = self._local
        if getattr(local, "pid", None) == os.getpid():
            local.store.close()
        local.store = local.pid = None

    def close(self) -> None:
        """Close this thread's store and Huey's connection (before forking, at exit)."""
        self.close_thread()
        self.huey.storage.close()
