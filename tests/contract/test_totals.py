"""Tries ended per outcome (``totals``): raised as outcomes are recorded, never lowered.

They are the counters of ``GET /metrics``: clear and retry lower the
per-state counts but must leave these, and a worker that no longer holds a
job must not count its late outcome.
"""

from __future__ import annotations

from pathlib import Path

from store_helpers import OWNER, claim, new_jobs, options

from thumbgen.jobqueue.contract import JobStore, State


def test_each_recorded_outcome_counts_once_and_clear_and_retry_lower_nothing(
    store: JobStore, tmp_path: Path
) -> None:
    assert store.totals() == {}
    store.submit(new_jobs(5), options(tmp_path), batch="b")
    store.finish(claim(store).id, OWNER, [], 1, 1)
    store.finish(claim(store).id, OWNER, [], 1, 1)
    store.fail(claim(store).id, OWNER, "Corrupt image: /src/img2.jpg (Truncated File Read)")
    store.fail(claim(store).id, OWNER, "Something unheard of")
    store.vanish(claim(store).id, OWNER, "Source not found: /src/img4.jpg")
    assert store.totals() == {
        "done": 2,
        "failed:corrupt": 1,
        "failed:other": 1,
        "vanished": 1,
    }

    assert store.retry_failed() == 2
    store.clear([State.DONE])
    after = store.totals()
    assert after["done"] == 2
    assert after["failed:corrupt"] == 1
    # The retried job fails again: a second failure of its class.
    job = claim(store)
    store.fail(job.id, OWNER, "Corrupt image: again")
    assert store.totals()["failed:corrupt"] == 2


def test_an_outcome_the_store_refuses_is_not_counted(store: JobStore, tmp_path: Path) -> None:
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    job = claim(store)
    store.finish(job.id, "someone-else", [], 1, 1)  # not the owner: refused
    assert store.totals().get("done", 0) == 0
    store.finish(job.id, OWNER, [], 1, 1)
    assert store.totals()["done"] == 1
