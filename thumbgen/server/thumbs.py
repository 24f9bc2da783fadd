"""``POST /thumbnails`` (upload and queue) and ``GET /thumbnails/{path}`` (the results).

An upload's answer is one entry per file, in the order sent, each with its
own status: 202 with the job's id and status URL, or 415 with an error for
a file that is not an image. The response is 202 when at least one file was
accepted; when none was, it carries the first file's status (415) and an
``error`` line as well.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from thumbgen import locations
from thumbgen.commands.browsing import label_uploads
from thumbgen.commands.queues import Queue
from thumbgen.commands.uploading import QueuedFile, queue_files, request_options
from thumbgen.errors import ThumbgenError
from thumbgen.options import Fit, Format, Options
from thumbgen.outputs import FILE_TYPES
from thumbgen.storage import LocalFile, RemoteObject, open_storage

from . import uploads
from .auth import get_queue, get_settings, require_token
from .errors import ApiError, status_of
from .metrics import ServerMetrics, get_metrics
from .routes import COMMON
from .settings import ServerSettings, staging_folder

router = APIRouter(dependencies=[Depends(require_token)], responses=COMMON)

#: Held while this process submits uploads to a SQLite queue.
_SUBMITTING = threading.Lock()
#: The form fields a request may set; everything else is the server's.
FIELDS = ("size", "fit", "format", "quality")
#: Served thumbnails may be rewritten (a source changed, other options) under
#: the same name: a short freshness, then revalidation by ETag.
CACHE_CONTROL = "public, max-age=60, must-revalidate"
_TYPES = {"." + t.extension: t.content_type for t in FILE_TYPES.values()} | {".jpeg": "image/jpeg"}

_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "format": "binary"},
                        "description": "One or more images (any field name with a filename).",
                    },
                    "size": {
                        "type": "array",
                        "items": {"type": "string", "example": "256"},
                        "description": "Boxes as on the command line: 256, 320x240, 320x, x240.",
                    },
                    "fit": {"type": "string", "enum": [f.value for f in Fit]},
                    "format": {"type": "string", "enum": [f.value for f in Format]},
                    "quality": {"type": "integer", "minimum": 1, "maximum": 100},
                },
            }
        }
    },
}
_ERROR = {"description": '`{"error": "one line"}`'}


@router.post(
    "/thumbnails",
    status_code=202,
    summary="Upload images and queue their thumbnails",
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={
        202: {"description": "Per file: `status` 202 with `id` and `url`, or 415 with `error`."},
        400: _ERROR,
        408: _ERROR,
        413: _ERROR,
        415: {"description": "No file was an image: the per-file list and an `error` line."},
        422: _ERROR,
        507: {"description": "The uploads disk is full: one line, nothing stored"},
    },
)
async def upload(
    request: Request,
    settings: Annotated[ServerSettings, Depends(get_settings)],
    queue: Annotated[Queue, Depends(get_queue)],
) -> Response:
    """Store each file by content hash and queue one job per image (the same file: one job)."""
    counters = get_metrics(request)
    status = 500
    try:
        response = await _upload(request, settings, queue, counters)
        status = response.status_code
        return response
    except ApiError as exc:
        status = exc.status
        raise
    except ThumbgenError as exc:
        status = status_of(exc)
        raise
    finally:
        counters.upload_done(status)


async def _upload(
    request: Request, settings: ServerSettings, queue: Queue, counters: ServerMetrics
) -> Response:
    with _disk_full_is_507():
        form = await uploads.receive(
            request,
            staging_folder(settings.uploads_dir),
            max_bytes=settings.max_upload_bytes,
            max_files=settings.max_files,
            idle_seconds=settings.idle_timeout,
            counted=counters.upload_bytes.inc,
        )
    try:
        options = _options(settings, form.fields)
        if not form.files:
            raise ApiError(
                400, "No file in the request: send images as form files, e.g. -F file=@a.jpg"
            )
        # One trip to a worker thread for the disk and the queue (fsync, link, submit).
        with _disk_full_is_507():
            queued = await run_in_threadpool(_store_and_queue, form, settings, queue, options)
    except BaseException:
        await run_in_threadpool(uploads.discard, form)
        raise
    by_path = {q.path: q for q in queued}
    entries = [
        _refused(p.filename, p.refused)
        if p.stored is None
        else _accepted(p.filename, by_path[p.stored])
        for p in form.files
    ]
    accepted = sum(1 for e in entries if e["status"] == 202)
    body: dict[str, Any] = {
        "accepted": accepted,
        "refused": len(entries) - accepted,
        "files": entries,
    }
    if accepted:
        return JSONResponse(body, status_code=202)
    body["error"] = entries[0]["error"]
    return JSONResponse(body, status_code=entries[0]["status"])


@contextlib.contextmanager
def _disk_full_is_507() -> Iterator[None]:
    """A full (or over-quota) uploads disk as 507 and one line, not a 500 with a traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise ApiError(507, "The uploads disk is full: nothing was stored") from None


def _store_and_queue(
    form: uploads.Form, settings: ServerSettings, queue: Queue, options: Options
) -> list[QueuedFile]:
    uploads.store(form, settings.uploads_dir)
    stored = [p.stored for p in form.files if p.stored]
    if not stored:
        return []
    # A queue file takes one writer at a time anyway, and threads waiting on
    # its lock back off in sleeps of up to 100 ms: under load the slowest
    # uploads waited over half a second. A Python lock hands over at once.
    serial = _SUBMITTING if locations.is_path(queue.location) else contextlib.nullcontext()
    try:
        with serial:
            label_uploads(
                queue, {p.stored: _given_name(p.filename) for p in form.files if p.stored}
            )
            return queue_files(queue, stored, options)
    except BaseException:
        # No job will ever read a file stored now (the queue is down, say):
        # removed, so the client's retry stores and queues it afresh.
        uploads.unstore(form, settings.uploads_dir)
        raise


def _given_name(filename: str) -> str:
    """The name the client's file had: browsers send ``"``, CR and LF as %22, %0D, %0A (HTML)."""
    return filename.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def _options(settings: ServerSettings, fields: dict[str, list[str]]) -> Options:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ApiError(400, f"Unknown field {unknown[0]!r}: use {', '.join(FIELDS)} and files")
    for name in ("fit", "format", "quality"):
        if len(fields.get(name, ())) > 1:
            raise ApiError(400, f"Give {name} once")
    one = {name: fields[name][0] for name in ("fit", "format", "quality") if name in fields}
    return request_options(settings.options, sizes=fields.get("size", ()), **one)


def _accepted(filename: str, queued: QueuedFile) -> dict[str, Any]:
    return {
        "file": filename,
        "status": 202,
        "id": queued.job_id,
        "state": queued.state,
        "outcome": queued.outcome,
        "url": f"/jobs/{queued.job_id}",
        "error": queued.error,
    }


def _refused(filename: str, error: str | None) -> dict[str, Any]:
    return {"file": filename, "status": 415, "error": error}


@router.api_route(
    "/thumbnails/{path:path}",
    methods=["GET", "HEAD"],
    summary="A finished thumbnail from the output folder",
    responses={
        200: {"content": {"image/*": {}}},
        304: {"description": "Not modified"},
        400: _ERROR,
        404: _ERROR,
    },
)
def thumbnail(
    path: str, request: Request, settings: Annotated[ServerSettings, Depends(get_settings)]
) -> Response:
    """The file with its content type, ETag and Cache-Control; nothing outside the folder.

    Thumbnails in a bucket are a redirect (307) to a presigned URL, valid a
    few minutes: the bytes go from the bucket to the client, never through
    this server.
    """
    served = served_file(settings.options.out_dir, path)
    if isinstance(served, RemoteObject):
        return RedirectResponse(served.url, status_code=307, headers={"Cache-Control": "no-store"})
    etag = '"' + hashlib.sha256(served.version.encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    media = _TYPES.get(os.path.splitext(served.path)[1].lower(), "application/octet-stream")
    return FileResponse(served.path, media_type=media, headers=headers)


def served_file(folder: str, rel: str) -> LocalFile | RemoteObject:
    """The thumbnail at URL path ``rel`` under the output ``folder``, as its storage serves it.

    400 for dot segments (the URL is not one a job lists); 404 when absent
    or outside the folder: containment is the storage's check, on the
    resolved path, so a symlink inside that points out is refused like ``..``.
    """
    parts = rel.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise ApiError(400, "Invalid thumbnail path: use the URL a job lists")
    served = open_storage(folder).serve(rel)
    if served is None:
        raise ApiError(404, "No such thumbnail")
    return served


def resolve_inside(folder: str, rel: str) -> str:
    """The real path of ``rel`` under the local ``folder`` (:func:`served_file`)."""
    served = served_file(folder, rel)
    assert isinstance(served, LocalFile)
    return served.path
