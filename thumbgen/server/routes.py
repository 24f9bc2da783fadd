"""The JSON endpoints on the queue: health, status, jobs, retry, pause and resume.

Each one calls the service layer (:mod:`thumbgen.commands`) just as the CLI
does; nothing here decides queue policy. Handlers are plain functions, so
FastAPI runs them in its thread pool: a store call that waits on a lock
never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from thumbgen import commands
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

router = APIRouter()
data = APIRouter(dependencies=[Depends(require_token)], responses=COMMON)


@router.get(
    "/health",
    summary="Liveness and queue reachability",
    responses={503: _ERROR},
)
def health(queue: QueueDep) -> Any:
    """200 ``{"status": "ok", "queue": ...}`` while the queue answers, else 503."""
    from thumbgen.commands.queues import shown

    try:
        queue.store.paused()
    except Exception as exc:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return error_response(503, f"Queue unreachable: {line}")
    return {"status": "ok", "queue": shown(queue.location)}


@data.get("/status", summary="What `thumbgen status --json` prints")
def status(queue: QueueDep) -> dict[str, Any]:
    """Counts, live workers with their current job, throughput, newest failures, paused."""
    return commands.status(queue).to_dict()


@data.get("/jobs", summary="Jobs in queue order, optionally in one state")
def jobs(
    queue: QueueDep,
    state: Annotated[State | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=10000, description="At most this many.")] = 50,
) -> list[dict[str, Any]]:
    """Each job as `thumbgen jobs --json` prints it."""
    return [commands.job_dict(j) for j in commands.jobs(queue, state=state, limit=limit)]


@data.get(
    "/jobs/{job_id}",
    summary="One job: state, error, attempts, thumbnail URLs",
    responses={404: _ERROR},
)
def job(job_id: JobId, queue: QueueDep, settings: SettingsDep) -> dict[str, Any]:
    """The job with its attempts and the URLs of its finished thumbnails."""
    found = queue.store.job(job_id)
    if found is None:
        raise ApiError(404, f"No job {job_id}")
    result = commands.show_dict(found)
    # Outputs outside this server's output folder (an ``add`` with its own -o) have no URL.
    urls = (thumbnail_url(settings, p) for p in found.job.outputs)
    result["thumbnails"] = [u for u in urls if u is not None]
    return result


@data.post(
    "/jobs/{job_id}/retry",
    summary="Queue a failed, cancelled or vanished job again",
    responses={404: _ERROR, 409: _ERROR},
)
def retry(job_id: JobId, queue: QueueDep) -> Any:
    """200 ``{"retried": 1}``; 409 when the job is not failed, cancelled or vanished."""
    found = queue.store.job(job_id)
    if found is None:
        raise ApiError(404, f"No job {job_id}")
    if not commands.retry(queue, [str(job_id)]):
        state = found.job.state.value
        raise ApiError(
            409, f"Job {job_id} is {state}: only failed, cancelled or vanished jobs are retried"
        )
    return {"retried": 1}


@data.post("/queue/pause", summary="Stop workers everywhere from starting jobs")
def pause(queue: QueueDep) -> dict[str, bool]:
    """Running jobs finish; ``{"paused": true}``."""
    commands.pause(queue)
    return {"paused": True}


@data.post("/queue/resume", summary="Let workers start jobs again")
def resume(queue: QueueDep) -> dict[str, bool]:
    """``{"paused": false}``."""
    commands.resume(queue)
    return {"paused": False}


def thumbnail_url(settings: ServerSettings, path: str) -> str | None:
    """The ``/thumbnails/...`` URL of an output, or None if it is outside the output folder."""
    key = key_under(settings.options.out_dir, path)
    if key is None:
        return None
    from urllib.parse import quote

    return "/thumbnails/" + quote(key)
