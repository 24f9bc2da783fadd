"""Huey's Redis storage as thumbgen's transport: tokens in ``huey.redis.thumbgen``.

Plain :class:`huey.RedisHuey` (a list, ``BRPOP``) rather than the priority
flavour: tokens carry no job, so they need no order; the store's ``ready``
set decides which job a token runs, priorities included. The job store's
scripts push tokens into the same keys Huey reads (``huey.redis.<name>``
and ``huey.schedule.<name>``, pinned by tests/unit/jobqueue/test_redis_url.py),
which is what lets a job and its token be written in one step. Imported
only when a transport is made: importing Huey loads its consumer.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

from huey import RedisHuey
from huey.storage import RedisStorage

from thumbgen.jobqueue.contract import QUEUE_NAME

from . import connection
from .url import RedisLocation

#: The list and the sorted set the store's scripts write tokens into.
TOKEN_LIST = f"huey.redis.{QUEUE_NAME}"
TOKEN_SCHEDULE = f"huey.schedule.{QUEUE_NAME}"
log = logging.getLogger("thumbgen.redis")


class PatientRedisStorage(RedisStorage):  # type: ignore[misc]
    """Huey's Redis storage, waiting out an outage quietly.

    Huey logs a full traceback for every failed read and retries within
    milliseconds; during a Redis restart that is a screenful a second per
    worker. Here a lost connection logs one line per outage and the reads
    back off (0.1 s doubling to 5 s) until Redis answers again.
    """

    location: RedisLocation
    _pause = 0.0

    def close(self) -> bool:
        """Disconnect the pool: Huey's own close leaves its sockets open until exit."""
        self.conn.connection_pool.disconnect()
        return True

    def _waiting(self, exc: Exception) -> None:
        if self._pause == 0.0:
            log.warning("%s; waiting for it to come back", connection.explain(self.location, exc))
        self._pause = min(max(self._pause * 2, 0.1), 5.0)
        time.sleep(self._pause)

    def _answered(self) -> None:
        if self._pause:
            log.warning("Redis at %s is back", self.location.shown)
            self._pause = 0.0

    def dequeue(self) -> bytes | None:
        """The next token, or None (also while Redis is out of reach)."""
        try:
            data: bytes | None = super().dequeue()
        except Exception as exc:
            if not connection.is_outage(exc):
                raise
            self._waiting(exc)
            return None
        self._answered()
        return data

    def peek_many(self, keys: list[str]) -> dict[str, bytes]:
        """Huey's revocation check before a task runs: thumbgen revokes nothing.

        Answered without Redis, so a token taken just before an outage still
        runs (its claim waits for Redis) instead of failing with a traceback.
        """
        return {}

    def delete_data(self, key: str) -> bool:
        """Huey clears a task's revocation key after it runs: thumbgen revokes nothing.

        Answered without Redis, like :meth:`peek_many`: otherwise a token that
        ran just as Redis went away ends in a traceback from this clean-up.
        """
        return False

    def read_schedule(self, ts: datetime.datetime) -> list[bytes]:
        """Tokens now due (none while Redis is out of reach)."""
        try:
            due: list[bytes] = super().read_schedule(ts)
        except Exception as exc:
            if not connection.is_outage(exc):
                raise
            self._waiting(exc)
            return []
        self._answered()
        return due


class ThumbgenRedisHuey(RedisHuey):  # type: ignore[misc]
    """RedisHuey on :class:`PatientRedisStorage`."""

    storage_class = PatientRedisStorage


def make_huey(location: RedisLocation, settings: connection.Settings) -> RedisHuey:
    """The transport for ``location`` (connects on first use)."""
    redis_mod = connection.import_redis()
    # The socket timeout is longer than BRPOP's wait, so an idle worker's
    # read is not cut short.
    if location.service is not None:
        pool = connection.connect(location, settings, read_timeout=2.0).connection_pool
    else:
        pool = redis_mod.ConnectionPool.from_url(
            location.url, **connection.client_options(settings, read_timeout=2.0)
        )
    kwargs: dict[str, Any] = {"connection_pool": pool, "read_timeout": 1}
    huey = ThumbgenRedisHuey(QUEUE_NAME, results=False, utc=True, **kwargs)
    huey.storage.location = location
    # The scripts write into these keys; a Huey that named them otherwise
    # would never see a token (pinned by tests/unit/jobqueue/test_redis_url.py).
    assert huey.storage.queue_key == TOKEN_LIST
    assert huey.storage.schedule_key == TOKEN_SCHEDULE
    return huey
