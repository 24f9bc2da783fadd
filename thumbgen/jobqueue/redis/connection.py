"""Connecting to Redis: the client, one-line errors, and waiting out an outage.

The ``redis`` package is an optional extra; it is imported here and only
when a Redis queue is opened, so a SQLite user never needs it and a missing
package gives one line saying how to install it.

Two ways to meet a failure. Commands (``add``, ``status``) tell the user at
once, in one line (:func:`explain`). Workers wait: :func:`patiently` retries
a step with backoff until Redis answers again or :data:`Settings.reconnect`
runs out, so a Redis restart or a network cut costs time, not work. Every
step a worker retries is safe to run twice (each script checks the state it
starts from, and a claim carries a request id), so a reply lost with the
connection does no harm.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from thumbgen.errors import QueueError, TransientError
from thumbgen.messages import install_hint

from .. import patience
from .url import RedisLocation

if TYPE_CHECKING:
    import redis

T = TypeVar("T")
log = logging.getLogger("thumbgen.redis")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise QueueError(f"{name}={value!r} is not a number of seconds") from None


@dataclasses.dataclass(frozen=True)
class Settings:
    """Timings of a Redis queue; each can be set by environment (tests run in seconds).

    Production defaults, and why: a lease of 30 s is fifteen heartbeats
    (workers beat every 2 s), so a slow disk, a long GC pause or a short
    network blip never takes a job from a healthy worker, while a dead
    machine's job runs again within about half a minute (plus the 5 s
    maintenance round of some live worker). A socket timeout of 10 s notices
    a silent network cut well inside the lease. Workers wait an hour for
    Redis to come back before giving up: long enough for a restart or a
    failover, short enough that a worker pointed at a wrong host says so.
    """

    lease: float = 30.0
    socket_timeout: float = 10.0
    connect_timeout: float = 5.0
    reconnect: float = 3600.0

    @classmethod
    def from_env(cls) -> Settings:
        """The defaults, overridden by ``THUMBGEN_REDIS_*`` variables."""
        return cls(
            lease=_env_float("THUMBGEN_REDIS_LEASE", cls.lease),
            socket_timeout=_env_float("THUMBGEN_REDIS_SOCKET_TIMEOUT", cls.socket_timeout),
            connect_timeout=_env_float("THUMBGEN_REDIS_CONNECT_TIMEOUT", cls.connect_timeout),
            reconnect=_env_float("THUMBGEN_REDIS_RECONNECT", cls.reconnect),
        )


#: The password for a URL without one: keeps it out of command lines,
#: process listings and ``status`` output, which show the URL.
PASSWORD_ENV = "THUMBGEN_REDIS_PASSWORD"


def password() -> str | None:
    """The password from :data:`PASSWORD_ENV`, if set."""
    return os.environ.get(PASSWORD_ENV) or None


def client_options(settings: Settings, *, read_timeout: float = 0.0) -> dict[str, Any]:
    """Keyword arguments for redis-py's ``from_url`` (a password in the URL wins)."""
    import_redis()  # the one-line error first, if the package is missing
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return {
        # A few quick tries ride out a blip; a command then fails in about
        # a second, and a worker's own patience (patiently) takes over.
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), 3),
        "socket_timeout": settings.socket_timeout + read_timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_keepalive": True,
        "password": password(),
    }


def import_redis() -> Any:
    """The ``redis`` module, or a one-line QueueError saying how to install it."""
    try:
        import redis
    except ImportError:
        raise QueueError(
            f"Redis queues need the redis package (the redis extra): {install_hint('redis')}"
        ) from None
    return redis


def connect(
    location: RedisLocation, settings: Settings, *, read_timeout: float = 0.0
) -> redis.Redis:
    """A client for ``location`` (connections are made on first use).

    Through sentinels, the client asks them for the master before each new
    connection, and drops its connections when the master it talks to is
    demoted: a failover is an outage like any other, waited out by
    :func:`patiently`.
    """
    redis_mod = import_redis()
    options = client_options(settings, read_timeout=read_timeout)
    if location.service is not None:
        from redis.sentinel import Sentinel

        timeouts = {"socket_timeout": settings.connect_timeout}
        timeouts["socket_connect_timeout"] = settings.connect_timeout
        sentinel = Sentinel(list(location.sentinels), sentinel_kwargs=timeouts)
        master: redis.Redis = sentinel.master_for(
            location.service,
            db=location.db,
            username=location.username,
            health_check_interval=15,
            decode_responses=False,
            **{**options, "password": location.password or options["password"]},
        )
        return master
    client: redis.Redis = redis_mod.Redis.from_url(
        location.url, health_check_interval=15, decode_responses=False, **options
    )
    return client


def explain(location: RedisLocation, exc: Exception) -> QueueError:
    """A one-line error for a failure talking to Redis at ``location``."""
    redis_mod = import_redis()
    shown = location.shown
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, redis_mod.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text:
        if location.password is None and password() is None:
            return QueueError(
                f"Redis at {shown} needs a password: put it in the URL "
                f"(redis://:PASSWORD@host:port/db) or in {PASSWORD_ENV}"
            )
        return QueueError(f"Redis at {shown} refused the password (check it)")
    if isinstance(exc, (redis_mod.ConnectionError, redis_mod.TimeoutError)):
        return QueueError(f"Cannot reach Redis at {shown}: {text}")
    return QueueError(f"Redis at {shown} failed: {text}")


def is_outage(exc: Exception) -> bool:
    """Whether ``exc`` means Redis is (for now) out of reach, or still loading after a restart."""
    redis_mod = import_redis()
    if isinstance(exc, redis_mod.AuthenticationError):
        return False
    if isinstance(exc, (redis_mod.ConnectionError, redis_mod.TimeoutError)):
        return True
    return isinstance(exc, redis_mod.BusyLoadingError) or "LOADING" in str(exc)


def once(location: RedisLocation, step: Callable[[], T]) -> T:
    """``step`` run once; any Redis failure becomes a one-line QueueError (commands)."""
    redis_mod = import_redis()
    try:
        return step()
    except redis_mod.RedisError as exc:
        raise explain(location, exc) from None


def briefly(location: RedisLocation, step: Callable[[], T]) -> T:
    """``step`` run once, for a worker that can do without the answer.

    An outage is a :class:`~thumbgen.errors.TransientError` (the caller goes
    on without waiting), any other failure a one-line QueueError.
    """
    redis_mod = import_redis()
    try:
        return step()
    except redis_mod.RedisError as exc:
        error = explain(location, exc)
        raise (TransientError(str(error)) if is_outage(exc) else error) from None


def patiently(location: RedisLocation, settings: Settings, step: Callable[[], T]) -> T:
    """``step`` retried with backoff while Redis is out of reach (workers).

    Waits up to ``settings.reconnect`` seconds in all, doubling the pause
    from 0.1 s to 5 s (with jitter, so a fleet of workers does not knock in
    step); then, or for a failure that waiting cannot cure, a one-line error.
    A process that stops waiting (:func:`.patience.give_up`: it was told to
    stop) gets that error at once.
    """
    redis_mod = import_redis()
    deadline = time.monotonic() + settings.reconnect
    pause, warned = 0.1, False
    while True:
        try:
            result = step()
        except redis_mod.RedisError as exc:
            give_up = patience.given_up() or time.monotonic() + pause > deadline
            if not is_outage(exc) or give_up:
                error = explain(location, exc)
                raise (TransientError(str(error)) if is_outage(exc) else error) from None
            if not warned:
                log.warning("%s; waiting for it to come back", explain(location, exc))
                warned = True
            if not patience.pause(pause * random.uniform(0.5, 1.0)):
                continue  # told to stop meanwhile: one more try, then the error
            pause = min(pause * 2, 5.0)
        else:
            if warned:
                log.warning("Redis at %s answers again", location.shown)
            return result
