"""The dashboard's reads on every backend: pages by cursor, search, failure reasons, labels.

Through the ``JobStore`` protocol only, like test_store.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import OWNER, claim, new_jobs, options

from thumbgen.commands import browsing
from thumbgen.jobqueue.contract import JobStore, NewJob, State
from thumbgen.jobqueue.huey_app import Queue


def _ids(store: JobStore, **kwargs: object) -> list[int]:
    return [job.id for job in store.page(**kwargs)]  # type: ignore[arg-type]


def _walk(store: JobStore, limit: int, **kwargs: object) -> list[list[int]]:
    """Every page, each from the cursor the previous one ended at."""
    pages, after = [], None
    while True:
        page = _ids(store, after=after, limit=limit, **kwargs)
        if not page:
            return pages
        pages.append(page)
        after = page[-1]


def test_pages_follow_the_cursor_newest_or_oldest_first(store: JobStore, tmp_path: Path) -> None:
    store.submit(new_jobs(7), options(tmp_path), batch="b")
    every = [job.id for job in store.jobs()]
    assert _walk(store, 3) == [every[:-4:-1], every[-4:-7:-1], every[:1]]
    assert _walk(store, 3, newest_first=False) == [every[:3], every[3:6], every[6:]]


def test_a_page_of_one_state_skips_the_others(store: JobStore, tmp_path: Path) -> None:
    store.submit(new_jobs(6), options(tmp_path), batch="b")
    first, second = claim(store), claim(store)
    store.fail(first.id, OWNER, "broken data")
    store.finish(second.id, OWNER, [], 1, 1)
    assert _ids(store, state=State.FAILED) == [first.id]
    assert _ids(store, state=State.DONE) == [second.id]
    queued = _walk(store, 2, state=State.QUEUED, newest_first=False)
    assert [i for page in queued for i in page] == [j.id for j in store.jobs(State.QUEUED)]
    assert [len(p) for p in queued] == [2, 2]


def test_a_cleared_job_between_pages_does_not_break_the_cursor(
    store: JobStore, tmp_path: Path
) -> None:
    store.submit(new_jobs(4), options(tmp_path), batch="b")
    first = _ids(store, limit=2)
    store.cancel(ids=[first[-1]])
    store.clear([State.CANCELLED])
    assert len(_ids(store, after=first[-1], limit=2)) == 2


def test_search_finds_sources_and_labels_in_any_ascii_case(store: JobStore, tmp_path: Path) -> None:
    jobs = [
        NewJob("/src/Holiday_2024.jpg", "", 1, 1, "/out/a_*.*"),
        NewJob("/src/holiday-50%.jpg", "", 1, 1, "/out/b_*.*"),
        NewJob("/up/ab12.jpg", "", 1, 1, "/out/c_*.*"),
        NewJob("/src/other.jpg", "", 1, 1, "/out/d_*.*"),
    ]
    store.submit(jobs, options(tmp_path), batch="b")
    store.set_labels({"/up/ab12.jpg": "HOLIDAY at the beach.jpg"})
    found = store.page(query="holiday", newest_first=False)
    assert [j.source for j in found] == [
        "/src/Holiday_2024.jpg",
        "/src/holiday-50%.jpg",
        "/up/ab12.jpg",
    ]
    assert [j.label for j in found] == ["", "", "HOLIDAY at the beach.jpg"]
    # % and _ are letters in a search, not wildcards.
    assert [j.source for j in store.page(query="50%")] == ["/src/holiday-50%.jpg"]
    assert [j.source for j in store.page(query="y_2")] == ["/src/Holiday_2024.jpg"]
    # The cursor pages through matches only.
    page = store.page(query="holiday", limit=2)
    rest = store.page(query="holiday", limit=2, after=page[-1].id)
    assert [j.source for j in page + rest] == [j.source for j in reversed(found)]


def test_a_label_is_returned_by_job_and_jobs_and_the_newest_wins(
    store: JobStore, tmp_path: Path
) -> None:
    store.submit(new_jobs(1), options(tmp_path), batch="b")
    store.set_labels({"/src/img0.jpg": "first name.jpg"})
    store.set_labels({"/src/img0.jpg": "../../etc/évil\nname.jpg"})
    detail = store.job("/src/img0.jpg")
    assert detail is not None
    assert detail.job.label == "../../etc/évil\nname.jpg"
    assert store.jobs()[0].label == detail.job.label


def test_failures_are_grouped_by_reason_most_common_first(store: JobStore, tmp_path: Path) -> None:
    store.submit(new_jobs(6), options(tmp_path), batch="b")
    for error in ["truncated", "not an image", "truncated", "truncated", "not an image"]:
        store.fail(claim(store).id, OWNER, error)
    assert store.failure_reasons() == [("truncated", 3), ("not an image", 2)]
    assert store.failure_reasons(limit=1) == [("truncated", 3)]
    truncated = _ids(store, state=State.FAILED, error="truncated", limit=2)
    assert len(truncated) == 2
    more = _ids(store, state=State.FAILED, error="truncated", after=truncated[-1])
    assert len(more) == 1
    assert more[0] < truncated[-1]


@pytest.mark.parametrize("limit", [1, 50])
def test_an_empty_queue_has_empty_pages(store: JobStore, limit: int) -> None:
    assert store.page(limit=limit) == []
    assert store.page(query="x", limit=limit) == []
    assert store.failure_reasons() == []


def test_a_reason_leaves_out_the_source_so_one_kind_is_one_group(
    store: JobStore, tmp_path: Path
) -> None:
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    for _ in range(3):
        job = claim(store)
        store.fail(job.id, OWNER, f"Corrupt image: {job.source} (Truncated File Read)")
    reason = "Corrupt image: {source} (Truncated File Read)"
    assert store.failure_reasons() == [(reason, 3)]
    assert len(store.page(state=State.FAILED, error=reason)) == 3


def test_the_dashboards_failure_reasons_follow_every_change_of_the_failed_jobs(
    queue: Queue, tmp_path: Path
) -> None:
    # browsing.failure_reasons keeps its last answer while the failed jobs stay the
    # same ones: each way a job joins or leaves them must show at the next call.
    store = queue.store
    store.submit(new_jobs(5), options(tmp_path), batch="b")
    first, second = claim(store), claim(store)
    store.fail(first.id, OWNER, "broken data")
    store.fail(second.id, OWNER, "broken data")
    assert browsing.failure_reasons(queue) == [("broken data", 2)]
    assert browsing.failure_reasons(queue) == [("broken data", 2)]
    assert store.retry(ids=[first.id]) == 1  # leaves: the count drops
    assert browsing.failure_reasons(queue) == [("broken data", 1)]
    again = claim(store)  # joins with another reason: the count is back, the total is not
    store.fail(again.id, OWNER, "disk on fire", source_fault=False)
    assert browsing.failure_reasons(queue) == [("broken data", 1), ("disk on fire", 1)]
    assert store.retry(ids=[again.id]) == 1
    last = claim(store)
    store.fail(last.id, OWNER, "too dark")  # one left and one joined since the last call
    assert browsing.failure_reasons(queue, 1) == [("broken data", 1)]
    assert browsing.failure_reasons(queue) == [("broken data", 1), ("too dark", 1)]
    store.clear([State.FAILED])
    assert browsing.failure_reasons(queue) == []


def test_the_dashboards_failure_reasons_answer_every_limit_from_one_pass(
    queue: Queue, tmp_path: Path
) -> None:
    store = queue.store
    store.submit(new_jobs(3), options(tmp_path), batch="b")
    store.fail(claim(store).id, OWNER, "broken data")
    store.fail(claim(store).id, OWNER, "too dark")
    assert browsing.failure_reasons(queue, 1) == [("broken data", 1)]
    # A longer list than the one kept is made again, whole; a shorter one is cut from it.
    assert browsing.failure_reasons(queue, 50) == [("broken data", 1), ("too dark", 1)]
    assert browsing.failure_reasons(queue, 1) == [("broken data", 1)]
    assert browsing.failure_reasons(queue, 2) == [("broken data", 1), ("too dark", 1)]
