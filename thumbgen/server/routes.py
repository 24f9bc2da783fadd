"""The JSON endpoints on the queue: health, status, jobs by cursor, failure reasons, one job.

Each one calls the service layer (:mod:`thumbgen.commands`) just as the CLI
does; nothing here decides queue policy. Handlers are plain functions, so
FastAPI runs them in its thread pool: a store call that waits on a lock
never blocks the event loop.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from thumbgen import commands
from thumbgen.commands import browsing
from thumbgen.commands.queues import Queue, State
from thumbgen.outputs import key_under

from .auth import get_queue, get_settings, require_token
from .errors import ApiError, error_response
from .settings import ServerSettings

QueueDep = Annotated[Queue, Depends(get_queue)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
#: Job ids are SQLite integers (and Redis counters): positive, 64-bit.
JobId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The job's id.")]

_ERROR: dict[str, Any] = {"model": dict[str, str], "description": '`{"error": "one line"}`'}
#: What any data endpoint may answer besides its own statuses.
COMMON: dict[int | str, dict[str, Any]] = {
    401: {**_ERROR, "description": "A token is needed (or was wrong)"},
    503: {**_ERROR, "description": "The queue is unreachable"},
}

log = logging.getLogger(__name__)
router = APIRouter()
data = APIRouter(dependencies=[Depends(require_token)], responses=COMMON)


@router.get(
    "/health",
    summary="Whether the server and its queue answer",
    responses={503: _ERROR},
)
def health(queue: QueueDep) -> Any:
    """200 ``{"status": "ok"}`` while the queue answers, else 503; nothing about the queue.

    Health is open to anyone (load balancers carry no token), so it names no
    location, host or error: the reason goes to the server's log instead.
    """
    try:
        queue.store.paused()
    except Exception as exc:
        log.warning("health: the queue does not answer: %s", str(exc).splitlines()[:1])
        return error_response(503, "The queue does not answer")
    return {"status": "ok"}


@data.get("/status", summary="What `thumbgen status --json` prints")
def status(queue: QueueDep) -> dict[str, Any]:
    """Counts, live workers with their current job, throughput, newest failures, paused."""
    return commands.status(queue).to_dict()


_NEXT = {
    "description": "Each job as `thumbgen jobs --json` prints it, with `label` and its times. "
    "When more follow, `X-Next-Cursor` holds the cursor of the next page and `Link` its URL.",
    "headers": {
        "X-Next-Cursor": {"schema": {"type": "integer"}, "description": "The next page's cursor"},
        "Link": {"schema": {"type": "string"}, "description": '`<url>; rel="next"`'},
    },
}


@data.get("/jobs", summary="A page of jobs: by state, searched, by cursor", responses={200: _NEXT})
def jobs(
    request: Request,
    response: Response,
    queue: QueueDep,
    state: Annotated[State | None, Query(description="Only jobs in this state.")] = None,
    q: Annotated[
        str,
        Query(max_length=200, description="Only jobs whose source path or upload name has this."),
    ] = "",
    error: Annotated[
        str | None, Query(max_length=2000, description="Only jobs that failed with this line.")
    ] = None,
    cursor: Annotated[
        int | None,
        Query(ge=1, le=2**63 - 1, description="`X-Next-Cursor` of the page before."),
    ] = None,
    order: Annotated[
        Literal["oldest", "newest"], Query(description="Queue order (oldest) or newest first.")
    ] = "oldest",
    limit: Annotated[int, Query(ge=1, le=10000, description="At most this many.")] = 50,
) -> list[dict[str, Any]]:
    """Jobs from ``cursor`` on; the same cost for every page, however deep."""
    found = browsing.page(
        queue,
        state=state,
        query=q,
        error=error,
        cursor=cursor,
        newest_first=order == "newest",
        limit=limit,
    )
    if found.next is not None:
        response.headers["X-Next-Cursor"] = str(found.next)
        url = request.url.include_query_params(cursor=found.next)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    settings: ServerSettings = request.app.state.settings
    return [_with_urls(browsing.entry(j), settings) for j in found.jobs]


def _with_urls(entry: dict[str, Any], settings: ServerSettings) -> dict[str, Any]:
    urls = (thumbnail_url(settings, p) for p in entry["outputs"])
    entry["thumbnails"] = [u for u in urls if u is not None]
    return entry


@data.get("/failures", summary="Failed jobs grouped by their error line")
def failures(
    queue: QueueDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many reasons.")] = 50,
) -> dict[str, Any]:
    """``{"reasons": [{"error", "count"}]}``, most common first."""
    reasons = browsing.failure_reasons(queue, limit)
    return {"reasons": [{"error": e, "count": n} for e, n in reasons]}


@data.get(
    "/jobs/{job_id:int}",
    summary="One job: state, error, attempts, thumbnail URLs",
    responses={404: _ERROR},
)
def job(job_id: JobId, queue: QueueDep, settings: SettingsDep) -> dict[str, Any]:
    """The job with its attempts and the URLs of its finished thumbnails."""
    found = queue.store.job(job_id)
    if found is None:
        raise ApiError(404, f"No job {job_id}")
    result = commands.show_dict(found)
    result["label"] = found.job.label or None
    result["options"] = browsing.options_list(found)
    # Outputs outside this server's output folder (an ``add`` with its own -o) have no URL.
    urls = (thumbnail_url(settings, p) for p in found.job.outputs)
    result["thumbnails"] = [u for u in urls if u is not None]
    return result


def thumbnail_url(settings: ServerSettings, path: str) -> str | None:
    """The ``/thumbnails/...`` URL of an output, or None if it is outside the output folder."""
    key = key_under(settings.options.out_dir, path)
    if key is None:
        return None
    from urllib.parse import quote

    return "/thumbnails/" + quote(key)
