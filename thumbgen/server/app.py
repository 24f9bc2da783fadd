"""The FastAPI application: every router, the error shape, the settings and queue in ``state``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from thumbgen import __version__

from . import actions, dashboard, errors, events, metrics, routes, thumbs

if TYPE_CHECKING:
    from thumbgen.commands.queues import Queue

    from .settings import ServerSettings


def create_app(settings: ServerSettings, queue: Queue | None = None) -> FastAPI:
    """The app for ``settings``; ``queue`` is opened from ``settings.queue`` if not given."""
    if queue is None:
        from thumbgen.commands.queues import open_queue

        queue = open_queue(settings.queue)
    app = FastAPI(
        title="thumbgen",
        version=__version__,
        description="Upload images, get thumbnails made by the queue's workers. "
        'Errors are `{"error": "one line"}`.',
    )
    app.state.settings = settings
    app.state.queue = queue
    app.state.metrics = metrics.make_metrics(queue)
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(routes.data)
    app.include_router(actions.router)
    app.include_router(thumbs.router)
    app.include_router(events.router)
    app.include_router(metrics.router)
    app.include_router(dashboard.router)
    _document_auth(app)
    return app


def _document_auth(app: FastAPI) -> None:
    """List 401 (and 503) under every operation that needs the token, whoever declared it.

    FastAPI puts a dependency's security scheme in the schema but not the
    401 it answers; clients and schemathesis should see both. Every operation
    gets an id of its own, as OpenAPI requires.
    """
    import warnings
    from typing import Any

    from .routes import COMMON

    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                # One route serves a thumbnail's GET and HEAD (so a 405 lists
                # both), and FastAPI gives both operations the route's id and
                # warns; the HEAD gets an id of its own below.
                warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
                schema = plain()
            for item in schema.get("paths", {}).values():
                head = item.get("head")
                if isinstance(head, dict) and head.get("operationId"):
                    head["operationId"] += "_head"
                for operation in item.values():
                    if isinstance(operation, dict) and operation.get("security"):
                        responses = operation.setdefault("responses", {})
                        for code, spec in COMMON.items():
                            responses.setdefault(str(code), {"description": spec["description"]})
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
