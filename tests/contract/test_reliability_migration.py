"""Older queue files (3: before worker deaths, 4: before vanished jobs) upgrade in place."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import NewJob
from thumbgen.jobqueue.sqlite import schema
from thumbgen.options import build_options


def test_a_version_3_queue_gets_the_deaths_column_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = str(tmp_path / "queue.db")
    queue = open_queue(path)
    options = build_options(["64"], out_dir=tmp_path / "out")
    jobs = [NewJob(str(tmp_path / f"{i}.jpg"), "", 10, 1) for i in range(3)]
    queue.store.submit(jobs, options, batch="b")
    queue.close()
    # Back to version 3: no deaths column, the version it had then.
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("ALTER TABLE jobs DROP COLUMN deaths")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    queue = open_queue(path)
    try:
        assert queue.store.counts().queued == 3
        assert len(queue.store.jobs()) == 3
    finally:
        queue.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        (version,) = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        deaths = {row[0] for row in db.execute("SELECT deaths FROM jobs")}
    assert "deaths" in columns
    assert version == schema.SCHEMA_VERSION
    assert deaths == {0}


def test_a_version_4_queue_gets_a_vanished_counter_that_counts(tmp_path: Path) -> None:
    path = str(tmp_path / "queue.db")
    queue = open_queue(path)
    options = build_options(["64"], out_dir=tmp_path / "out")
    queue.store.submit([NewJob(str(tmp_path / "gone.jpg"), "", 10, 1)], options, batch="b")
    queue.close()
    # Back to version 4: no counter row for the vanished state.
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("DELETE FROM job_counts WHERE state = 'vanished'")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
    queue = open_queue(path)
    try:
        job = queue.store.claim("w")
        assert job is not None
        queue.store.vanish(job.id, "w", "Source file not found: gone.jpg")
        assert queue.store.counts().vanished == 1
    finally:
        queue.close()
