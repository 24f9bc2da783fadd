"""The lease: a worker that stops touching the queue loses its jobs, even with its PID alive."""

from __future__ import annotations

import os
import time

from thumbgen.jobqueue import liveness, policy
from thumbgen.jobqueue.records import WorkerInfo


def _me(heartbeat: float) -> WorkerInfo:
    pid = os.getpid()
    host = liveness.hostname()
    return WorkerInfo("me", host, pid, liveness.start_time(pid), heartbeat, heartbeat, 0, None)


def test_a_live_worker_within_its_lease_keeps_its_jobs() -> None:
    now = time.time()
    dead = policy.dead_owners([_me(now - 1)], ["me"], now, policy.alive_here)
    assert dead == policy.Dead(owners=[], workers=[])


def test_a_live_worker_past_its_lease_loses_its_jobs_but_stays_registered() -> None:
    now = time.time()
    stale = _me(now - policy.LEASE_SECONDS - 1)
    assert policy.alive_here(stale, now)  # the process runs: this is a stuck one
    dead = policy.dead_owners([stale], ["me"], now, policy.alive_here)
    assert dead == policy.Dead(owners=["me"], workers=[])
