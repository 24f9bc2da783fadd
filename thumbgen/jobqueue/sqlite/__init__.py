"""The SQLite backend: jobs, counters, workers and Huey's tables in one file.

:func:`open_backend` is all the rest of thumbgen uses; the modules under it
are the connection (``db``), the schema, the job store and Huey's storage.
"""

from __future__ import annotations

import functools
import os

from thumbgen.errors import QueueError
from thumbgen.jobqueue.contract import Backend


def open_backend(path: str) -> Backend:
    """The SQLite backend for the queue file at ``path`` (created on first use)."""
    # Imported here so that importing this package (for its schema, say)
    # does not load Huey.
    from .db import BUSY_TIMEOUT
    from .huey_storage import make_huey
    from .store import SqliteStore

    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        huey = make_huey(path, BUSY_TIMEOUT)
    except Exception as exc:  # sqlite3 and OS errors alike
        raise QueueError(f"Cannot open queue {path}: {exc}") from None
    return Backend(location=path, huey=huey, open_store=functools.partial(SqliteStore, path))
