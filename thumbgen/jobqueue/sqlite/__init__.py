"""The SQLite backend: jobs, counters, workers and Huey's tables in one file.

:func:`open_backend` is all the rest of thumbgen uses; the modules under it
are the opening rules (``opening``: one-line errors, read-only access), the
connection (``db``), the schema and its migrations, how paths are stored
(``text``), the job store (``store`` for the transitions, ``controls`` for
pause, cancel, retry and clear, ``reads`` for the queries) and Huey's storage
(``huey_storage``, the only module here that imports Huey, and only when a
token is needed).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from thumbgen.errors import QueueError
from thumbgen.jobqueue.contract import Backend
from thumbgen.messages import display_path

if TYPE_CHECKING:
    from huey import Huey


def open_backend(path: str, *, create: bool = True, readonly: bool = False) -> Backend:
    """The SQLite backend for the queue file at ``path``.

    ``create``: make the file (and its folders) if it does not exist, else
    refuse; ``readonly``: stores that only read, for a file the user may not
    write (:mod:`.opening`); a read-only queue never creates anything.
    """
    from .store import SqliteStore

    return Backend(
        location=path,
        open_huey=functools.partial(_open_huey, path),
        open_store=functools.partial(SqliteStore, path, create=create, readonly=readonly),
    )


def _open_huey(path: str) -> Huey:
    # Imported here: Huey's package loads its consumer machinery, which
    # ``status`` must not pay for (tests/e2e/test_startup.py).
    from .db import BUSY_TIMEOUT
    from .huey_storage import make_huey

    try:
        return make_huey(path, BUSY_TIMEOUT)
    except Exception as exc:  # sqlite3 and OS errors alike
        raise QueueError(f"Cannot open queue {display_path(path)}: {exc}") from None
