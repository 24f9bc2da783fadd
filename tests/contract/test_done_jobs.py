"""done_jobs and cancelling a gone source's done job, on every backend.

What ``--manifest`` is made from (:mod:`thumbgen.commands.manifest`): the
done jobs with their options and info, and a source seen to go under
``watch --mirror-deletes`` leaving them (cancel with ``vanished``). The
manifest's own tests run on SQLite (tests/unit/test_manifest.py uses the
root ``queue`` fixture); these hold the Redis backend to the same contract.
"""

from __future__ import annotations

from pathlib import Path

from store_helpers import OWNER, claim, new_jobs, options, true_counts

from thumbgen.jobqueue.contract import Counts, NewJob, State
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import Options

INFO = {"average_colour": "#102030", "outputs": [{"width": 64, "height": 48}]}


def _finish_all(queue: Queue, info: dict[str, object] | None = INFO) -> list[int]:
    store, ids = queue.store, []
    while (job := store.claim(OWNER)) is not None:
        store.finish(job.id, OWNER, [f"/out/{job.id}.jpg"], 100, 1, "", info)
        ids.append(job.id)
    return ids


def test_done_jobs_are_the_done_ones_in_id_order_with_options_and_info(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    small, large = options(tmp_path, "64"), options(tmp_path, "512")
    store.submit(new_jobs(3), small, batch="b")
    store.submit(new_jobs(2, prefix="big"), large, batch="b")
    done = _finish_all(queue)
    store.submit(new_jobs(1, prefix="late"), small, batch="c")  # queued: not listed
    claim(store)  # running: not listed either

    listed = store.done_jobs()
    assert [r.id for r, _ in listed] == sorted(done)
    assert all(r.state is State.DONE and r.info == INFO for r, _ in listed)
    by_source = {r.source: o for r, o in listed}
    assert by_source["/src/img0.jpg"] == small
    assert by_source["/src/big1.jpg"] == large
    assert store.done_jobs(lambda o: o == large) == [p for p in listed if p[1] == large]


def test_done_jobs_match_is_asked_once_per_distinct_options(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(4), options(tmp_path, "64"), batch="b")
    store.submit(new_jobs(3, prefix="x"), options(tmp_path, "128"), batch="b")
    _finish_all(queue)
    asked: list[Options] = []
    store.done_jobs(lambda o: asked.append(o) is None)
    assert len(asked) == 2


def test_a_source_queued_again_leaves_done_jobs_until_done(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit(new_jobs(2), opts, batch="b")
    _finish_all(queue)
    store.submit([NewJob("/src/img0.jpg", "", 200, 2, "/out/img0_*.*")], opts, batch="c")
    assert [r.source for r, _ in store.done_jobs()] == ["/src/img1.jpg"]
    _finish_all(queue)
    assert sorted(r.source for r, _ in store.done_jobs()) == ["/src/img0.jpg", "/src/img1.jpg"]


def test_cancel_as_vanished_takes_a_gone_sources_done_job(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    (first, *_) = _finish_all(queue)
    assert store.cancel(sources=["/src/img0.jpg"], vanished=True) == 1
    assert store.counts() == Counts(done=2, vanished=1)
    assert true_counts(store) == store.counts()
    assert sorted(r.source for r, _ in store.done_jobs()) == ["/src/img1.jpg", "/src/img2.jpg"]
    (gone,) = store.jobs(State.VANISHED)
    assert gone.id == first
    assert gone.finished_at is not None
    # A plain cancel, or one naming no source, leaves done jobs alone.
    assert store.cancel(sources=["/src/img1.jpg"]) == 0
    assert store.cancel(vanished=True) == 0
    assert store.counts() == Counts(done=2, vanished=1)
    # Back and queued again, it is done again once finished.
    assert store.retry(sources=["/src/img0.jpg"]) == 1
    _finish_all(queue)
    assert len(store.done_jobs()) == 3
