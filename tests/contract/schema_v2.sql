-- A version 2 queue file's schema, as thumbgen made them until schema 3.
-- The job store's part is _SCHEMA of thumbgen/sqlite_schema.py at commit ce3e6a8,
-- verbatim; Huey's tables are huey 3.5's SqliteStorage.ddl, which v2 files hold too.
-- tests/contract/test_sqlite_migration.py builds a file from it; never edit it.
create table if not exists kv (queue text not null, key text not null, value blob not null, primary key(queue, key));
create table if not exists schedule (id integer not null primary key, queue text not null, data blob not null, timestamp real not null);
create index if not exists schedule_queue_timestamp on schedule (queue, timestamp);
create table if not exists task (id integer not null primary key, queue text not null, data blob not null, priority real not null default 0.0);
create index if not exists task_queue_priority_id on task (queue, priority desc, id);
create table if not exists counter (queue text not null, key text not null, value integer not null default 0, primary key(queue, key));
drop index if exists task_priority_id;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (
    id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, options TEXT NOT NULL);
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
    outputs TEXT);
CREATE INDEX IF NOT EXISTS jobs_state_finished ON jobs (state, finished_at);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (not_before, id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch);
CREATE INDEX IF NOT EXISTS jobs_target ON jobs (target);
CREATE TABLE IF NOT EXISTS job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR IGNORE INTO job_counts VALUES ('queued', 0), ('running', 0), ('done', 0), ('failed', 0);
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
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, proc_start TEXT,
    started_at REAL NOT NULL, heartbeat REAL NOT NULL,
    jobs_done INTEGER NOT NULL DEFAULT 0, current TEXT);
