"""What is particular to the SQLite backend: its file, its SQL, Huey's tables inside it.

The behaviour every backend shares is in test_store.py and its siblings;
these tests read the queue file with sqlite3 or reach the store's
connection, so they run on SQLite only (opening and read-only access:
test_sqlite_open.py; upgrades of older files: test_sqlite_migration.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from thumbgen.errors import QueueError
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import QUEUE_NAME, Counts, NewJob, State
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.jobqueue.sqlite import db as sqlite_db
from thumbgen.jobqueue.sqlite import schema
from thumbgen.options import Options, build_options

OWNER = "test-owner"


@pytest.fixture
def queue(queue_path: str) -> Iterator[Queue]:
    """A SQLite queue in the test's folder (not parametrized: this file is SQLite's own)."""
    q = open_queue(queue_path)
    yield q
    q.close()


def _options(tmp_path: Path) -> Options:
    return build_options(["64"], out_dir=tmp_path / "out")


def _jobs(n: int) -> list[NewJob]:
    return [NewJob(f"/src/img{i}.jpg", "", 100, 1, f"/out/img{i}_*.*") for i in range(n)]


def _sql(queue: Queue, query: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(queue.location)) as db:
        return db.execute(query).fetchall()


def test_tokens_are_rows_of_hueys_task_table(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(5), _options(tmp_path), batch="b")
    rows = _sql(queue, "SELECT queue, priority, data FROM task")
    assert len(rows) == 5
    assert {(name, priority) for name, priority, _ in rows} == {(QUEUE_NAME, 0)}
    tasks = [queue.huey.deserialize_task(data) for _, _, data in rows]
    assert {t.name for t in tasks} == {"run_token"}
    assert _sql(queue, "SELECT count(*) FROM schedule") == [(0,)]


def test_retry_later_writes_the_due_time_into_hueys_schedule(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.retry_later(job.id, OWNER, "Cannot write: disk full", delay=60)
    ((due,),) = _sql(queue, "SELECT timestamp FROM schedule")
    assert due > time.time() + 50


def test_clear_all_empties_hueys_tables(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(2), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.retry_later(job.id, OWNER, "busy", delay=60)
    queue.store.clear(list(State))
    counts = "SELECT (SELECT count(*) FROM task), (SELECT count(*) FROM schedule)"
    assert _sql(queue, counts) == [(0, 0)]


def test_counters_match_a_count_of_the_rows(queue: Queue, tmp_path: Path) -> None:
    store = queue.store
    store.submit(_jobs(6), _options(tmp_path), batch="b")
    jobs = [store.claim(OWNER) for _ in range(5)]
    assert all(jobs)
    store.finish(jobs[0].id, OWNER, [], 1, 1)  # type: ignore[union-attr]
    store.fail(jobs[1].id, OWNER, "bad")  # type: ignore[union-attr]
    store.retry_later(jobs[2].id, OWNER, "busy", 0)  # type: ignore[union-attr]
    store.release(jobs[3].id, OWNER)  # type: ignore[union-attr]
    store.retry_failed()
    store.clear([State.DONE])
    rows = dict(_sql(queue, "SELECT state, count(*) FROM jobs GROUP BY state"))
    assert store.counts() == Counts(**{s.value: rows.get(s.value, 0) for s in State})


@pytest.mark.parametrize("priorities", [1, 3])
def test_a_claim_costs_the_same_with_many_jobs_queued(
    queue: Queue, tmp_path: Path, priorities: int
) -> None:
    # Counted in SQLite VM steps, not seconds: sorting every queued row made a
    # claim O(n) (26 ms at 100,000 queued); the claim index (priority DESC,
    # not_before, id) makes it O(log n) with priorities too.
    jobs = [NewJob(f"/src/{i}.jpg", "", 1, 1, f"/out/{i}") for i in range(20_000)]
    for p in range(priorities):
        queue.store.submit(jobs[p::priorities], _options(tmp_path), batch="b", priority=p)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    store: Any = queue.store  # the SQLite store's own connection
    store._conn.set_progress_handler(count, 1000)
    job = queue.store.claim(OWNER)
    assert job is not None
    assert job.source == f"/src/{priorities - 1}.jpg"
    assert steps[0] < 5, f"{steps[0]} thousand VM steps for one claim"


def test_the_claim_reads_the_claim_index(queue: Queue) -> None:
    plan = _sql(
        queue,
        "EXPLAIN QUERY PLAN SELECT id FROM jobs INDEXED BY jobs_claim"
        " WHERE state = 'queued' AND not_before <= 0 ORDER BY priority DESC, not_before, id"
        " LIMIT 1",
    )
    details = " ".join(str(row[-1]) for row in plan)
    assert "jobs_claim" in details
    assert "TEMP B-TREE" not in details  # no sort: the index is in claim order


def test_a_name_that_is_not_utf8_is_a_blob_of_its_bytes(queue: Queue, tmp_path: Path) -> None:
    bad = os.fsdecode(b"/src/bad\xffbyte.jpg")
    jobs = [NewJob(bad, "", 1, 1, bad + "_*.*"), NewJob("/src/caf\u00e9.jpg", "", 1, 1, "/o")]
    queue.store.submit(jobs, _options(tmp_path), batch="b")
    rows = _sql(queue, "SELECT typeof(source), source, typeof(target) FROM jobs ORDER BY id")
    assert rows == [
        ("blob", b"/src/bad\xffbyte.jpg", "blob"),
        ("text", "/src/caf\u00e9.jpg", "text"),  # UTF-8 names stay readable text
    ]


def test_pause_is_a_row_of_meta(queue: Queue) -> None:
    queue.store.pause()
    assert [key for (key,) in _sql(queue, "SELECT key FROM meta ORDER BY key")] == [
        "paused",
        "schema",
    ]
    queue.store.resume()
    assert _sql(queue, "SELECT count(*) FROM meta WHERE key = 'paused'") == [(0,)]


def test_tries_are_kept_in_the_jobs_own_row(queue: Queue, tmp_path: Path) -> None:
    # No table of their own: the statements that change the job record them.
    queue.store.submit(_jobs(2), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.fail(job.id, OWNER, "Cannot write /out/x", source_fault=False)
    ((history, fault),) = _sql(queue, f"SELECT history, source_fault FROM jobs WHERE id = {job.id}")
    ((number, worker, host, started, ended, outcome, error),) = json.loads(history)
    assert (number, worker, host, outcome, error) == (1, OWNER, "", "failed", "Cannot write /out/x")
    assert started <= ended
    assert fault == 0
    tables = {name for (name,) in _sql(queue, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "attempts" not in tables


def test_opening_a_queue_does_not_wait_for_a_writer(
    queue: Queue, queue_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a short busy timeout, an open that needed the write lock would fail.
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT", 0.2)
    with contextlib.closing(sqlite3.connect(queue_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another process in the middle of a submit
        try:
            second = open_queue(queue_path)
            assert second.store.counts() == Counts()
            second.close()
        finally:
            other.execute("ROLLBACK")


def test_outputs_are_stored_as_a_json_list(queue: Queue, tmp_path: Path) -> None:
    queue.store.submit(_jobs(1), _options(tmp_path), batch="b")
    job = queue.store.claim(OWNER)
    assert job is not None
    queue.store.finish(job.id, OWNER, ["/a.jpg", "/b.jpg"], 1, 1)
    ((outputs,),) = _sql(queue, "SELECT outputs FROM jobs")
    assert json.loads(outputs) == ["/a.jpg", "/b.jpg"]


def test_a_file_that_is_not_a_database_gives_a_queue_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(QueueError, match=r"Cannot use queue .*bad\.db: file is not a database"):
        open_queue(str(bad))


def test_a_version_1_queue_gets_its_insert_trigger_dropped_and_is_recounted(
    queue: Queue, queue_path: str, tmp_path: Path
) -> None:
    queue.store.submit(_jobs(3), _options(tmp_path), batch="b")
    queue.close()
    # Back to version 1: counted inserts with a trigger, and the counter is off.
    with contextlib.closing(sqlite3.connect(queue_path, isolation_level=None)) as db:
        db.execute(
            "CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN"
            " UPDATE job_counts SET n = n + 1 WHERE state = NEW.state; END"
        )
        db.execute("UPDATE job_counts SET n = 99 WHERE state = 'queued'")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")

    reopened = open_queue(queue_path)
    try:
        assert reopened.store.counts() == Counts(queued=3)
        more = [NewJob(f"/src/new{i}.jpg", "", 1, 1, f"/out/new{i}") for i in range(2)]
        reopened.store.submit(more, _options(tmp_path), batch="b2")
        assert reopened.store.counts() == Counts(queued=5)  # counted once, not twice
    finally:
        reopened.close()
    triggers = _sql(reopened, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert "jobs_count_insert" not in {name for (name,) in triggers}
    assert _sql(reopened, "SELECT value FROM meta WHERE key = 'schema'") == [
        (schema.SCHEMA_VERSION,)
    ]
