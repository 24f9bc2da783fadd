"""What a finished job learnt (``info``) is kept with it, on every backend.

Manifests are made from it without re-running anything, so it must come back
exactly as recorded, be cleared when the job is queued again, and belong to
the owner's try only.
"""

from __future__ import annotations

from pathlib import Path

from store_helpers import OWNER, claim, new_jobs, options

from thumbgen.jobqueue.contract import NewJob, State
from thumbgen.jobqueue.huey_app import Queue

INFO = {
    "source": {"width": 4000, "height": 3000, "orientation": 6},
    "average_colour": "#7f6a55",
    "placeholder": {"kind": "thumbhash", "value": "1QcSHQRnh493V4dIh4eXh1h4kJUI"},
    "outputs": [{"width": 64, "height": 48, "bytes": 2048, "hash": "ab" * 8, "crop": None}],
    "name": "caf\udce9.jpg",  # a name that is not UTF-8 survives too
}


def test_finish_keeps_info_and_every_read_gives_it_back(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(2), options(tmp_path), batch="b")
    first, second = claim(store), claim(store)
    store.finish(first.id, OWNER, ["/out/a.jpg"], 100, 1, "", INFO)
    store.finish(second.id, OWNER, ["/out/b.jpg"], 100, 1)  # no info: None

    detail = store.job(first.id)
    assert detail is not None
    assert detail.job.info == INFO
    by_id = {r.id: r for r in store.jobs(State.DONE)}
    assert by_id[first.id].info == INFO
    assert by_id[second.id].info is None


def test_info_goes_when_the_job_is_queued_again(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit([NewJob("/src/a.jpg", "", 1, 1)], opts, batch="b")
    job = claim(store)
    store.finish(job.id, OWNER, [], 1, 1, "", INFO)
    # Changed since: queued again, and what the old version gave is gone.
    result = store.submit([NewJob("/src/a.jpg", "", 2, 2)], opts, batch="c")
    assert result.queued == 1
    detail = store.job(job.id)
    assert detail is not None
    assert (detail.job.state, detail.job.info) == (State.QUEUED, None)


def test_a_late_finish_from_a_former_owner_records_no_info(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    job = claim(store)
    store.finish(job.id, "someone-else", [], 1, 1, "", INFO)
    detail = store.job(job.id)
    assert detail is not None
    assert (detail.job.state, detail.job.info) == (State.RUNNING, None)
