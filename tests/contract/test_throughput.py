"""Throughput per minute (the dashboard's chart), on every backend, through the service function."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from store_helpers import OWNER, claim, new_jobs, options

from thumbgen.commands.throughput import throughput
from thumbgen.errors import UsageError
from thumbgen.jobqueue.huey_app import Queue


def finish_some(queue: Queue, tmp_path: Path) -> None:
    """Six jobs: two done, one failed, one vanished, one cancelled, one still queued."""
    store = queue.store
    store.submit(new_jobs(6), options(tmp_path), batch="b")
    store.finish(claim(store).id, OWNER, [], 1, 1)
    store.finish(claim(store).id, OWNER, [], 1, 1)
    store.fail(claim(store).id, OWNER, "corrupt")
    store.vanish(claim(store).id, OWNER, "gone")
    store.cancel(ids=[store.jobs()[-1].id])


def test_finished_jobs_count_in_the_newest_minute(queue: Queue, tmp_path: Path) -> None:
    finish_some(queue, tmp_path)
    report = throughput(queue, minutes=4)
    assert report.minutes == [0, 0, 0, 3]  # done and failed; vanished, cancelled, queued not
    assert report.to_dict() == {"until": report.until, "minutes": [0, 0, 0, 3]}


def test_each_minute_counts_its_own_window(queue: Queue, tmp_path: Path) -> None:
    finish_some(queue, tmp_path)
    # Seen from 90 s later, the jobs finished in the second-newest minute.
    later = throughput(queue, minutes=3, now=time.time() + 90)
    assert later.minutes == [0, 3, 0]
    # Seen from before they finished, none had.
    assert throughput(queue, minutes=3, now=time.time() - 300).minutes == [0, 0, 0]


def test_a_retried_job_counts_once_at_its_latest_finish(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    job = claim(store)
    store.fail(job.id, OWNER, "corrupt")
    store.retry(ids=[job.id])
    assert throughput(queue, minutes=2).minutes == [0, 0]
    store.finish(claim(store).id, OWNER, [], 1, 1)
    assert throughput(queue, minutes=2).minutes == [0, 1]


@pytest.mark.parametrize("minutes", [0, -1, 61])
def test_minutes_out_of_range_are_refused(queue: Queue, minutes: int) -> None:
    with pytest.raises(UsageError, match="minutes must be between 1 and 60"):
        throughput(queue, minutes=minutes)
