"""The HTTP API in this process: the real app on a real queue file, a real client, no socket.

    with in_process(tmp_path, queue, token="t") as srv, srv.client() as http:
        r = http.get("/status")

``in_process`` prepares what ``thumbgen serve`` prepares before it listens
(settings checked, output folder checked, uploads folder made) and builds
the app with :func:`thumbgen.server.app.create_app`. Requests go through
httpx's ASGI transport to the app running on an event loop in a thread
(anyio's blocking portal), so tests stay plain synchronous code, as with a
served process: ``srv.client()`` mirrors :meth:`support.server.ServeProcess.client`.
No process is started and no port is opened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from thumbgen import commands
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import build_options
from thumbgen.server.app import create_app
from thumbgen.server.settings import ServerSettings, default_uploads_dir
from thumbgen.server.uploads import prepare_uploads_dir

#: The token of the api tier's servers that have one.
TOKEN = "s3cret-token"

#: The host part of every in-process URL (nothing resolves or listens there).
BASE_URL = "http://thumbgen.test"


class ApiClient:
    """A synchronous httpx-like client whose requests run the ASGI app on the portal's loop."""

    def __init__(self, portal: BlockingPortal, app: FastAPI, headers: dict[str, str]) -> None:
        self._portal = portal
        # raise_app_exceptions=False: an unexpected error is answered (500) as
        # uvicorn would answer it, instead of being raised into the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, answered once the app has sent the whole response."""
        call = functools.partial(self._client.request, method, url, **kwargs)
        return self._portal.call(call)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclasses.dataclass
class InProcessServer:
    """The app with its settings and queue, and clients for it."""

    app: FastAPI
    settings: ServerSettings
    queue: Queue
    portal: BlockingPortal

    @property
    def token(self) -> str | None:
        return self.settings.token

    @property
    def out_dir(self) -> Path:
        """The output folder ``/thumbnails`` serves."""
        return Path(self.settings.options.out_dir)

    @property
    def uploads_dir(self) -> Path:
        return Path(self.settings.uploads_dir)

    def headers(self) -> dict[str, str]:
        """The Authorization header, when the server has a token."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, *, auth: bool = True) -> ApiClient:
        """A client sending the token unless ``auth=False`` (like ``ServeProcess.client``)."""
        return ApiClient(self.portal, self.app, self.headers() if auth else {})

    def raw_get(self, target: str) -> tuple[int, bytes]:
        """``GET target`` exactly as written: status and body.

        httpx normalises ``.`` and ``..`` segments away before a request is
        made; this builds the ASGI request itself, with the path decoded the
        way uvicorn decodes it (percent-escapes undone, dot segments kept).
        """
        return self.portal.call(_raw_get, self.app, target, self.headers())


async def _raw_get(app: FastAPI, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    raw_path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"thumbgen.test")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("thumbgen.test", 80),
    }
    sent: list[dict[str, Any]] = []
    requested = False
    answered = anyio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()  # then the client goes, as a real one does
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    await app(scope, receive, send)
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), body


@contextlib.contextmanager
def in_process(
    tmp_path: Path, queue: Queue, *, token: str | None = None, **limits: Any
) -> Iterator[InProcessServer]:
    """The app of ``thumbgen serve -o tmp_path/thumbs [--token T]`` on ``queue``.

    ``limits`` are other :class:`ServerSettings` fields (``max_files``,
    ``max_upload_bytes``...). Uploads go beside the output folder, as the
    command's default puts them (``thumbs-uploads``).
    """
    out = tmp_path / "thumbs"
    settings = ServerSettings(
        queue=queue.location,
        options=build_options(out_dir=out),
        uploads_dir=default_uploads_dir(str(out)),
        token=token,
        **limits,
    )
    # What thumbgen.server.running.serve does before it builds the app.
    settings.check()
    commands.check_out_dir(settings.options.out_dir)
    prepare_uploads_dir(settings.uploads_dir)
    app = create_app(settings, queue)
    with start_blocking_portal() as portal:
        yield InProcessServer(app, settings, queue, portal)
