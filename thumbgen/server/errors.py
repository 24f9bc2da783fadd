"""Every error the API returns is ``{"error": "one line"}`` with a fitting status.

No traceback ever reaches a client: FastAPI's validation errors become one
line naming the field, thumbgen's own errors keep their message, and
anything unexpected is logged here and answered with a plain 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from thumbgen.errors import QueueError, ThumbgenError, UsageError

log = logging.getLogger("thumbgen.server")


class ApiError(Exception):
    """An error answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def status_of(exc: ThumbgenError) -> int:
    """The HTTP status for one of thumbgen's errors."""
    if isinstance(exc, UsageError):
        return 422
    if isinstance(exc, QueueError) or exc.transient:
        return 503
    return 500


def _validation_line(exc: RequestValidationError) -> str:
    errors: list[Any] = list(exc.errors())
    if not errors:
        return "Invalid request"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    message = str(first.get("msg", "invalid")).splitlines()[0]
    return f"Invalid {where}: {message}" if where else f"Invalid request: {message}"


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_line(exc))

    @app.exception_handler(ThumbgenError)
    async def _thumbgen(request: Request, exc: ThumbgenError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            # The server's own trouble (output folder, queue): the operator reads
            # the log, not the client's response.
            log.warning("%s %s answered %d: %s", request.method, request.url.path, status, exc)
        return error_response(status, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "Internal error; the server's log has the details")
