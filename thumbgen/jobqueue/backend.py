"""Which backend a queue location gets: the one place that chooses.

A file path gives the SQLite backend. ``redis://`` and ``rediss://`` are
the Redis backend: the ``thumbgen.jobqueue.redis`` subpackage's
``open_backend(url, *, create, readonly) -> Backend``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thumbgen import locations
from thumbgen.errors import QueueError
from thumbgen.locations import Kind

from .contract import Backend
from .huey_app import Queue

if TYPE_CHECKING:
    from .sqlite.salvage import Salvage


def open_queue(location: str, *, create: bool = True, readonly: bool = False) -> Queue:
    """The queue at ``location`` (a SQLite file path), opened and ready.

    ``create=False`` refuses a location that holds no queue (QueueError "No
    queue at ...") and creates nothing; only the commands that put work in
    create one. ``readonly=True`` opens it for reading only (status, jobs,
    show), which works on a queue file the user may read but not write.
    """
    return Queue(open_backend(location, create=create, readonly=readonly))


def open_backend(location: str, *, create: bool = True, readonly: bool = False) -> Backend:
    """The backend (transport and job-store factory) for ``location``, by its scheme."""
    loc = locations.parse(location)
    if loc.is_path:
        from . import sqlite

        return sqlite.open_backend(location, create=create, readonly=readonly)
    if loc.kind is Kind.REDIS:
        from . import redis

        return redis.open_backend(location, create=create, readonly=readonly)
    raise _unsupported(loc)


def repair(location: str) -> Salvage | None:
    """Salvage a damaged queue file into a fresh one (:mod:`.sqlite.salvage`).

    None for a Redis location: Redis keeps its own files (its persistence),
    and there is no queue file of thumbgen's to salvage.
    """
    loc = locations.parse(location)
    if loc.is_path:
        from .sqlite.salvage import repair as salvage

        return salvage(location)
    if loc.kind is Kind.REDIS:
        return None
    raise _unsupported(loc)


def forget_loss(location: str) -> bool:
    """Let a new queue start where one was lost (Redis); True if one had been marked lost.

    A Redis queue whose keys vanished is marked lost by the first process
    that notices, and no command starts a new one there until this is called.
    """
    if locations.parse(location).kind is Kind.REDIS:
        from . import redis

        return redis.forget_loss(location)
    return False


def _unsupported(loc: locations.Location) -> QueueError:
    # The message lists what does work: "not available yet" for a typo
    # (rdis://) sent people looking for a release that would never come.
    known = "a SQLite file path, redis://HOST:PORT/DB, rediss:// (TLS) or redis+sentinel://"
    if loc.kind is Kind.OTHER:
        what = f"unknown scheme {loc.scheme}://"
    else:
        what = f"{loc.scheme}:// cannot hold a queue"
    return QueueError(f"Invalid queue {loc.text!r}: {what}; use {known}")


def shown(location: str) -> str:
    """``location`` fit to print: a Redis URL with its password hidden."""
    if locations.parse(location).kind is Kind.REDIS:
        from .redis.url import shown as shown_url

        return shown_url(location)
    return location
