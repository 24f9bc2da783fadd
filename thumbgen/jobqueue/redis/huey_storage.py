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

from huey import RedisHuey

from thumbgen.jobqueue.contract import QUEUE_NAME

from . import connection
from .url import RedisLocation

#: The list and the sorted set the store's scripts write tokens into.
TOKEN_LIST = f"huey.redis.{QUEUE_NAME}"
TOKEN_SCHEDULE = f"huey.schedule.{QUEUE_NAME}"


def make_huey(location: RedisLocation, settings: connection.Settings) -> RedisHuey:
    """The transport for ``location`` (connects on first use)."""
    redis_mod = connection.import_redis()
    pool = redis_mod.ConnectionPool.from_url(
        location.url,
        # Longer than BRPOP's wait, so an idle worker's read is not cut short.
        socket_timeout=settings.socket_timeout + 2,
        socket_connect_timeout=settings.connect_timeout,
        socket_keepalive=True,
    )
    huey = RedisHuey(QUEUE_NAME, connection_pool=pool, results=False, utc=True, read_timeout=1)
    # The scripts write into these keys; a Huey that named them otherwise
    # would never see a token (pinned by tests/unit/jobqueue/test_redis_url.py).
    assert huey.storage.queue_key == TOKEN_LIST
    assert huey.storage.schedule_key == TOKEN_SCHEDULE
    return huey
