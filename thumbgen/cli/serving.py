"""``thumbgen serve``: the HTTP upload API and dashboard, with workers beside it."""

from __future__ import annotations

from typing import Annotated

import typer

from thumbgen.messages import install_hint
from thumbgen.workers.stopping import STOPPING_MESSAGE

from . import render
from .common import QueueOpt, location, reporting_errors
from .options import CORES, OutputOptions, QueueingWorkersOpt, with_output_options


@with_output_options
def serve(
    ctx: typer.Context,
    output: OutputOptions,
    host: Annotated[
        str,
        typer.Option(
            metavar="ADDRESS",
            envvar="THUMBGEN_HOST",
            help="Address to listen on; beyond loopback a token is required.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, metavar="PORT", envvar="THUMBGEN_PORT", help="Port.")
    ] = 8080,
    token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            envvar="THUMBGEN_TOKEN",
            show_default=False,
            help="Bearer token every API request must send (Authorization: Bearer TOKEN).",
        ),
    ] = None,
    uploads: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            envvar="THUMBGEN_UPLOADS",
            show_default="the output folder's name + -uploads, beside it",
            help="Folder or s3://BUCKET/PREFIX/ uploads are stored in, named by their content"
            " hash.",
        ),
    ] = None,
    max_upload_mb: Annotated[
        int,
        typer.Option(
            min=1, metavar="MB", envvar="THUMBGEN_MAX_UPLOAD_MB", help="Largest file, in MiB."
        ),
    ] = 64,
    max_files: Annotated[
        int,
        typer.Option(
            min=1, metavar="N", envvar="THUMBGEN_MAX_FILES", help="Most files in one request."
        ),
    ] = 1000,
    idle_timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            metavar="SECONDS",
            envvar="THUMBGEN_IDLE_TIMEOUT",
            help="Longest pause in an upload's data before it is refused (408).",
        ),
    ] = 60.0,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--events",
            metavar="PREFIX",
            envvar="THUMBGEN_EVENTS",
            show_default=False,
            help="Queue the objects S3 event notifications (POST /events/s3) name under"
            " s3://BUCKET/PREFIX/; repeat for more.",
        ),
    ] = None,
    workers: QueueingWorkersOpt = CORES,
    queue: QueueOpt = None,
) -> None:
    """Serve the HTTP upload API and dashboard on the queue (Ctrl-C stops).

    Example: thumbgen serve --port 8080 -o thumbs/ -w 2
    """
    try:
        from thumbgen.server import running
        from thumbgen.server.settings import ServerSettings, upload_folder
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("fastapi", "starlette", "uvicorn", "multipart"):
            raise
        render.error(
            "thumbgen serve needs the server extra (FastAPI, uvicorn, python-multipart): "
            + install_hint("server")
        )
        raise typer.Exit(2) from None
    with reporting_errors():
        options = output.build()
        config = ServerSettings(
            queue=location(ctx, queue),
            options=options,
            uploads_dir=upload_folder(uploads, options.out_dir),
            host=host,
            port=port,
            token=token,
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            max_files=max_files,
            idle_timeout=idle_timeout,
            workers=workers,
            events=tuple(events or ()),
        )
        running.serve(
            config,
            on_ready=lambda url: render.note(
                f"Listening on {_address(host, port)}; dashboard: {url}"
            ),
            on_stopping=lambda: render.note(STOPPING_MESSAGE),
        )


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command()(serve)
