"""Any Linux file name goes through the store and comes back exactly, on every backend.

Linux names are bytes; one that is not UTF-8 reaches Python as a ``str``
with surrogate escapes (``os.fsdecode(b"bad\\xffbyte.jpg")`` holds U+DCFF).
Such a name once raised UnicodeEncodeError in job_key and queued nothing of
its batch.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from store_helpers import OWNER, claim, options

from thumbgen.jobqueue.contract import Counts, NewJob, State, WorkerInfo
from thumbgen.jobqueue.huey_app import Queue

BAD = os.fsdecode(b"/src/bad\xffbyte.jpg")
NAMES = [
    "/src/plain.jpg",
    BAD,
    "/src/caf\u00e9.jpg",  # valid UTF-8 beside it: stored as text, as always
    os.fsdecode(b"/src/\xe9t\xe9 latin-1.jpg"),
    "/src/new\nline.jpg",
]


def _job(source: str, rel_dir: str = "") -> NewJob:
    return NewJob(source, rel_dir, 100, 1, source.replace("/src/", "/out/") + "_*.*")


def test_a_name_that_is_not_utf8_is_queued_with_the_rest_of_its_batch(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    result = store.submit([_job(n) for n in NAMES], options(tmp_path), batch="b")
    assert result.queued == len(NAMES)
    assert [r.source for r in store.jobs()] == NAMES
    assert store.counts() == Counts(queued=len(NAMES))


def test_such_a_name_is_claimed_finished_and_found_as_it_was_given(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    bad_dir = os.fsdecode(b"sub\xfe")
    output = os.fsdecode(b"/out/bad\xffbyte_64.jpg")
    opts = options(tmp_path)
    now = time.time()
    store.register_worker(WorkerInfo(OWNER, "here", 1, None, now, now, 0, None))
    store.submit([_job(n, bad_dir if n == BAD else "") for n in NAMES], opts, batch="b")
    claimed = {}
    for _ in NAMES:
        job = claim(store)
        claimed[job.source] = job
        if job.source == BAD:
            assert job.rel_dir == bad_dir
            assert [w.current for w in store.workers()] == [BAD]
            store.finish(job.id, OWNER, [output], 100, 1)
        else:
            store.finish(job.id, OWNER, [], 100, 1)
    assert sorted(claimed) == sorted(NAMES)

    detail = store.job(BAD)
    assert detail is not None
    assert (detail.job.source, detail.job.state) == (BAD, State.DONE)
    assert detail.job.outputs == (output,)
    assert store.job(claimed[BAD].id) == detail
    # The same name with U+00FF instead of the byte 0xFF is another name.
    assert store.job("/src/bad\u00ffbyte.jpg") is None
    assert store.counts() == Counts(done=len(NAMES))


def test_such_a_name_is_fresh_failed_before_and_steerable_like_any_other(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    opts = options(tmp_path)
    store.submit([_job(BAD)], opts, batch="b")
    error = f"Corrupt image: {BAD} (broken data stream)"
    store.fail(claim(store).id, OWNER, error)
    again = store.submit([_job(BAD)], opts, batch="b2")
    assert again.failed_before == [(BAD, error)]
    assert [(f.source, f.error) for f in store.failures()] == [(BAD, error)]
    assert [(f.source, f.error) for f in store.batch_failures("b")] == [(BAD, error)]
    assert store.retry(sources=[BAD]) == 1
    assert store.cancel(sources=[BAD]) == 1
    dry = store.submit([_job(BAD)], opts, batch="b3", dry_run=True)
    assert dry.would_queue == [BAD]


@pytest.mark.parametrize("owner_name", [BAD, "/src/plain.jpg"])
def test_targets_with_such_names_still_conflict(
    queue: Queue, tmp_path: Path, owner_name: str
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    owner = os.path.join(str(first), os.path.basename(owner_name))
    with open(os.fsencode(owner), "wb") as f:
        f.write(b"x")  # the owner exists, so it keeps its target
    target = os.fsdecode(b"/out/shared\xff_*.*")
    jobs = [NewJob(owner, "", 1, 1, target), NewJob(BAD + ".png", "", 1, 1, target)]
    store = queue.store
    assert store.submit(jobs[:1], options(tmp_path), batch="b1").queued == 1
    later = store.submit(jobs[1:], options(tmp_path), batch="b2")
    assert later.conflicts == [(BAD + ".png", owner)]
