"""Queue files made by earlier versions are upgraded in place and keep working (SQLite only).

Version 2 files exist on users' machines: schema_v2.sql is that version's
DDL, verbatim. A file built from it, with jobs in every state written the
way version 2 wrote them, is opened by this version and used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from store_helpers import OWNER, claim, run_by_tokens

from thumbgen.errors import QueueError
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import Counts, NewJob, Outcome, State
from thumbgen.jobqueue.sqlite import db as sqlite_db
from thumbgen.jobqueue.sqlite import schema
from thumbgen.options import Options, build_options

V2_DDL = (Path(__file__).parent / "schema_v2.sql").read_text()
#: (source, state, outputs, error) of the jobs the version 2 file holds.
V2_JOBS = [
    ("/src/q0.jpg", "queued", None, None),
    ("/src/q1.jpg", "queued", None, None),
    ("/src/run.jpg", "running", None, None),
    ("/src/done.jpg", "done", "OUTPUT", None),
    ("/src/bad.jpg", "failed", None, "Corrupt image: /src/bad.jpg (broken data stream)"),
]


def _v2_key(source: str, digest: str) -> str:
    """Version 2's job key, spelled out: UTF-8 names must keep their keys."""
    return hashlib.sha1(f"{source}\0\0{digest}".encode()).hexdigest()[:24]


def _sql(path: str, query: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(query).fetchall()


def build_v2_file(path: str, options: Options, output: str) -> None:
    """A version 2 queue file with :data:`V2_JOBS` and a token per queued job."""
    token = _token(path + ".scratch")
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(V2_DDL)
        db.execute("INSERT INTO meta VALUES ('schema', '2')")
        db.execute("INSERT INTO specs VALUES (1, ?, ?)", (options.digest, options.to_json()))
        now = time.time()
        for source, state, outputs, error in V2_JOBS:
            stem = source.rsplit("/", 1)[1].split(".")[0]
            done = state in ("done", "failed")
            db.execute(
                "INSERT INTO jobs (key, source, rel_dir, target, spec_id, size, mtime_ns, state,"
                " attempts, not_before, owner, batch, queued_at, started_at, finished_at, error,"
                " outputs) VALUES (?, ?, '', ?, 1, 100, 1, ?, ?, ?, ?, 'v2', ?, ?, ?, ?, ?)",
                (
                    _v2_key(source, options.digest),
                    source,
                    f"/out/{stem}_*.*",
                    state,
                    0 if state == "queued" else 1,
                    now,
                    "v2-worker-long-gone" if state == "running" else None,
                    now,
                    None if state == "queued" else now,
                    now if done else None,
                    error,
                    None if outputs is None else json.dumps([output]),
                ),
            )
            if state == "queued":
                db.execute("INSERT INTO task (queue, data, priority) VALUES (?, ?, 0)", token)
        # Version 2 counted inserts in submit, not by trigger: count them the same way.
        db.execute(
            "UPDATE job_counts SET n = (SELECT count(*) FROM jobs WHERE state = job_counts.state)"
        )


def _token(scratch: str) -> tuple[str, bytes]:
    """A token as thumbgen's Huey serializes it (the same task then and now)."""
    queue = open_queue(scratch)
    try:
        return queue.queue_name, queue.immediate()
    finally:
        queue.close()


@pytest.fixture
def v2_file(tmp_path: Path) -> tuple[str, Options]:
    """A version 2 queue file, and the options its jobs were queued with."""
    output = tmp_path / "out" / "done_64.jpg"
    output.parent.mkdir()
    output.write_bytes(b"x")  # the done job's thumbnail is there: it is up to date
    options = build_options(["64"], out_dir=tmp_path / "out")
    path = str(tmp_path / "queue.db")
    build_v2_file(path, options, str(output))
    return path, options


def test_a_version_2_file_is_upgraded_and_keeps_its_jobs(v2_file: tuple[str, Options]) -> None:
    path, options = v2_file
    queue = open_queue(path)
    try:
        store = queue.store
        assert store.counts() == Counts(queued=2, running=1, done=1, failed=1)
        assert [(r.source, r.state.value, r.priority) for r in store.jobs()] == [
            (source, state, 0) for source, state, _, _ in V2_JOBS
        ]
        assert store.paused() is False
        # Keys and decisions as before: up to date, failed before, pending.
        again = store.submit(_new(), options, batch="v3")
        assert again.up_to_date == 1
        assert again.failed_before == [("/src/bad.jpg", V2_JOBS[4][3])]
        assert len(again.pending_ids) == 3
        assert again.queued == 0
    finally:
        queue.close()
    assert _sql(path, "SELECT value FROM meta WHERE key = 'schema'") == [(schema.SCHEMA_VERSION,)]
    indexes = {name for (name,) in _sql(path, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"jobs_claim", "jobs_source"} <= indexes
    assert "jobs_due" not in indexes


def _new() -> list[NewJob]:
    return [
        NewJob(source, "", 100, 1, f"/out/{source.rsplit('/', 1)[1].split('.')[0]}_*.*")
        for source, *_ in V2_JOBS
    ]


def test_an_upgraded_file_runs_steers_and_records_attempts(v2_file: tuple[str, Options]) -> None:
    path, options = v2_file
    queue = open_queue(path)
    try:
        store = queue.store
        assert store.recover(time.time()) == 1  # the version 2 worker is gone
        assert sorted(run_by_tokens(queue)) == ["/src/q0.jpg", "/src/q1.jpg", "/src/run.jpg"]
        detail = store.job("/src/run.jpg")
        assert detail is not None
        assert detail.options == options
        # Tries made under version 2 left no rows; the one made now did.
        assert [a.outcome for a in detail.attempts] == [Outcome.DONE]
        assert store.retry(sources=["/src/bad.jpg"]) == 1
        other = build_options(["128"], out_dir=options.out_dir)
        store.submit(_new()[:1], other, batch="b", priority=5)
        store.pause()
        assert store.claim(OWNER) is None
        store.resume()
        first = claim(store)
        assert (first.source, first.options) == ("/src/q0.jpg", other)  # priority 5 first
        assert store.cancel() == 1  # /src/bad.jpg, retried above
        assert store.clear([State.CANCELLED, State.DONE]) == 5
        assert store.counts() == Counts(running=1)
        assert store.counts() == Counts(**{s.value: len(store.jobs(s)) for s in State})
    finally:
        queue.close()


def test_an_upgraded_file_opens_again_without_the_write_lock(
    v2_file: tuple[str, Options], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = v2_file
    open_queue(path).close()  # the upgrade
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT", 0.2)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # a writer in the middle of a submit
        try:
            for readonly in (False, True):
                queue = open_queue(path, readonly=readonly)
                assert queue.store.counts().total == len(V2_JOBS)
                queue.close()
        finally:
            other.execute("ROLLBACK")


def test_a_read_only_open_by_a_user_who_may_write_upgrades_the_file(
    v2_file: tuple[str, Options],
) -> None:
    path, _ = v2_file
    queue = open_queue(path, create=False, readonly=True)
    try:
        assert queue.store.counts() == Counts(queued=2, running=1, done=1, failed=1)
        assert queue.store.job("/src/done.jpg") is not None
    finally:
        queue.close()
    assert _sql(path, "SELECT value FROM meta WHERE key = 'schema'") == [(schema.SCHEMA_VERSION,)]


def test_a_version_2_failure_still_counts_as_the_sources_fault(
    v2_file: tuple[str, Options],
) -> None:
    path, _ = v2_file
    queue = open_queue(path)
    try:
        assert queue.store.claim(OWNER) is not None  # the migration left claims working
    finally:
        queue.close()
    assert _sql(path, "SELECT source_fault FROM jobs WHERE state = 'failed'") == [(1,)]


def test_a_newer_file_is_refused_not_downgraded(tmp_path: Path) -> None:
    path = str(tmp_path / "queue.db")
    open_queue(path).close()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(QueueError, match=r"made by a newer thumbgen \(schema 99"):
        open_queue(path)
    assert _sql(path, "SELECT value FROM meta WHERE key = 'schema'") == [("99",)]
