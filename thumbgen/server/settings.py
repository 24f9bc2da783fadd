"""What one ``thumbgen serve`` runs with, decided before the server starts."""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import tempfile

from thumbgen import locations
from thumbgen.errors import UsageError
from thumbgen.options import Options

#: Default largest upload, per file, in MiB (a 100-megapixel JPEG is ~40 MiB).
DEFAULT_MAX_UPLOAD_MB = 64
#: Default most files in one request (the original service's test sends 100).
DEFAULT_MAX_FILES = 1000
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """One server's queue, output options, address, token, limits and workers."""

    #: The queue location (a SQLite file or a redis:// URL), already resolved.
    queue: str
    #: Output options for uploads; a request may change size, fit, format and quality.
    options: Options
    #: Where uploads are stored, by content hash: an absolute folder or an
    #: ``s3://`` prefix (request bodies are then staged in :func:`staging_folder`).
    uploads_dir: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: The bearer token every data endpoint requires; None: no token (loopback only).
    token: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    max_files: int = DEFAULT_MAX_FILES
    #: Embedded worker processes (0: workers run elsewhere).
    workers: int = 0
    #: Longest pause in a request body before the upload is refused (408).
    idle_timeout: float = 60.0
    #: ``s3://`` prefixes whose event notifications ``POST /events/s3`` queues.
    events: tuple[str, ...] = ()

    def check(self) -> None:
        """Refuse settings the server cannot run safely with (UsageError)."""
        if self.token is not None and not self.token.strip():
            raise UsageError("Invalid --token: it is empty; give a token or leave it out")
        if self.token is None and not is_loopback(self.host):
            raise UsageError(
                f"Refusing to serve on {self.host} without a token: anyone who can reach it "
                "could upload and steer the queue; give --token (or THUMBGEN_TOKEN), "
                "or --host 127.0.0.1"
            )
        if not 1 <= self.port <= 65535:
            raise UsageError(f"Invalid --port {self.port}: use 1 to 65535")
        if self.max_upload_bytes < 1:
            raise UsageError("Invalid --max-upload-mb: use a positive number")
        if self.max_files < 1:
            raise UsageError(f"Invalid --max-files {self.max_files}: use a positive number")
        if self.idle_timeout <= 0:
            raise UsageError(f"Invalid --idle-timeout {self.idle_timeout:g}: use seconds above 0")
        if self.workers < 0:
            raise UsageError(f"Invalid --workers {self.workers}: use 0 or more")
        for prefix in self.events:
            if locations.parse(prefix).kind is not locations.Kind.S3:
                raise UsageError(f"Invalid --events {prefix!r}: give an s3://BUCKET/PREFIX/")

    @property
    def url(self) -> str:
        """The server's base URL, for people (IPv6 addresses in brackets)."""
        host = "localhost" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


def upload_folder(uploads: str | None, out_dir: str) -> str:
    """The uploads location: ``uploads`` if given, else the output's name + ``-uploads``.

    Beside the output folder rather than inside it, so that the output folder
    holds only thumbnails (``/thumbnails`` serves it) and ``add`` or a watcher
    on it never meets the sources.
    """
    if uploads:
        return locations.absolute(uploads)
    return default_uploads_dir(out_dir)


def default_uploads_dir(out_dir: str) -> str:
    """Uploads beside the output: ``thumbnails/`` gets ``thumbnails-uploads/``.

    Beside rather than inside, so that the output folder holds only thumbnails
    (``/thumbnails`` serves it) and a watcher on it never sees the sources. A
    bucket prefix ``s3://b/thumbs/`` gets ``s3://b/thumbs-uploads/``.
    """
    if not locations.is_path(out_dir):
        return out_dir.rstrip("/") + "-uploads/"
    out = os.path.abspath(out_dir).rstrip(os.sep) or os.sep
    return out + "-uploads"


def staging_folder(uploads_dir: str) -> str:
    """The local folder request bodies are written to before they are stored.

    The uploads folder itself when it is local (a stored upload is then a
    link, no copy); for a bucket, a folder of this machine's temporary space,
    one per bucket prefix, so that servers of other prefixes never sweep it.
    """
    if locations.is_path(uploads_dir):
        return uploads_dir
    digest = hashlib.sha256(uploads_dir.encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"thumbgen-uploads-{digest}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
