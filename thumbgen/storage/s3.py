"""Buckets as storage: ``s3://bucket/prefix/`` on AWS S3 and every S3-compatible server.

Through obstore (the Rust ``object_store`` crate's bindings): one dependency
with no Python ones, create-only and ETag-conditional puts, streamed
listings, and the AWS credential chain (environment, web identity, ECS and
instance roles). Endpoint, region and keys come the way every S3 tool takes
them: ``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``), and a profile of
``~/.aws/credentials`` named by ``AWS_PROFILE``. An ``http://`` endpoint (a
local MinIO or SeaweedFS) is allowed as it is.

Keys are relative to the prefix. Each PUT is complete or absent, never
partial; a set of outputs is stored one object at a time, and a failure
part-way removes the ones this call created (S3 has no multi-object
transaction). Credentials never appear in a message.
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

from thumbgen import locations
from thumbgen.errors import OutputError, SourceError, SourceMissing, ThumbgenError, TransientError
from thumbgen.messages import display_path, install_hint, reason

from .base import Blob, Entry, RemoteObject, Unlisted

if TYPE_CHECKING:
    from obstore.store import S3Store

#: The extra that brings the client, for the message when it is missing.
#: The longest key S3 takes, in bytes of UTF-8.
MAX_KEY_BYTES = 1024
#: How long a served thumbnail's presigned URL stays valid.
PRESIGN_SECONDS = 300
#: A client's own retries of one request (5xx, dropped connections): short,
#: so that a server that is down fails the job's try and the queue's backoff
#: takes over, one line per try, instead of a worker stuck in one request.
_RETRY = {"max_retries": 3, "retry_timeout": timedelta(seconds=15)}
#: The HTTP status in obstore's message for a refused request.
_STATUS = re.compile(r"status code: (\d{3})")
#: The S3 error code and message in the XML body obstore's message carries.
_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")
_MESSAGE = re.compile(r"<Message>([^<]{1,200})</Message>")
#: S3 error codes of refused credentials or rights.
_DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
)
#: S3 error codes that ask the client to slow down: try again later.
_THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded"})


def split(location: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix/``); a UsageError if malformed."""
    bucket, _, prefix = locations.parse(location).rest.partition("/")
    if not bucket:
        from thumbgen.errors import UsageError

        raise UsageError(f"Invalid location {location!r}: write s3://BUCKET/PREFIX/")
    prefix = prefix.strip("/")
    return bucket, prefix + "/" if prefix else ""


class S3Storage:
    """A prefix of a bucket."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.bucket, self.prefix = split(location)
        self._store: S3Store | None = None

    @property
    def store(self) -> S3Store:
        """The client, made on first use (a listing or a read may never come)."""
        if self._store is None:
            self._store = _client(self.bucket)
        return self._store

    def path(self, key: str) -> str:
        """The ``s3://`` location of ``key``."""
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def entries(
        self, prefix: str = "", *, exclude: Sequence[str] = (), recursive: bool = True
    ) -> Iterator[Entry | Unlisted]:
        """Every object under ``prefix`` (a folder key), paged as the server lists them."""
        import obstore

        start = self.prefix + (prefix.rstrip("/") + "/" if prefix else "")
        skip = [s for s in (_full_key(self.bucket, e) for e in exclude) if s is not None]
        try:
            if recursive:
                pages: Iterable[Sequence[Any]] = obstore.list(self.store, prefix=start or None)
            else:
                listed = obstore.list_with_delimiter(self.store, prefix=start or None)
                pages = [listed["objects"]]
            for page in pages:
                for meta in page:
                    full = str(meta["path"])
                    key = full[len(self.prefix) :]
                    if any(part.startswith(".") for part in key.split("/")):
                        continue
                    if any(full == s or full.startswith(s + "/") for s in skip):
                        continue
                    yield _entry(self.bucket, key, full, meta)
        except Exception as exc:
            yield Unlisted(prefix, _error(self.path(prefix), exc, reading=True).why)

    def stat(self, key: str) -> Entry:
        """The object's size, ETag and modification time (a HEAD)."""
        import obstore

        try:
            meta = obstore.head(self.store, self.prefix + key)
        except Exception as exc:
            raise _error(self.path(key), exc, reading=True) from None
        return _entry(self.bucket, key, self.prefix + key, meta)

    @contextlib.contextmanager
    def open_version(self, key: str) -> Iterator[tuple[Entry, BinaryIO]]:
        """The object read whole in one GET, with the version that GET returned.

        One response is one version: an object overwritten meanwhile gives
        this one or the next, never a mix, and the entry says which.
        """
        import obstore

        try:
            got = obstore.get(self.store, self.prefix + key)
            data = bytes(got.bytes())
        except Exception as exc:
            raise _error(self.path(key), exc, reading=True) from None
        entry = _entry(self.bucket, key, self.prefix + key, got.meta)
        yield entry, io.BytesIO(data)

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """A seekable stream of the object's bytes."""
        with self.open_version(key) as (_, f):
            yield f

    def read(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        """A range of the object (one ranged GET), or the rest from ``start``."""
        import obstore

        try:
            if length is None:
                got = obstore.get(
                    self.store, self.prefix + key, options={"range": {"offset": start}}
                )
                return bytes(got.bytes())
            if length <= 0:
                return b""
            return bytes(
                obstore.get_range(self.store, self.prefix + key, start=start, length=length)
            )
        except Exception as exc:
            raise _error(self.path(key), exc, reading=True) from None

    def prepare(self, key: str) -> None:
        """Refuse a key no S3 server takes (over 1,024 bytes, or an empty segment) before encoding.

        A bucket has no folders to make; whether the bucket takes the write
        is known only when it is made.
        """
        full = self.prefix + key
        if len(full.encode()) > MAX_KEY_BYTES or "" in full.split("/"):
            raise OutputError(
                f"Cannot write {display_path(self.path(key))}: not a valid S3 key "
                f"(at most {MAX_KEY_BYTES} bytes, no empty segment); shorten --name or the prefix",
                why="invalid key",
            )

    def put_all(self, blobs: Sequence[Blob]) -> None:
        """PUT each blob (complete or absent); on a failure, delete what this call wrote.

        As the local storage does with a replaced file: an object of a failed
        set is removed rather than left out of step with the others (S3
        cannot take a replacement back).
        """
        import obstore

        written: list[str] = []
        try:
            for blob in blobs:
                attributes = {"Content-Type": blob.content_type}
                if blob.cache_control:
                    attributes["Cache-Control"] = blob.cache_control
                try:
                    obstore.put(
                        self.store, self.prefix + blob.key, blob.data, attributes=attributes
                    )
                except Exception as exc:
                    raise _error(self.path(blob.key), exc, reading=False) from None
                written.append(blob.key)
        except BaseException:
            with contextlib.suppress(Exception):
                self._delete_quietly(written)
            raise

    def put_new(self, files: Sequence[tuple[str, str]]) -> list[bool]:
        """Upload each staged file with a create-only PUT (If-None-Match: *)."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        stored = []
        for key, staged in files:
            with open(staged, "rb") as f:
                data = f.read()
            try:
                obstore.put(self.store, self.prefix + key, data, mode="create")
                stored.append(True)
            except (AlreadyExistsError, PreconditionError):
                stored.append(False)
            except Exception as exc:
                raise _error(self.path(key), exc, reading=False) from None
        return stored

    def exists(self, key: str) -> bool:
        """Whether a HEAD finds the object."""
        try:
            self.stat(key)
        except SourceMissing:
            return False
        return True

    def delete(self, keys: Iterable[str]) -> int:
        """Delete the objects that are there; how many were."""
        present = [k for k in keys if self.exists(k)]
        self._delete_quietly(present, strict=True)
        return len(present)

    def _delete_quietly(self, keys: Sequence[str], *, strict: bool = False) -> None:
        import obstore

        for key in keys:
            try:
                obstore.delete(self.store, self.prefix + key)
            except FileNotFoundError:
                continue
            except Exception as exc:
                if strict:
                    raise _error(self.path(key), exc, reading=False) from None

    def serve(self, key: str) -> RemoteObject | None:
        """A presigned GET URL for the object, valid :data:`PRESIGN_SECONDS`."""
        import obstore

        try:
            entry = self.stat(key)
        except SourceMissing:
            return None
        url = obstore.sign(self.store, "GET", self.prefix + key, timedelta(seconds=PRESIGN_SECONDS))
        return RemoteObject(str(url), entry.size, entry.version)


def _client(bucket: str) -> S3Store:
    """A client for ``bucket``, configured from the environment (and ``AWS_PROFILE``).

    One per bucket and configuration in this process: making one costs about
    5 ms and a new connection, and ``add`` asks whether each recorded output
    still exists. The pid is part of the key: a client made before a fork is
    never used after it.
    """
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    # The profile's keys are read every time: a rotated credentials file is
    # a new configuration, as it was before clients were kept.
    keys = tuple(sorted(_profile_keys().items()))
    return _made_client(bucket, settings, keys, os.getpid())


@functools.lru_cache(maxsize=16)
def _made_client(
    bucket: str,
    settings: tuple[tuple[str, str], ...],
    keys: tuple[tuple[str, str], ...],
    pid: int,
) -> S3Store:
    """The client :func:`_client` makes; ``settings`` and ``pid`` only key the cache."""
    try:
        from obstore.store import S3Store
    except ImportError:
        raise SourceError(
            f"s3:// locations need the obstore package (the s3 extra): {install_hint('s3')}"
        ) from None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    options: dict[str, Any] = {}
    if endpoint.startswith("http://"):
        options["allow_http"] = True
    kwargs: dict[str, Any] = {}
    if not os.environ.get("AWS_REGION") and not os.environ.get("AWS_DEFAULT_REGION"):
        # Servers other than AWS ignore the region but sign with one.
        kwargs["region"] = "us-east-1"
    kwargs.update(keys)
    return S3Store(bucket, client_options=options, retry_config=_RETRY, **kwargs)  # type: ignore[arg-type]


def _profile_keys() -> dict[str, str]:
    """Keys from ``~/.aws/credentials`` for ``AWS_PROFILE``, unless keys are in the environment."""
    profile = os.environ.get("AWS_PROFILE")
    if not profile or os.environ.get("AWS_ACCESS_KEY_ID"):
        return {}
    path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.expanduser("~/.aws/credentials")
    parser = configparser.ConfigParser()
    parser.read(path)
    if not parser.has_section(profile):
        raise SourceError(f"AWS_PROFILE {profile!r} is not in {display_path(path)}")
    section = parser[profile]
    keys = {
        "access_key_id": section.get("aws_access_key_id", ""),
        "secret_access_key": section.get("aws_secret_access_key", ""),
    }
    if section.get("aws_session_token"):
        keys["token"] = section["aws_session_token"]
    return {k: v for k, v in keys.items() if v}


def _full_key(bucket: str, location: str) -> str | None:
    """The key (from the bucket's root) of an ``s3://`` location in ``bucket``; else None."""
    if locations.parse(location).kind is not locations.Kind.S3:
        return None
    other, prefix = split(location)
    return prefix.rstrip("/") if other == bucket else None


def _entry(bucket: str, key: str, full: str, meta: Any) -> Entry:
    modified = meta.get("last_modified")
    mtime_ns = int(modified.timestamp() * 1e9) if modified is not None else 0
    # The ETag, which listings, HEADs and GETs all give; a version id comes
    # with GETs on versioned buckets only, never in a listing, so a job that
    # recorded one would look changed to every add.
    version = str(meta.get("e_tag") or meta.get("version") or "")
    return Entry(key, int(meta.get("size") or 0), version, mtime_ns, f"s3://{bucket}/{full}")


def _error(location: str, exc: Exception, *, reading: bool) -> ThumbgenError:
    """One line naming the object, never the credentials; transient when trying later may help."""
    from obstore import exceptions as e

    shown = display_path(location)
    bucket = location.split("/")[2] if location.count("/") >= 2 else location
    kind = SourceError if reading else OutputError
    # obstore's message holds the request, the status and the server's XML
    # error: read them from the whole text, show only a short line.
    full = str(exc)
    found = _CODE.search(full)
    code = found.group(1) if found else ""
    if code == "NoSuchBucket" or "bucket is not valid" in full:
        return kind(f"No such bucket {bucket!r} (for {shown})", why="no such bucket")
    if isinstance(exc, FileNotFoundError | e.NotFoundError):
        if reading:
            return SourceMissing(f"Source object not found: {shown} (deleted?)", why="not found")
        return OutputError(f"Cannot write {shown}: no such bucket {bucket!r}", why="no bucket")
    if code in _DENIED or isinstance(exc, e.PermissionDeniedError | e.UnauthenticatedError):
        return kind(
            f"Access denied to {shown}: check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE) "
            f"and their rights on bucket {bucket!r}",
            why="access denied",
        )
    verb = "read" if reading else "write"
    status = _STATUS.search(full)
    http = int(status.group(1)) if status else None
    said = _MESSAGE.search(full)
    text = f"{code}: {said.group(1)}" if code and said else _short(reason(exc))
    if code in _THROTTLED or http in (429, 503):
        return TransientError(f"Cannot {verb} {shown}: throttled ({text})", why="throttled")
    refused = http is not None and 400 <= http < 500 and http != 408
    if isinstance(exc, ValueError) or refused:
        # The request itself is refused (a key too long, say): the same next time.
        return kind(f"Cannot {verb} {shown}: {text}", why=text)
    # Connections refused or dropped, 5xx: the server may be back later.
    return TransientError(f"Cannot {verb} {shown}: {text}", why=text)


def _short(text: str) -> str:
    """obstore's message without the request URL's query (a presigned URL could sit there)."""
    cut = text.split("?", 1)[0]
    return cut if len(cut) <= 160 else cut[:157] + "..."
