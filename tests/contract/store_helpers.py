"""What the contract tests share: sample jobs and options, and looks at the transport."""

from __future__ import annotations

import collections
from pathlib import Path

from thumbgen.jobqueue.contract import Counts, Job, JobStore, NewJob, State
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import Options, build_options

OWNER = "test-owner"


def options(tmp_path: Path, size: str = "64") -> Options:
    """Options writing into the test's folder."""
    return build_options([size], out_dir=tmp_path / "out")


def new_jobs(n: int, size: int = 100, mtime: int = 1, prefix: str = "img") -> list[NewJob]:
    """``n`` sources that need not exist (submit does not read them)."""
    return [
        NewJob(f"/src/{prefix}{i}.jpg", "", size, mtime, f"/out/{prefix}{i}_*.*") for i in range(n)
    ]


def tokens(queue: Queue) -> int:
    """Tokens waiting in the transport: due now plus scheduled."""
    return int(queue.huey.pending_count()) + int(queue.huey.scheduled_count())


def true_counts(store: JobStore) -> Counts:
    """Jobs per state counted one by one, not from the store's counters."""
    states = collections.Counter(job.state for job in store.jobs())
    return Counts(**{s.value: states[s] for s in State})


def claim(store: JobStore, owner: str = OWNER) -> Job:
    """Claim a job that must be there."""
    job = store.claim(owner)
    assert job is not None
    return job


def run_by_tokens(queue: Queue, owner: str = OWNER) -> list[str]:
    """Do what workers do until the tokens run out: take one, claim, finish.

    Returns the sources finished, in order; a token that finds nothing is spent.
    """
    done = []
    while queue.huey.dequeue() is not None:
        job = queue.store.claim(owner)
        if job is not None:
            queue.store.finish(job.id, owner, [], 1, 1)
            done.append(job.source)
    return done
