"""The FastAPI application: every router, the error shape, the settings and queue in ``state``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from thumbgen import __version__

from . import dashboard, errors, routes, thumbs

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

    from .settings import ServerSettings


def create_app(settings: ServerSettings, queue: Queue | None = None) -> FastAPI:
    """The app for ``settings``; ``queue`` is opened from ``settings.queue`` if not given."""
    if queue is None:
        from thumbgen.jobqueue.backend import open_queue

        queue = open_queue(settings.queue)
    app = FastAPI(
        title="thumbgen",
        version=__version__,
        description="Upload images, get thumbnails made by the queue's workers. "
        'Errors are `{"error": "one line"}`.',
    )
    app.state.settings = settings
    app.state.queue = queue
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(routes.data)
    app.include_router(thumbs.router)
    app.include_router(dashboard.router)
    return app
