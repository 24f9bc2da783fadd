"""The JSON endpoints that steer the queue: retry, cancel, clear, pause and resume.

Each answers what it did as a count (``{"retried": 12}``), which the
dashboard shows after asking first; a one-job action on a job in the wrong
state is 409, not a silent 0. Bulk retries and clears go through the
service layer as ``thumbgen retry`` and ``thumbgen clear`` do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from thumbgen import commands
from thumbgen.commands import browsing
from thumbgen.commands.queues import State

from .auth import require_token
from .errors import ApiError
from .routes import _ERROR, COMMON, JobId, QueueDep

router = APIRouter(dependencies=[Depends(require_token)], responses=COMMON)


@router.post(
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


@router.post(
    "/jobs/{job_id}/cancel",
    summary="Take a queued job out of the queue",
    responses={404: _ERROR, 409: _ERROR},
)
def cancel(job_id: JobId, queue: QueueDep) -> Any:
    """200 ``{"cancelled": 1}``; 409 when the job is not queued (a running job finishes)."""
    found = queue.store.job(job_id)
    if found is None:
        raise ApiError(404, f"No job {job_id}")
    if not browsing.cancel_one(queue, job_id):
        state = found.job.state.value
        raise ApiError(409, f"Job {job_id} is {state}: only queued jobs are cancelled")
    return {"cancelled": 1}


@router.post("/jobs/retry", summary="Queue every failed job again, or those of one reason")
def retry_failed(
    queue: QueueDep,
    error: Annotated[
        str | None,
        Query(max_length=2000, description="Only jobs that failed with exactly this line."),
    ] = None,
) -> dict[str, int]:
    """``{"retried": n}``: every failed job, or every one whose error is ``error``."""
    return {"retried": browsing.retry_reason(queue, error)}


@router.post("/jobs/cancel", summary="Take every queued job out of the queue")
def cancel_queued(queue: QueueDep) -> dict[str, int]:
    """``{"cancelled": n}``: every queued job (running ones finish), as ``cancel --all``."""
    return {"cancelled": commands.cancel(queue, every=True)}


@router.post("/jobs/clear", summary="Forget finished jobs", responses={422: _ERROR})
def clear(
    queue: QueueDep,
    state: Annotated[
        list[State] | None,
        Query(description="Finished states to clear (done, failed, cancelled, vanished): all."),
    ] = None,
    older_than: Annotated[
        str | None, Query(max_length=20, description="Only jobs finished longer ago: 7d, 12h.")
    ] = None,
) -> Any:
    """``{"cleared": n}``, as ``thumbgen clear`` (never a queued or running job)."""
    age = None if older_than is None else commands.parse_age(older_than)
    states = state or list(browsing.FINISHED)
    return {"cleared": browsing.clear_finished(queue, states, older_than=age)}


@router.post("/queue/pause", summary="Stop workers everywhere from starting jobs")
def pause(queue: QueueDep) -> dict[str, bool]:
    """Running jobs finish; ``{"paused": true}``."""
    commands.pause(queue)
    return {"paused": True}


@router.post("/queue/resume", summary="Let workers start jobs again")
def resume(queue: QueueDep) -> dict[str, bool]:
    """``{"paused": false}``."""
    commands.resume(queue)
    return {"paused": False}
