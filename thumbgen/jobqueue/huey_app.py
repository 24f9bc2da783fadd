"""The queue facade: one backend's Huey instance, its token task and a job store per thread.

Huey here only carries tokens: a token wakes a worker, which claims the
oldest due job from the store (:mod:`thumbgen.jobqueue.contract`). Which
Huey and which store is the backend's business (:class:`Backend`, picked by
:func:`thumbgen.jobqueue.backend.open_queue`); this module knows neither.
The Huey instance is made when first needed (a token, a worker): importing
Huey loads its consumer machinery, which reading commands have no use for.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .contract import QUEUE_NAME, Backend, JobStore

if TYPE_CHECKING:
    from huey import Huey


def import_huey() -> None:
    """Import Huey, without redis-py unless this process has loaded it already.

    ``huey.storage`` tries to import redis-py for its Redis storage, and
    redis-py loads asyncio and its async client: Huey cost 180 ms of CPU to
    import instead of 45 ms, on every ``add --wait`` and worker start, for a
    SQLite queue that never uses Redis. The Redis backend loads redis-py
    before it makes its transport (opening its store does), and by then
    this fills Huey's Redis names in if Huey came without them.
    """
    if "huey.storage" not in sys.modules and "redis" not in sys.modules:
        # None in sys.modules makes `import redis` raise ImportError, which
        # huey.storage takes for "not installed".
        sys.modules["redis"] = None  # type: ignore[assignment]
        try:
            importlib.import_module("huey.storage")
        finally:
            if sys.modules.get("redis", ...) is None:
                del sys.modules["redis"]
        return
    storage: Any = importlib.import_module("huey.storage")
    redis: Any = sys.modules.get("redis")
    if redis is not None and storage.Redis is None:
        exceptions: Any = importlib.import_module("redis.exceptions")
        storage.ConnectionPool, storage.Redis = redis.ConnectionPool, redis.Redis
        storage.ConnectionError = exceptions.ConnectionError
        storage.TimeoutError = exceptions.TimeoutError
        storage.RedisStorage.redis_client = redis.Redis


class Queue:
    """One queue location: its Huey instance, its token task and a store per thread.

    Built from a :class:`Backend`: :func:`thumbgen.jobqueue.backend.open_queue`
    chooses it for a location.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.location = backend.location
        self.queue_name = QUEUE_NAME
        #: What a token does in a worker process; set by :mod:`thumbgen.workers.consumer`.
        self.on_token: Callable[[], None] | None = None
        self._huey: Huey | None = None
        self._token_task: Any = None
        self._huey_lock = threading.Lock()
        self._local = threading.local()
        # Opening the first store readies the backend (a new SQLite file gets
        # its schema, Huey's tables included) and reports a bad location now.
        self.store  # noqa: B018

    @property
    def huey(self) -> Huey:
        """The transport, made on first use: ``status`` and friends never load Huey."""
        if self._huey is None:
            with self._huey_lock:
                if self._huey is None:
                    import_huey()
                    huey = self.backend.open_huey()
                    self._token_task = huey.task(name="run_token")(self._run_token)
                    self._huey = huey
        return self._huey

    @property
    def store(self) -> JobStore:
        """This thread's store connection (a fork gets a fresh one, never the parent's)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.store = self.backend.open_store(self)
            local.pid = os.getpid()
        store: JobStore = local.store
        return store

    def immediate(self) -> bytes:
        """A serialized token to run now."""
        huey = self.huey
        data: bytes = huey.serialize_task(self._token_task.s())
        return data

    def delayed(self, seconds: float) -> tuple[bytes, float]:
        """A serialized token due in ``seconds``, with its schedule timestamp."""
        huey = self.huey
        task = self._token_task.s(delay=seconds)
        # The same conversion Huey's own add_schedule() applies to task.eta.
        return huey.serialize_task(task), float(task.eta.timestamp())

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
        if self._huey is not None:
            self._huey.storage.close()
