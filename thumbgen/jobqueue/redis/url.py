"""Redis queue locations: parsing ``redis://`` and ``rediss://`` URLs, and showing them safely.

Pure functions (no ``redis`` import), so the unit tests and the error
messages need nothing installed. A URL names one Redis database:
``redis://[[user]:password@]host[:port][/db]``; ``rediss://`` is the same
over TLS; ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/SERVICE[/db]``
names the sentinels that know which server is the master of SERVICE (the
password is the servers', the sentinels take none). The password never
appears in a message: :func:`shown` replaces it.
"""

from __future__ import annotations

import dataclasses
import urllib.parse

from thumbgen import locations
from thumbgen.errors import QueueError

#: The schemes :func:`thumbgen.locations.parse` gives the Redis kind.
SCHEMES = tuple(s for s, kind in locations.SCHEMES.items() if kind is locations.Kind.REDIS)
DEFAULT_PORT = 6379
SENTINEL_PORT = 26379
SENTINEL_SCHEME = "redis+sentinel"


@dataclasses.dataclass(frozen=True)
class RedisLocation:
    """The parts of a Redis URL thumbgen uses."""

    url: str
    tls: bool
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    #: The sentinels (host, port) of a ``redis+sentinel://`` URL, and the
    #: name of the master they watch; empty and None otherwise.
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str | None = None

    @property
    def shown(self) -> str:
        """The URL for messages: scheme, host, port and db, never the password."""
        return shown(self.url)


def parse(url: str) -> RedisLocation:
    """Parse ``url``; a malformed one raises a one-line QueueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise QueueError(f"Not a Redis URL: {shown(url)} (use redis:// or rediss://)")
    if parts.scheme == SENTINEL_SCHEME:
        return _sentinel(url, parts)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise QueueError(f"Bad port in Redis URL {shown(url)}") from None
    path = parts.path.strip("/")
    query = urllib.parse.parse_qs(parts.query)
    db_text = path or (query.get("db") or ["0"])[0]
    if not db_text.isdigit():
        raise QueueError(f"Bad database number {db_text!r} in Redis URL {shown(url)}")
    return RedisLocation(
        url=url,
        tls=parts.scheme == "rediss",
        host=parts.hostname or "localhost",
        port=port,
        db=int(db_text),
        username=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
    )


def _sentinel(url: str, parts: urllib.parse.SplitResult) -> RedisLocation:
    """A ``redis+sentinel://`` URL: sentinels, the master's service name, the database."""
    hosts = parts.netloc.rsplit("@", 1)[-1]
    sentinels = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "")
        if not host or (port and not port.isdigit()):
            raise QueueError(f"Bad sentinel {item!r} in Redis URL {shown(url)}")
        sentinels.append((host, int(port) if port else SENTINEL_PORT))
    service, _, db_text = parts.path.strip("/").partition("/")
    if not service:
        raise QueueError(
            f"No service name in Redis URL {shown(url)}: "
            "use redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE/DB"
        )
    db_text = db_text or "0"
    if not db_text.isdigit():
        raise QueueError(f"Bad database number {db_text!r} in Redis URL {shown(url)}")
    return RedisLocation(
        url=url,
        tls=False,
        host=sentinels[0][0],
        port=sentinels[0][1],
        db=int(db_text),
        username=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        sentinels=tuple(sentinels),
        service=service,
    )


def shown(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    netloc = f"{user}:***@{host}" if parts.password is not None else f"{user}@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
