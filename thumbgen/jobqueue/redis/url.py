"""Redis queue locations: parsing ``redis://`` and ``rediss://`` URLs, and showing them safely.

Pure functions (no ``redis`` import), so the unit tests and the error
messages need nothing installed. A URL names one Redis database:
``redis://[[user]:password@]host[:port][/db]``; ``rediss://`` is the same
over TLS. The password never appears in a message: :func:`shown` replaces it.
"""

from __future__ import annotations

import dataclasses
import urllib.parse

from thumbgen import locations
from thumbgen.errors import QueueError

#: The schemes :func:`thumbgen.locations.parse` gives the Redis kind.
SCHEMES = tuple(s for s, kind in locations.SCHEMES.items() if kind is locations.Kind.REDIS)
DEFAULT_PORT = 6379


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

    @property
    def shown(self) -> str:
        """The URL for messages: scheme, host, port and db, never the password."""
        return shown(self.url)


def parse(url: str) -> RedisLocation:
    """Parse ``url``; a malformed one raises a one-line QueueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise QueueError(f"Not a Redis URL: {shown(url)} (use redis:// or rediss://)")
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


def shown(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    netloc = f"{user}:***@{host}" if parts.password is not None else f"{user}@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
