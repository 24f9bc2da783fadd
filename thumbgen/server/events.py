"""``POST /events/s3``: the webhook an S3-compatible server's event notifications call.

The objects a notification names are queued through the service layer
(:func:`thumbgen.commands.events.queue_events`), only under the prefixes the
server was started with (``serve --events``); ``watch`` of the same prefix is
the safety net for notifications that never arrive.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from thumbgen.commands.events import queue_events
from thumbgen.commands.queues import Queue

from .auth import get_queue, get_settings, require_token
from .errors import ApiError
from .routes import _ERROR, COMMON
from .settings import ServerSettings

#: Largest notification body: MinIO batches records, each well under 2 KiB.
MAX_EVENT_BYTES = 16 * 1024 * 1024

router = APIRouter(dependencies=[Depends(require_token)], responses=COMMON)


@router.post(
    "/events/s3",
    summary="Queue the objects an S3 event notification says were created",
    responses={400: _ERROR, 409: _ERROR, 413: _ERROR, 422: _ERROR},
)
async def s3_events(
    request: Request,
    settings: Annotated[ServerSettings, Depends(get_settings)],
    queue: Annotated[Queue, Depends(get_queue)],
) -> dict[str, Any]:
    """Counts of what was queued, and each named object not queued with its reason."""
    if not settings.events:
        raise ApiError(
            409, "This server takes no S3 events: start it with --events s3://BUCKET/PREFIX/"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_EVENT_BYTES:
            raise ApiError(413, f"A notification is at most {MAX_EVENT_BYTES // 2**20} MiB")
    try:
        payload = json.loads(body)
    except ValueError:
        raise ApiError(400, "The body is not JSON: send an S3 event notification") from None
    report = await run_in_threadpool(
        queue_events, queue, payload, settings.events, settings.options
    )
    return report.to_dict()
