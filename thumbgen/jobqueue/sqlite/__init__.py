"""The SQLite backend: jobs, counters, workers and Huey's tables in one file.

:func:`open_backend` is all the rest of thumbgen uses; the modules under it
are the connection (``db``), the schema, the job store (``store`` for the
transitions, ``reads`` for the queries) and Huey's storage (``huey_storage``,
the only module here that imports Huey, and only when a token is needed).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from thumbgen.errors import QueueError
from thumbgen.jobqueue.contract import Backend

if TYPE_CHECKING:
    from huey import Huey


def open_backend(path: str) -> Backend:
    """The SQLite backend for the queue file at ``path`` (created on first use)."""
    from .store import SqliteStore

    return Backend(
        location=path,
        open_huey=functools.partial(_open_huey, path),
        open_store=functools.partial(SqliteStore, path),
    )


def _open_huey(path: str) -> Huey:
    # Imported here: Huey's package loads its consumer machinery, which
    # ``status`` must not pay for (tests/e2e/test_startup.py).
    from .db import BUSY_TIMEOUT
    from .huey_storage import make_huey

    try:
        return make_huey(path, BUSY_TIMEOUT)
    except Exception as exc:  # sqlite3 and OS errors alike
        raise QueueError(f"Cannot open queue {path}: {exc}") from None
