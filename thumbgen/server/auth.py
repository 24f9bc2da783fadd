"""Dependencies every route shares: the bearer token, the settings, the open queue.

For route modules (the dashboard's too)::

    from fastapi import Depends, Request
    from thumbgen.server.auth import get_queue, get_settings, require_token

    @router.get("/throughput", dependencies=[Depends(require_token)])
    def throughput(queue: Queue = Depends(get_queue)) -> dict: ...

- :func:`require_token`: a dependency that answers 401 (``{"error": ...}``,
  ``WWW-Authenticate: Bearer``) unless the request carries
  ``Authorization: Bearer <token>`` when the server has a token. Every data
  endpoint depends on it; the dashboard page and its static files do not
  (they hold no data).
- :func:`get_settings`: the :class:`~thumbgen.server.settings.ServerSettings`
  (also ``request.app.state.settings``).
- :func:`get_queue`: the server's open :class:`~thumbgen.commands.queues.Queue`
  (also ``request.app.state.queue``); its ``store`` is per thread, so sync
  routes (run in the thread pool) may use it directly.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from thumbgen.commands.queues import Queue

from .settings import ServerSettings

# auto_error=False: a missing header is ours to answer (one JSON line, 401 not 403).
_bearer = HTTPBearer(auto_error=False, description="The server's --token / THUMBGEN_TOKEN.")


def get_settings(request: Request) -> ServerSettings:
    """The settings the server was started with."""
    settings: ServerSettings = request.app.state.settings
    return settings


def get_queue(request: Request) -> Queue:
    """The server's open queue."""
    queue: Queue = request.app.state.queue
    return queue


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse a request without the server's bearer token (when it has one)."""
    token = get_settings(request).token
    if token is None:
        return
    if credentials is None:
        raise HTTPException(
            401,
            "This server needs a token: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
        raise HTTPException(401, "Wrong token", headers={"WWW-Authenticate": "Bearer"})
