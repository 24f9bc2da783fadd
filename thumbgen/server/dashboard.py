"""The dashboard: the page at ``/``, its script and style, and the throughput it charts.

The page and its files hold no data and are served without the token; the
script reads everything it shows from the JSON endpoints (``/status``,
``/jobs?state=failed``, ``/throughput``) with the token it was given in the
URL fragment. The files are plain HTML, CSS and JavaScript shipped in
``thumbgen/server/static/`` (no build step, nothing from a CDN), read once
and served from memory with an ETag. A strict Content-Security-Policy lets
the page run only its own script, so even a file name that slipped past the
script's escaping could not run code.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from thumbgen.commands import throughput as throughput_service
from thumbgen.commands.queues import Queue

from .auth import get_queue, require_token
from .errors import ApiError

router = APIRouter()

#: What the dashboard's files may be, by extension; nothing else is served.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
PAGE = "dashboard.html"

#: The page may load and contact only this server; no inline script or style.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time (cheap with the ETag): an upgraded thumbgen
    # serves its new page at once.
    "Cache-Control": "no-cache",
}


@functools.cache
def static_files() -> dict[str, tuple[bytes, str, str]]:
    """Every servable file of the static folder: name -> (content, content type, ETag).

    Read once from the installed package; a name not in this table is never
    looked up on disk, so no request path can reach another file.
    """
    folder = resources.files("thumbgen.server") / "static"
    found = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES and not entry.name.startswith("."):
            content = entry.read_bytes()
            etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
            found[entry.name] = (content, CONTENT_TYPES[suffix], etag)
    return found


def _serve(name: str, request: Request) -> Response:
    entry = static_files().get(name)
    if entry is None:
        raise ApiError(404, f"No dashboard file {name!r}")
    content, media_type, etag = entry
    headers = {**_HEADERS, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def page(request: Request) -> Response:
    """The dashboard page (no data: its script fetches that with the token)."""
    return _serve(PAGE, request)


@router.api_route("/static/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def static(name: str, request: Request) -> Response:
    """The page's script and style, by exact name."""
    return _serve(name, request)


class ThroughputBody(BaseModel):
    """``GET /throughput``: jobs finished (done or failed) per minute."""

    minutes: list[int] = Field(
        description="One count per minute, oldest first; the last is the minute up to `until`."
    )
    until: float = Field(description="The window's end, in Unix seconds (the server's clock).")


@router.get(
    "/throughput",
    dependencies=[Depends(require_token)],
    summary="Jobs finished per minute over the last minutes",
)
def throughput(
    queue: Annotated[Queue, Depends(get_queue)],
    minutes: Annotated[
        int,
        Query(
            ge=1, le=throughput_service.MAX_MINUTES, description="How many minutes, newest last."
        ),
    ] = throughput_service.DEFAULT_MINUTES,
) -> ThroughputBody:
    """Jobs finished in each of the last ``minutes`` minutes, in rolling one-minute windows."""
    report = throughput_service.throughput(queue, minutes)
    return ThroughputBody(minutes=report.minutes, until=report.until)
