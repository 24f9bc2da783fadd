"""Running the server: uvicorn in this process, the embedded workers forked beside it.

The workers are forked before uvicorn starts (and before any thread exists),
as ``watch`` does. uvicorn catches SIGINT and SIGTERM itself and stops
serving gracefully (requests in flight finish); it then raises the signal
again, which :class:`~thumbgen.workers.stopping.StopSignals` counts, and the workers
are stopped the way ``watch`` stops them: running jobs finish, a second
signal stops them at once.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from thumbgen.errors import Interrupted, ThumbgenError, UsageError
from thumbgen.workers import EmbeddedWorkers, start, stop_workers
from thumbgen.workers.stopping import StopSignals

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
    from thumbgen.commands.queues import open_queue

    from .app import create_app

    settings.check()
    commands.check_out_dir(settings.options.out_dir)
    prepare_uploads_dir(settings.uploads_dir)
    # Opened (and created) now so that a bad location is an error before
    # anything starts; closed again so that no connection crosses the fork.
    open_queue(settings.queue).close()
    with StopSignals() as stop:
        workers = start(settings.queue, settings.workers) if settings.workers else None
        try:
            app = create_app(settings, open_queue(settings.queue))
            config = uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                log_level="info",
                access_log=True,
                # After a stop signal, requests in flight get this long; a
                # client that never finishes its upload cannot hold the stop up.
                timeout_graceful_shutdown=10,
                server_header=False,
            )
            # Bound here (after the fork: the workers must not hold the
            # listening socket) so that a port in use is one line, not uvicorn's log.
            listener = _listen(settings.host, settings.port)
            server = _Server(config, lambda: on_ready(dashboard_url(settings)), workers, stop)
            server.run(sockets=[listener])
            if server.workers_died and workers is not None:
                # Serving on without them would queue uploads nobody runs.
                raise workers.failure()
        finally:
            if workers is not None:
                if stop.count:
                    on_stopping()
                stop_workers(workers, stop)
    raise Interrupted("Stopped serving; queued uploads stay queued")


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (uvicorn listens on it)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose
        # proto says TCP, and accepted sockets inherit it. Without it every
        # response on a kept-alive connection (headers, then body: two writes)
        # waited out the client's delayed ACK: 44 ms for any request.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as exc:
        raise UsageError(f"Invalid --host {host!r}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ThumbgenError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "choose another --host or --port"
        ) from None
    return sock


def dashboard_url(settings: ServerSettings) -> str:
    """The dashboard's URL; the page reads the token from the fragment (never sent to logs)."""
    url = settings.url + "/"
    return f"{url}#token={settings.token}" if settings.token else url


class _Server(uvicorn.Server):
    """uvicorn's server, calling ``ready`` once it listens, stopping if the workers die."""

    def __init__(
        self,
        config: uvicorn.Config,
        ready: Callable[[], None],
        workers: EmbeddedWorkers | None,
        stop: StopSignals,
    ) -> None:
        super().__init__(config)
        self._ready = ready
        self._workers = workers
        self._stop = stop
        self.workers_died = False

    async def on_tick(self, counter: int) -> bool:
        # A signal that came before uvicorn took the handlers over was ours to count.
        if self._stop.count:
            self.should_exit = True
        # uvicorn ticks every 0.1 s; a look at the workers twice a second is plenty.
        if counter % 5 == 0 and self._workers is not None and self._workers.returncode is not None:
            self.workers_died = True
            self.should_exit = True
        return await super().on_tick(counter)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready()
