"""Running the server: uvicorn in this process, the embedded workers forked beside it.

The workers are forked before uvicorn starts (and before any thread exists),
as ``watch`` does. uvicorn catches SIGINT and SIGTERM itself and stops
serving gracefully (requests in flight finish); it then raises the signal
again, which :class:`~thumbgen.stopping.StopSignals` counts, and the workers
are stopped the way ``watch`` stops them: running jobs finish, a second
signal stops them at once.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from thumbgen import supervisor
from thumbgen.errors import Interrupted, QueueError
from thumbgen.stopping import StopSignals

from .settings import ServerSettings
from .uploads import prepare_uploads_dir


def serve(
    settings: ServerSettings,
    *,
    on_ready: Callable[[str], None],
    on_stopping: Callable[[], None],
) -> None:
    """Serve until a stop signal, then raise :class:`~thumbgen.errors.Interrupted`.

    ``on_ready`` gets the dashboard URL (with ``#token=...`` when there is a
    token) once the server listens. Bad settings, an unusable output or
    uploads folder, or an unreachable queue raise their ThumbgenError first.
    """
    from thumbgen import commands
    from thumbgen.jobqueue.backend import open_queue

    from .app import create_app

    settings.check()
    commands.check_out_dir(settings.options.out_dir)
    prepare_uploads_dir(settings.uploads_dir)
    # Opened (and created) now so that a bad location is an error before
    # anything starts; closed again so that no connection crosses the fork.
    open_queue(settings.queue).close()
    workers = (
        supervisor.EmbeddedWorkers(settings.queue, settings.workers, burst=False)
        if settings.workers
        else None
    )
    with StopSignals() as stop:
        if workers is not None:
            workers.start()
        try:
            app = create_app(settings, open_queue(settings.queue))
            config = uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                log_level="info",
                access_log=True,
                # Our own stop handling; uvicorn's default would also wait
                # forever for idle keep-alive clients.
                timeout_graceful_shutdown=10,
                server_header=False,
            )
            server = _Server(config, lambda: on_ready(dashboard_url(settings)))
            try:
                server.run()
            except SystemExit:
                if server.started:
                    raise
            if not server.started:
                # uvicorn has logged why (the address is in use, most often).
                raise QueueError(
                    f"Cannot listen on {settings.host}:{settings.port}: "
                    "the address is in use or not available here; choose another --host or --port"
                )
        finally:
            if workers is not None:
                if stop.count:
                    on_stopping()
                supervisor.stop_workers(workers, stop)
    raise Interrupted("Stopped serving; queued uploads stay queued")


def dashboard_url(settings: ServerSettings) -> str:
    """The dashboard's URL; the page reads the token from the fragment (never sent to logs)."""
    url = settings.url + "/"
    return f"{url}#token={settings.token}" if settings.token else url


class _Server(uvicorn.Server):
    """uvicorn's server, calling ``ready`` once it listens."""

    def __init__(self, config: uvicorn.Config, ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready()
