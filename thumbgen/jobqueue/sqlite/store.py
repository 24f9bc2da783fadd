"""The SQLite job store: jobs, counters and workers in the same file as Huey's queue.

Sharing the file is what makes submits atomic: a job row and its token (a
row in Huey's ``task`` table) commit together. Counters per state are kept by
triggers (and, for inserts, by submit in the same transaction), so ``status``
reads four rows whatever the queue holds.

Durability: WAL with ``synchronous=NORMAL`` survives any process crash. A
submit is committed with ``synchronous=FULL``, so what ``add`` reports as
queued also survives power loss; later state changes may roll back a few
seconds on power loss, which only means some jobs run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Sequence

from thumbgen.jobqueue import liveness
from thumbgen.jobqueue.contract import Counts, Failure, Job, NewJob, State, SubmitResult, WorkerInfo
from thumbgen.options import Options

from .db import SqliteDb, Tokens

_CHUNK = 500  # bound parameters per IN (...) query


def job_key(source: str, rel_dir: str, digest: str) -> str:
    """A job's identity: one job per source, output folder and options."""
    return hashlib.sha1(f"{source}\0{rel_dir}\0{digest}".encode()).hexdigest()[:24]


class SqliteStore(SqliteDb):
    """:class:`~thumbgen.store.JobStore` on one SQLite file; one instance per thread."""

    def __init__(self, path: str, tokens: Tokens) -> None:
        super().__init__(path, tokens)
        self._options: dict[int, Options] = {}

    def _spec_id(self, db: sqlite3.Connection, options: Options) -> int:
        digest = options.digest
        db.execute(
            "INSERT OR IGNORE INTO specs (digest, options) VALUES (?, ?)",
            (digest, options.to_json()),
        )
        row = db.execute("SELECT id FROM specs WHERE digest = ?", (digest,)).fetchone()
        return int(row[0])

    def _options_for(self, spec_id: int) -> Options:
        if spec_id not in self._options:
            row = self._conn.execute(
                "SELECT options FROM specs WHERE id = ?", (spec_id,)
            ).fetchone()
            self._options[spec_id] = Options.from_json(row[0])
        return self._options[spec_id]

    # -- submitting -------------------------------------------------------

    def submit(
        self, jobs: Sequence[NewJob], options: Options, *, batch: str, force: bool = False
    ) -> SubmitResult:
        """Queue ``jobs`` in one durable transaction; see :class:`~thumbgen.store.JobStore`."""
        result = SubmitResult()
        if not jobs:
            return result
        digest = options.digest
        now = time.time()
        keyed = {job_key(j.source, j.rel_dir, digest): j for j in jobs}
        self._conn.execute("PRAGMA synchronous = FULL")
        try:
            with self._write() as db:
                spec_id = self._spec_id(db, options)
                existing = self._existing(db, list(keyed))
                owners = self._target_owners(db, [j.target for j in keyed.values()])
                inserts = []
                requeue = []
                for key, job in keyed.items():
                    owner = owners.setdefault(job.target, job.source)
                    if owner != job.source and os.path.exists(owner):
                        result.conflicts.append((job.source, owner))
                        continue
                    row = existing.get(key)
                    if row is None:
                        inserts.append(
                            (key, job.source, job.rel_dir, job.target, spec_id, job.size,
                             job.mtime_ns, now, batch, now)
                        )  # fmt: skip
                        continue
                    job_id, state, size, mtime_ns, outputs, error = row
                    same = (size, mtime_ns) == (job.size, job.mtime_ns)
                    if state in (State.QUEUED, State.RUNNING):
                        result.pending_ids.append(job_id)
                    elif force or not same:
                        requeue.append((job.size, job.mtime_ns, now, batch, now, job_id))
                    elif state == State.FAILED:
                        result.failed_before.append((job.source, error or "failed"))
                    elif _outputs_exist(outputs):
                        result.up_to_date += 1
                    else:
                        requeue.append((job.size, job.mtime_ns, now, batch, now, job_id))
                db.executemany(
                    "INSERT INTO jobs (key, source, rel_dir, target, spec_id, size, mtime_ns,"
                    " state, not_before, batch, queued_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                    inserts,
                )
                db.executemany(
                    "UPDATE jobs SET state = 'queued', size = ?, mtime_ns = ?, attempts = 0,"
                    " not_before = ?, owner = NULL, batch = ?, queued_at = ?, started_at = NULL,"
                    " finished_at = NULL, error = NULL, outputs = NULL WHERE id = ?",
                    requeue,
                )
                # Inserts are counted here, once per submit: a per-row trigger
                # cost a third of the submit time (updates still use triggers).
                db.execute(
                    "UPDATE job_counts SET n = n + ? WHERE state = 'queued'", (len(inserts),)
                )
                result.queued = len(inserts) + len(requeue)
                self._add_tokens(db, result.queued)
        finally:
            self._conn.execute("PRAGMA synchronous = NORMAL")
        return result

    def _target_owners(self, db: sqlite3.Connection, targets: list[str]) -> dict[str, str]:
        """The source that already owns each target (the first one queued for it)."""
        owners: dict[str, str] = {}
        unique = sorted(set(targets))
        for i in range(0, len(unique), _CHUNK):
            chunk = unique[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for target, source in db.execute(
                f"SELECT target, source FROM jobs WHERE target IN ({marks}) ORDER BY id DESC",
                chunk,
            ):
                owners[target] = source
        return owners

    def _existing(
        self, db: sqlite3.Connection, keys: list[str]
    ) -> dict[str, tuple[int, str, int, int, str | None, str | None]]:
        found = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in db.execute(
                "SELECT key, id, state, size, mtime_ns, outputs, error FROM jobs"
                f" WHERE key IN ({marks})",
                chunk,
            ):
                found[row[0]] = row[1:]
        return found

    # -- running ----------------------------------------------------------

    def claim(self, owner: str) -> Job | None:
        """Claim the oldest due job; see :class:`~thumbgen.store.JobStore`."""
        now = time.time()
        with self._write() as db:
            rows = db.execute(
                "UPDATE jobs SET state = 'running', owner = ?, attempts = attempts + 1,"
                " started_at = ? WHERE id = (SELECT id FROM jobs INDEXED BY jobs_due"
                " WHERE state = 'queued' AND not_before <= ? ORDER BY not_before, id LIMIT 1)"
                " RETURNING id, source, rel_dir, spec_id, attempts",
                (owner, now, now),
            ).fetchall()
            if not rows:
                return None
            job_id, source, rel_dir, spec_id, attempts = rows[0]
            db.execute("UPDATE workers SET current = ? WHERE id = ?", (source, owner))
            options = self._options_for(spec_id)
        return Job(job_id, source, rel_dir, options, attempts)

    def _end(self, job_id: int, owner: str, sql: str, params: Sequence[object]) -> bool:
        with self._write() as db:
            changed = db.execute(
                sql + " WHERE id = ? AND owner = ? AND state = 'running'",
                (*params, job_id, owner),
            ).rowcount
            db.execute(
                "UPDATE workers SET jobs_done = jobs_done + 1, current = NULL WHERE id = ?",
                (owner,),
            )
            return changed == 1

    def finish(
        self, job_id: int, owner: str, outputs: Sequence[str], size: int, mtime: int
    ) -> None:
        """Mark a job done; see :class:`~thumbgen.store.JobStore`."""
        self._end(
            job_id,
            owner,
            "UPDATE jobs SET state = 'done', owner = NULL, finished_at = ?, outputs = ?,"
            " size = ?, mtime_ns = ?, error = NULL",
            (time.time(), json.dumps(list(outputs)), size, mtime),
        )

    def fail(self, job_id: int, owner: str, error: str) -> None:
        """Mark a job failed; see :class:`~thumbgen.store.JobStore`."""
        self._end(
            job_id,
            owner,
            "UPDATE jobs SET state = 'failed', owner = NULL, finished_at = ?, error = ?",
            (time.time(), error),
        )

    def retry_later(self, job_id: int, owner: str, error: str, delay: float) -> None:
        """Requeue a job for a later try; see :class:`~thumbgen.store.JobStore`."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?, error = ?"
                " WHERE id = ? AND owner = ? AND state = 'running'",
                (time.time() + delay, error, job_id, owner),
            ).rowcount
            db.execute("UPDATE workers SET current = NULL WHERE id = ?", (owner,))
            if changed:
                self._add_delayed_token(db, delay)

    def release(self, job_id: int, owner: str) -> None:
        """Requeue an interrupted job; see :class:`~thumbgen.store.JobStore`."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?,"
                " attempts = MAX(attempts - 1, 0) WHERE id = ? AND owner = ? AND state = 'running'",
                (time.time(), job_id, owner),
            ).rowcount
            db.execute("UPDATE workers SET current = NULL WHERE id = ?", (owner,))
            self._add_tokens(db, changed)

    def recover(self, now: float) -> int:
        """Requeue the jobs of dead workers; see :class:`~thumbgen.store.JobStore`."""
        with self._write() as db:
            workers = self._workers(db)
            alive = {w.id for w in workers if _alive(w, now)}
            owners = [
                str(r[0])
                for r in db.execute("SELECT DISTINCT owner FROM jobs WHERE state = 'running'")
            ]
            recovered = 0
            for owner in owners:
                if owner in alive:
                    continue
                recovered += db.execute(
                    "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?"
                    " WHERE state = 'running' AND owner = ?",
                    (now, owner),
                ).rowcount
            db.executemany(
                "DELETE FROM workers WHERE id = ?",
                [(w.id,) for w in workers if w.id not in alive],
            )
            self._add_tokens(db, recovered)
        return recovered

    def top_up(self) -> int:
        """Replace lost tokens; see :class:`~thumbgen.store.JobStore`."""
        name = self._tokens.queue_name
        with self._write() as db:
            queued = db.execute("SELECT n FROM job_counts WHERE state = 'queued'").fetchone()[0]
            have = db.execute("SELECT count(*) FROM task WHERE queue = ?", (name,)).fetchone()[0]
            have += db.execute("SELECT count(*) FROM schedule WHERE queue = ?", (name,)).fetchone()[
                0
            ]
            missing = max(0, int(queued) - int(have))
            self._add_tokens(db, missing)
        return missing

    # -- reading ----------------------------------------------------------

    def counts(self) -> Counts:
        """Jobs per state from the trigger-kept counters."""
        rows = self._read("SELECT state, n FROM job_counts")
        return Counts(**{str(state): int(n) for state, n in rows})

    def batch_counts(self, batch: str, extra_ids: Sequence[int] = ()) -> Counts:
        """Jobs per state for one batch plus ``extra_ids``."""
        totals = dict.fromkeys(State, 0)
        for state, n in self._read(
            "SELECT state, count(*) FROM jobs WHERE batch = ? GROUP BY state", (batch,)
        ):
            totals[State(str(state))] += int(n)
        ids = list(extra_ids)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for state, n in self._read(
                f"SELECT state, count(*) FROM jobs WHERE id IN ({marks})"
                " AND (batch IS NULL OR batch <> ?) GROUP BY state",
                (*chunk, batch),
            ):
                totals[State(str(state))] += int(n)
        return Counts(**{s.value: n for s, n in totals.items()})

    def failures(self, limit: int | None = None) -> list[Failure]:
        """Failed jobs, newest first."""
        rows = self._read(
            "SELECT source, error, finished_at FROM jobs WHERE state = 'failed'"
            " ORDER BY finished_at DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [Failure(str(s), str(e or "failed"), float(t or 0)) for s, e, t in rows]

    def batch_failures(self, batch: str, extra_ids: Sequence[int] = ()) -> list[Failure]:
        """Failed jobs among one batch plus ``extra_ids``, oldest first."""
        rows = self._read(
            "SELECT source, error, finished_at FROM jobs WHERE batch = ? AND state = 'failed'",
            (batch,),
        )
        ids = list(extra_ids)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += self._read(
                "SELECT source, error, finished_at FROM jobs"
                f" WHERE id IN ({marks}) AND state = 'failed' AND batch IS NOT ?",
                (*chunk, batch),
            )
        failures = [Failure(str(s), str(e or "failed"), float(t or 0)) for s, e, t in rows]
        return sorted(failures, key=lambda f: f.finished_at)

    def finished_since(self, since: float) -> int:
        """Jobs that finished at or after ``since``."""
        row = self._read(
            "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed') AND finished_at >= ?",
            (since,),
        )
        return int(row[0][0])

    # -- maintenance ------------------------------------------------------

    def retry_failed(self) -> int:
        """Queue every failed job again."""
        now = time.time()
        with self._write() as db:
            n = db.execute(
                "UPDATE jobs SET state = 'queued', attempts = 0, not_before = ?, queued_at = ?,"
                " finished_at = NULL, error = NULL, owner = NULL WHERE state = 'failed'",
                (now, now),
            ).rowcount
            self._add_tokens(db, n)
        return n

    def clear(self, states: Sequence[State]) -> int:
        """Forget jobs in ``states`` (and, with every state, the pending tokens)."""
        with self._write() as db:
            marks = ",".join("?" * len(states))
            n = db.execute(
                f"DELETE FROM jobs WHERE state IN ({marks})", [s.value for s in states]
            ).rowcount
            if set(states) == set(State):
                name = self._tokens.queue_name
                db.execute("DELETE FROM task WHERE queue = ?", (name,))
                db.execute("DELETE FROM schedule WHERE queue = ?", (name,))
        return n

    # -- workers ----------------------------------------------------------

    def register_worker(self, info: WorkerInfo) -> None:
        """Record a started worker."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO workers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _worker_row(info),
            )

    def heartbeat(self, worker_id: str, now: float) -> None:
        """Refresh a worker's heartbeat."""
        with self._write() as db:
            db.execute("UPDATE workers SET heartbeat = ? WHERE id = ?", (now, worker_id))

    def unregister_worker(self, worker_id: str) -> None:
        """Forget a stopped worker."""
        with self._write() as db:
            db.execute("DELETE FROM workers WHERE id = ?", (worker_id,))

    def workers(self) -> list[WorkerInfo]:
        """Every registered worker."""
        with self._errors():
            return self._workers(self._conn)

    @staticmethod
    def _workers(db: sqlite3.Connection) -> list[WorkerInfo]:
        return [WorkerInfo(*row) for row in db.execute("SELECT * FROM workers ORDER BY started_at")]


def _alive(worker: WorkerInfo, now: float) -> bool:
    return liveness.is_alive(worker.host, worker.pid, worker.proc_start, worker.heartbeat, now)


def _outputs_exist(outputs: str | None) -> bool:
    if not outputs:
        return False
    return all(os.path.exists(p) for p in json.loads(outputs))


def _worker_row(info: WorkerInfo) -> tuple[object, ...]:
    return (
        info.id,
        info.host,
        info.pid,
        info.proc_start,
        info.started_at,
        info.heartbeat,
        info.jobs_done,
        info.current,
    )
