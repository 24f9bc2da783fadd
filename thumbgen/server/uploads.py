"""Uploads on disk: a multipart body streamed into temporary files, then named by content.

Each file part is written, chunk by chunk as it arrives, into a temporary
file in the uploads folder while its SHA-256 is computed, and refused (413)
once it passes the size limit; nothing holds a whole file in memory. Only
when the whole body has arrived are the files sniffed (their first bytes,
never decoded), fsynced and linked under ``<sha256><ext>``: a request cut
off midway leaves no stored file and so can queue no job. No client-given
name reaches the file system; the client's extension is kept only when it
is one the sniffed format uses (it tells a ``.nef`` from a plain TIFF).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from typing import IO, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from thumbgen import locations
from thumbgen.errors import OutputError
from thumbgen.imaging import formats
from thumbgen.imaging.sniff import NotImage, sniff
from thumbgen.messages import display_path
from thumbgen.storage import LocalStorage, Unlisted, open_storage

from .errors import ApiError
from .settings import staging_folder

#: Temporary upload files start with this; they never look like a stored upload.
TEMP_PREFIX = ".upload-"
#: A temporary file older than this at start-up was left by a server that died.
STALE_SECONDS = 3600.0
#: Parts with these names are files even without a filename.
FILE_FIELDS = ("file", "files")
#: Largest form field (size, fit...): they are short words.
MAX_FIELD_BYTES = 1024
#: Form fields (not files) in one request: a few sizes and fit, format, quality.
#: Without a cap, 300 MiB of ``size=1`` fields were held as a million strings.
MAX_FIELDS = 64
#: Largest header block of one part (its name and content type).
MAX_HEADER_BYTES = 8 * 1024
#: A whole request's body at most (raised to one file's limit and a margin if
#: that is larger): however it is split into parts, this is all that is read.
MAX_REQUEST_BYTES = 1024 * 1024 * 1024
#: Data held before it is written to disk, per request (a few chunks).
WRITE_BYTES = 1024 * 1024
#: Longest wait for the next piece of a request body, in seconds (``--idle-timeout``).
IDLE_SECONDS = 60.0
#: After a refusal, how much more of the body is read (and dropped) so that the
#: client sees the 413 instead of a reset connection; beyond it the server hangs up.
DRAIN_BYTES = 1024 * 1024 * 1024


@dataclasses.dataclass
class Part:
    """One file of the request: the client's name (echoed back only) and its temporary file."""

    filename: str
    #: The client's extension when it is an image extension thumbgen knows, else "".
    suffix: str = ""
    #: The temporary file, made when its first data is written ("" until then).
    temp_path: str = ""
    size: int = 0
    sha256: str = ""
    #: Set once stored: the content-named path, or why it was refused.
    stored: str | None = None
    refused: str | None = None
    #: Whether this request stored the file (False: the same bytes were there).
    created: bool = False


@dataclasses.dataclass
class Form:
    """A whole multipart request: its files (on disk) and its short fields."""

    files: list[Part] = dataclasses.field(default_factory=list)
    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)


class _Receiver:
    """The parser callbacks: headers and fields in memory, file data queued for writing.

    The callbacks run in the event loop and only queue data; :meth:`flush`
    writes it from a worker thread. At most one temporary file per request
    is open at a time (a request may hold a thousand files).
    """

    def __init__(self, folder: str, max_bytes: int, max_files: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.fields = 0
        self.header_bytes = 0
        self.form = Form()
        self.refusal: ApiError | None = None
        self.ended = False
        self.pending_bytes = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._part: Part | None = None
        self._hash: Any = None
        self._field: tuple[str, bytearray] | None = None
        #: Data to write, per part; None marks a part's end (fsync and close).
        self._pending: list[tuple[Part, bytes | None]] = []
        self._open: tuple[Part, IO[bytes]] | None = None

    # -- parser callbacks (plain and quick: the disk work happens in flush) --

    def on_part_begin(self) -> None:
        self.header_bytes = 0
        self._disposition = b""
        self._field = None
        self._part = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        if self._header_room(end - start):
            self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        if self._header_room(end - start):
            self._header_value += data[start:end]

    def _header_room(self, n: int) -> bool:
        self.header_bytes += n
        if self.header_bytes > MAX_HEADER_BYTES:
            self._refuse(413, "A part's headers are too long")
        return self.refusal is None

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        # A part is a file if it has a filename, or is named "file" even without one
        # (curl -F 'file=<a.jpg' sends the bytes without a name).
        if self.refusal is not None:
            return
        if b"filename" not in params and name not in FILE_FIELDS:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                self._refuse(413, f"Too many form fields: at most {MAX_FIELDS} in one request")
                return
            self._field = (name, bytearray())
            return
        if len(self.form.files) >= self.max_files:
            self._refuse(413, f"Too many files: at most {self.max_files} in one request")
            return
        filename = params.get(b"filename", b"").decode("utf-8", "replace")
        self._part = Part(filename, suffix=_known_extension(filename))
        self._hash = hashlib.sha256()
        self.form.files.append(self._part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.refusal is not None:
            return
        chunk = data[start:end]
        if self._field is not None:
            if len(self._field[1]) + len(chunk) > MAX_FIELD_BYTES:
                self._refuse(400, f"Field {self._field[0]!r} is too long")
                return
            self._field[1].extend(chunk)
            return
        part = self._part
        if part is None:
            return
        part.size += len(chunk)
        if part.size > self.max_bytes:
            limit = self.max_bytes // (1024 * 1024) or 1
            self._refuse(413, f"{_shown(part.filename)} is larger than the {limit} MiB limit")
            return
        self._hash.update(chunk)
        self._pending.append((part, chunk))
        self.pending_bytes += len(chunk)

    def on_part_end(self) -> None:
        if self.refusal is not None:
            self._field = None
            self._part = None
            return
        if self._field is not None:
            name, value = self._field
            self.form.fields.setdefault(name, []).append(value.decode("utf-8", "replace"))
        elif self._part is not None:
            self._part.sha256 = self._hash.hexdigest()
            self._pending.append((self._part, None))
        self._field = None
        self._part = None

    def on_end(self) -> None:
        self.ended = True

    # -- the rest --

    def _refuse(self, status: int, message: str) -> None:
        if self.refusal is None:
            self.refusal = ApiError(status, message)

    def flush(self) -> None:
        """Write the data received so far (in a worker thread, not the event loop).

        A part whose end has been received is fsynced and closed: once the
        request is complete, every file is on disk.
        """
        for part, chunk in self._pending:
            f = self._file_of(part)
            if chunk is None:
                f.flush()
                os.fsync(f.fileno())
                f.close()
                self._open = None
            else:
                f.write(chunk)
        self._pending.clear()
        self.pending_bytes = 0

    def _file_of(self, part: Part) -> IO[bytes]:
        if self._open is not None and self._open[0] is part:
            return self._open[1]
        self._close()
        fd, part.temp_path = tempfile.mkstemp(
            prefix=TEMP_PREFIX, suffix=part.suffix, dir=self.folder
        )
        # Readable like any other source: workers may run as another user.
        os.fchmod(fd, 0o644)
        f = os.fdopen(fd, "wb")
        self._open = (part, f)
        return f

    def _close(self) -> None:
        if self._open is not None:
            with contextlib.suppress(OSError):
                self._open[1].close()
            self._open = None

    def discard(self) -> None:
        """Close and remove every temporary file of this request."""
        self._close()
        discard(self.form)


async def receive(
    request: Request,
    folder: str,
    *,
    max_bytes: int,
    max_files: int,
    idle_seconds: float = IDLE_SECONDS,
    counted: Callable[[int], None] | None = None,
) -> Form:
    """Stream the request's multipart body into temporary files in ``folder``.

    Raises :class:`ApiError` (400 not multipart or malformed, 408 no data
    for ``idle_seconds``, 413 too large or too many files) after removing
    what it wrote; a client that hangs up
    midway leaves nothing behind either. The caller must :func:`store` or
    :func:`discard` the returned form's files. ``counted`` is told the size
    of each body chunk as it arrives (the server's byte counter).
    """
    boundary, cap = _checked_headers(request, max_bytes, max_files)
    receiver = _Receiver(folder, max_bytes, max_files)
    callbacks = {
        name: getattr(receiver, name)
        for name in dir(receiver)
        if name.startswith("on_") and callable(getattr(receiver, name))
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    drained = received = 0
    try:
        async for chunk in _idle_limited(request, idle_seconds):
            received += len(chunk)
            if counted is not None:
                counted(len(chunk))
            if received > cap and receiver.refusal is None:
                receiver.refusal = ApiError(
                    413, "The request is larger than the upload limits allow"
                )
            if receiver.refusal is not None:
                drained += len(chunk)
                if drained > DRAIN_BYTES:
                    break
                continue
            parser.write(chunk)
            # Small uploads are written once, at the end: a trip to a worker
            # thread per chunk cost more than the write.
            if receiver.pending_bytes >= WRITE_BYTES:
                await run_in_threadpool(receiver.flush)
        if receiver.refusal is not None:
            raise receiver.refusal
        parser.finalize()
        if not receiver.ended:
            raise ApiError(400, "The multipart body ends before its closing boundary")
        await run_in_threadpool(receiver.flush)
    except MultipartParseError:
        await run_in_threadpool(receiver.discard)
        raise ApiError(400, "Malformed multipart body") from None
    except BaseException:
        # A refusal, a client that hung up (ClientDisconnect), a full disk...
        await run_in_threadpool(receiver.discard)
        raise
    return receiver.form


def _checked_headers(request: Request, max_bytes: int, max_files: int) -> tuple[bytes, int]:
    """The multipart boundary and the request's size cap; 400 or 413 from the headers alone."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiError(
            400, "Send the images as multipart/form-data, e.g. curl -F file=@photo.jpg URL"
        )
    cap = max(MAX_REQUEST_BYTES, max_bytes + 1024 * 1024)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > min(cap, max_files * (max_bytes + 64 * 1024)):
        raise ApiError(413, "The request is larger than the upload limits allow")
    return params[b"boundary"], cap


async def _idle_limited(request: Request, idle_seconds: float) -> AsyncIterator[bytes]:
    """The request's body chunks; 408 when none arrives for ``idle_seconds``.

    uvicorn bounds idle keep-alive connections but not a body that trickles
    or stops: without this a stalled client would hold its files forever.
    """
    chunks = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), idle_seconds)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ApiError(408, f"The upload stalled: no data for {idle_seconds:g} s") from None
        yield chunk


def store(form: Form, location: str) -> None:
    """Sniff each received file and store it under its content name (or refuse it, 415).

    ``location`` is the uploads folder or bucket prefix; the files were
    received in its :func:`~thumbgen.server.settings.staging_folder`. A name
    that exists already holds the same bytes: it is kept as it is (its
    modification time is part of the queue's freshness check) and the
    temporary file dropped. Runs in a worker thread (disk, fsync, PUTs).
    """
    staging = LocalStorage(staging_folder(location))
    uploads = open_storage(location)
    staged = []
    for part in form.files:
        try:
            with staging.open(os.path.basename(part.temp_path)) as f:
                found = sniff(f, part.temp_path)
        except NotImage as exc:
            part.refused = f"{_shown(part.filename)}: {exc}"
        else:
            name = part.sha256 + _extension(found, part.temp_path)
            part.stored = uploads.path(name)
            staged.append((name, part.temp_path))
    try:
        created = iter(uploads.put_new(staged))
        for part in form.files:
            if part.stored is not None:
                part.created = next(created)
    finally:
        for part in form.files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part.temp_path)


def unstore(form: Form, location: str) -> None:
    """Remove the stored files this request created (its jobs could not be queued).

    A file that was there before (the same bytes, uploaded earlier) is kept:
    an earlier job may still need it.
    """
    uploads = open_storage(location)
    keys = [os.path.basename(p.stored) for p in form.files if p.stored and p.created]
    # The client gets the queue's 503 either way; a file left behind is only litter.
    with contextlib.suppress(Exception):
        uploads.delete(keys)


def discard(form: Form) -> None:
    """Remove the temporary files of a form that will not be stored."""
    for part in form.files:
        if part.temp_path:
            with contextlib.suppress(OSError):
                os.unlink(part.temp_path)


def prepare_uploads_dir(location: str) -> None:
    """Make the uploads folder (or check the bucket), check it is writable, sweep stale files."""
    if not locations.is_path(location):
        # A bucket: one listing tells a missing bucket or bad credentials now.
        for item in open_storage(location).entries(recursive=False):
            if isinstance(item, Unlisted):
                raise OutputError(
                    f"Cannot store uploads in {display_path(location)}: {item.reason}"
                )
            break
    path = staging_folder(location)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Cannot make the uploads folder {display_path(path)}: {exc.strerror}; "
            "check --uploads and its permissions"
        ) from None
    if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write uploads to {display_path(path)}: it is not a writable folder; "
            "check --uploads and its permissions"
        )
    # Several servers may share the folder: only old leftovers are theirs no more.
    cutoff = time.time() - STALE_SECONDS
    for entry in os.scandir(path):
        if entry.name.startswith(TEMP_PREFIX):
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)


def _known_extension(filename: str) -> str:
    """The client's extension if it is an image extension thumbgen knows, else ''."""
    ext = os.path.splitext(filename.replace("\\", "/").rsplit("/", 1)[-1])[1].lower()
    return ext if ext in formats.READ_EXTENSIONS else ""


def _extension(name: str, temp_path: str) -> str:
    """The stored file's extension: the client's if the sniffed format uses it, else its own."""
    fmt = next((f for f in formats.INPUTS if f.name == name), None) or formats.by_pillow(name)
    given = os.path.splitext(temp_path)[1]
    if fmt is None:
        return "." + name.lower()
    if given in fmt.extensions or not fmt.extensions:
        return given or "." + fmt.name.lower()
    return fmt.extensions[0]


def _shown(filename: str) -> str:
    """The client's file name for a message: quoted, one line, not too long."""
    name = filename.replace("\n", " ").replace("\r", " ")
    return repr(name if len(name) <= 80 else name[:77] + "...")
