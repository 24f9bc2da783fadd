"""The SQLite queue file's schema: the job store's tables and Huey's.

Huey's tables are created here, not by Huey, so that the store can create
them in its own transaction and a new file never needs Huey imported
(importing it loads its consumer, which ``status`` must not pay for).
:data:`HUEY_DDL` is a copy of ``huey.storage.SqliteStorage.ddl``;
tests/unit/jobqueue/test_huey_pins.py fails the moment the two differ.

Files on users' machines are upgraded in place by :func:`migrate` when they
are first opened by this version (tests/contract/test_sqlite_migration.py
builds a version 2 file from that version's DDL). The pause flag is a row
``('paused', time)`` in ``meta``, absent while workers may claim.
"""

from __future__ import annotations

import sqlite3

#: 3: priorities, cancelled jobs, each job's tries, pause, failures not the source's fault.
#: 4: tries that ended with their worker's death (``deaths``).
#: 5: vanished jobs (a counter row for the new state).
#: 6: each job's source version (an object's ETag).
#: 7: labels (an upload's original name), an index for paging a state by id.
#: 8: what a finished job learnt (``info``: output sizes, hashes, placeholder).
#: 9: tries ended per outcome, never lowered (``totals``: the metrics' counters).
SCHEMA_VERSION = "9"

#: Huey 3.5's ``SqliteStorage.ddl``, statement for statement.
HUEY_DDL = (
    "create table if not exists kv (queue text not null, key text not null,"
    " value blob not null, primary key(queue, key))",
    "create table if not exists schedule (id integer not null primary key,"
    " queue text not null, data blob not null, timestamp real not null)",
    "create index if not exists schedule_queue_timestamp on schedule (queue, timestamp)",
    "create table if not exists task (id integer not null primary key, queue text not null,"
    " data blob not null, priority real not null default 0.0)",
    "create index if not exists task_queue_priority_id on task (queue, priority desc, id)",
    "create table if not exists counter (queue text not null, key text not null,"
    " value integer not null default 0, primary key(queue, key))",
    "drop index if exists task_priority_id",
)

#: The tables, as a new file gets them; an older file keeps its own and gets
#: the missing columns from :data:`_ADDED_COLUMNS`.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (
    id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, options TEXT NOT NULL);
-- source, rel_dir, target and error hold TEXT, or a BLOB of the bytes of a
-- name that is not UTF-8 (text.py); TEXT affinity leaves BLOBs as they are.
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    rel_dir TEXT NOT NULL,
    target TEXT NOT NULL,
    spec_id INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    owner TEXT,
    batch TEXT,
    queued_at REAL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    outputs TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    source_fault INTEGER NOT NULL DEFAULT 1,
    -- The newest tries, a JSON array of [number, worker, host, started_at,
    -- ended_at, outcome, error]: written by the statements that change the
    -- job anyway, so a try costs no row, index or statement of its own.
    history TEXT,
    -- Tries since the job was last queued that ended with their worker's
    -- death (recover): the job fails after policy.MAX_WORKER_DEATHS.
    deaths INTEGER NOT NULL DEFAULT 0,
    -- The source's version as the store names it (an ETag); '' when unknown.
    version TEXT NOT NULL DEFAULT '',
    -- JSON made by Python once done (JobRecord.info); NULL before.
    info TEXT);
-- A name to show per source (an upload's original file name): kept apart
-- from jobs so that a label costs nothing to the transitions.
CREATE TABLE IF NOT EXISTS labels (source TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL);
-- Tries ended per outcome ('done', 'vanished', 'failed:CLASS'), only ever raised.
CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, proc_start TEXT,
    started_at REAL NOT NULL, heartbeat REAL NOT NULL,
    jobs_done INTEGER NOT NULL DEFAULT 0, current TEXT);
"""

#: Columns added since version 2, for files that have the table without them.
#: Existing failures keep counting as the source's fault, as they did.
_ADDED_COLUMNS = (
    ("jobs", "priority", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "source_fault", "INTEGER NOT NULL DEFAULT 1"),
    ("jobs", "history", "TEXT"),
    ("jobs", "deaths", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "version", "TEXT NOT NULL DEFAULT ''"),
    ("jobs", "info", "TEXT"),
)

#: Indexes, counters and triggers, once every column exists.
_AFTER_COLUMNS = """
-- Claim order: highest priority, then oldest due. Version 2 had jobs_due
-- (not_before, id); claims name their index, so the old one goes.
DROP INDEX IF EXISTS jobs_due;
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (priority DESC, not_before, id)
    WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_state_finished ON jobs (state, finished_at);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch);
CREATE INDEX IF NOT EXISTS jobs_target ON jobs (target);
-- The dashboard's pages of one state, newest or oldest first, by cursor.
CREATE INDEX IF NOT EXISTS jobs_state_id ON jobs (state, id);
-- job(source), cancel and retry by source.
CREATE INDEX IF NOT EXISTS jobs_source ON jobs (source);
INSERT OR IGNORE INTO job_counts VALUES
    ('queued', 0), ('running', 0), ('done', 0), ('failed', 0), ('cancelled', 0),
    ('vanished', 0);
-- No insert trigger: jobs are only inserted by submit, which adds them to the
-- counter in the same transaction. Version 1 had one; drop it and recount.
DROP TRIGGER IF EXISTS jobs_count_insert;
UPDATE job_counts SET n = (SELECT count(*) FROM jobs WHERE jobs.state = job_counts.state);
CREATE TRIGGER IF NOT EXISTS jobs_count_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE state = OLD.state; END;
CREATE TRIGGER IF NOT EXISTS jobs_count_update AFTER UPDATE OF state ON jobs
    WHEN OLD.state <> NEW.state BEGIN
    UPDATE job_counts SET n = n - 1 WHERE state = OLD.state;
    UPDATE job_counts SET n = n + 1 WHERE state = NEW.state; END;
"""


def statements() -> list[str]:
    """A new file's schema as single statements, Huey's first."""
    return [*HUEY_DDL, *_split(_TABLES), *_split(_AFTER_COLUMNS)]


def migrate(db: sqlite3.Connection) -> None:
    """Bring a file of any earlier version (or none) to :data:`SCHEMA_VERSION`, in place.

    Runs in the caller's write transaction (executescript() would commit it)
    and only when the version differs, so it may be slow: it recounts.
    Every step is idempotent: two processes upgrading at once do no harm.
    """
    for statement in (*HUEY_DDL, *_split(_TABLES)):
        db.execute(statement)
    for table, column, declaration in _ADDED_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    for statement in _split(_AFTER_COLUMNS):
        db.execute(statement)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))


def _split(script: str) -> list[str]:
    """``script`` as single statements (triggers hold inner semicolons)."""
    result, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current)
        if sqlite3.complete_statement(text):
            result.append(text)
            current = []
    return result
