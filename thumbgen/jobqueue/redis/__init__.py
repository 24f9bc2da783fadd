"""The Redis backend: the job store and Huey's transport in one Redis database.

For workers on many machines: every ``thumbgen`` points at one
``redis://[:password@]host:port/db`` (``rediss://`` for TLS). Modules:
``url`` (parsing, and showing a URL without its password), ``connection``
(the client, one-line errors, waiting out an outage, the timing settings),
``scripts`` and ``control_scripts`` (the Lua that makes each transition
atomic), ``base`` (queries), ``controls`` (pause, cancel, retry, clear) and
``store`` (the transitions of jobs), ``huey_storage`` (the transport). The
``redis`` package is imported only here and only when a Redis queue is opened.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from thumbgen.jobqueue.contract import Backend, JobStore, Tokens

from . import url as urls

if TYPE_CHECKING:
    from huey import Huey


def open_backend(location: str, *, create: bool = True, readonly: bool = False) -> Backend:
    """The Redis backend for ``location`` (a ``redis://`` or ``rediss://`` URL)."""
    parsed = urls.parse(location)
    from . import connection

    connection.import_redis()  # a missing package is reported now, in one line
    return Backend(
        location=location,
        open_huey=functools.partial(_open_huey, parsed),
        open_store=functools.partial(_open_store, parsed, create=create, readonly=readonly),
    )


def forget_loss(location: str) -> bool:
    """Remove the marker of a lost queue (the next ``add`` starts afresh); True if there was one."""
    from . import connection
    from .base import LOST, key

    parsed = urls.parse(location)
    client = connection.connect(parsed, connection.Settings.from_env())
    return bool(connection.once(parsed, lambda: client.delete(key(LOST))))


def _open_store(
    location: urls.RedisLocation, tokens: Tokens, *, create: bool, readonly: bool
) -> JobStore:
    from .store import RedisStore

    return RedisStore(location, tokens, create=create, readonly=readonly)


def _open_huey(location: urls.RedisLocation) -> Huey:
    from . import connection
    from .huey_storage import make_huey

    return make_huey(location, connection.Settings.from_env())
