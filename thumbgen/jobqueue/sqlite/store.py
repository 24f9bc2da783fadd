"""The SQLite job store: jobs, counters and workers in the same file as Huey's queue.

Sharing the file is what makes submits atomic: a job row and its token (a
row in Huey's ``task`` table) commit together. Counters per state are kept by
triggers (and, for inserts, by submit in the same transaction), so ``status``
reads four rows whatever the queue holds.

Durability: WAL with ``synchronous=NORMAL`` survives any process crash. A
submit is committed with ``synchronous=FULL``, so what ``add`` reports as
queued also survives power loss; later state changes may roll back a few
seconds on power loss, which only means some jobs run again.

The store decides nothing: which sources to queue and which workers are dead
come from :mod:`thumbgen.jobqueue.policy`; this module reads the rows those
decisions need and writes their outcome in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence

from thumbgen.jobqueue import policy
from thumbgen.jobqueue.contract import (
    Job,
    NewJob,
    State,
    SubmitResult,
    Tokens,
    WorkerInfo,
)
from thumbgen.jobqueue.policy import ExistingJob
from thumbgen.options import Options

from .reads import CHUNK, SqliteReads, outputs_of

#: State by column value; a dict look-up costs a tenth of State(value) per row.
_STATES = {s.value: s for s in State}


class SqliteStore(SqliteReads):
    """:class:`~thumbgen.jobqueue.contract.JobStore` on one SQLite file; one per thread."""

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
        """Queue ``jobs`` in one durable transaction; see :class:`JobStore`."""
        if not jobs:
            return SubmitResult()
        digest = options.digest
        now = time.time()
        keyed = {policy.job_key(j.source, j.rel_dir, digest): j for j in jobs}
        with self._durable(), self._write() as db:
            spec_id = self._spec_id(db, options)
            plan = policy.plan_submit(
                keyed,
                self._existing(db, list(keyed)),
                self._target_owners(db, [j.target for j in keyed.values()]),
                force=force,
                exists=os.path.exists,
            )
            db.executemany(
                "INSERT INTO jobs (key, source, rel_dir, target, spec_id, size, mtime_ns,"
                " state, not_before, batch, queued_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                [
                    (key, j.source, j.rel_dir, j.target, spec_id, j.size, j.mtime_ns, now,
                     batch, now)
                    for key, j in plan.inserts
                ],
            )  # fmt: skip
            db.executemany(
                "UPDATE jobs SET state = 'queued', size = ?, mtime_ns = ?, attempts = 0,"
                " not_before = ?, owner = NULL, batch = ?, queued_at = ?, started_at = NULL,"
                " finished_at = NULL, error = NULL, outputs = NULL WHERE id = ?",
                [(j.size, j.mtime_ns, now, batch, now, job_id) for job_id, j in plan.requeues],
            )
            # Inserts are counted here, once per submit: a per-row trigger
            # cost a third of the submit time (updates still use triggers).
            db.execute(
                "UPDATE job_counts SET n = n + ? WHERE state = 'queued'", (len(plan.inserts),)
            )
            self._add_tokens(db, plan.result.queued)
        return plan.result

    @contextlib.contextmanager
    def _durable(self) -> Iterator[None]:
        """Commit with ``synchronous=FULL``: what ``add`` reports queued survives power loss."""
        self._conn.execute("PRAGMA synchronous = FULL")
        try:
            yield
        finally:
            self._conn.execute("PRAGMA synchronous = NORMAL")

    def _target_owners(self, db: sqlite3.Connection, targets: list[str]) -> dict[str, str]:
        """The source that already owns each target (the first one queued for it)."""
        owners: dict[str, str] = {}
        unique = sorted(set(targets))
        for i in range(0, len(unique), CHUNK):
            chunk = unique[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            for target, source in db.execute(
                f"SELECT target, source FROM jobs WHERE target IN ({marks}) ORDER BY id DESC",
                chunk,
            ):
                owners[target] = source
        return owners

    def _existing(self, db: sqlite3.Connection, keys: list[str]) -> dict[str, ExistingJob]:
        found = {}
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, job_id, state, size, mtime_ns, outputs, error in db.execute(
                "SELECT key, id, state, size, mtime_ns, outputs, error FROM jobs"
                f" WHERE key IN ({marks})",
                chunk,
            ):
                found[key] = ExistingJob(
                    job_id, _STATES[state], size, mtime_ns, outputs_of(outputs), error
                )
        return found

    # -- running ----------------------------------------------------------

    def claim(self, owner: str) -> Job | None:
        """Claim the oldest due job; see :class:`JobStore`."""
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
        """Mark a job done; see :class:`JobStore`."""
        self._end(
            job_id,
            owner,
            "UPDATE jobs SET state = 'done', owner = NULL, finished_at = ?, outputs = ?,"
            " size = ?, mtime_ns = ?, error = NULL",
            (time.time(), json.dumps(list(outputs)), size, mtime),
        )

    def fail(self, job_id: int, owner: str, error: str) -> None:
        """Mark a job failed; see :class:`JobStore`."""
        self._end(
            job_id,
            owner,
            "UPDATE jobs SET state = 'failed', owner = NULL, finished_at = ?, error = ?",
            (time.time(), error),
        )

    def retry_later(self, job_id: int, owner: str, error: str, delay: float) -> None:
        """Requeue a job for a later try; see :class:`JobStore`."""
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
        """Requeue an interrupted job; see :class:`JobStore`."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?,"
                " attempts = MAX(attempts - 1, 0) WHERE id = ? AND owner = ? AND state = 'running'",
                (time.time(), job_id, owner),
            ).rowcount
            db.execute("UPDATE workers SET current = NULL WHERE id = ?", (owner,))
            self._add_tokens(db, changed)

    def recover(self, now: float) -> int:
        """Requeue the jobs of dead workers; see :class:`JobStore`."""
        with self._write() as db:
            owners = [
                str(r[0])
                for r in db.execute("SELECT DISTINCT owner FROM jobs WHERE state = 'running'")
            ]
            dead = policy.dead_owners(self._workers(db), owners, now, policy.alive_here)
            recovered = 0
            for owner in dead.owners:
                recovered += db.execute(
                    "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?"
                    " WHERE state = 'running' AND owner = ?",
                    (now, owner),
                ).rowcount
            db.executemany("DELETE FROM workers WHERE id = ?", [(w,) for w in dead.workers])
            self._add_tokens(db, recovered)
        return recovered

    def top_up(self) -> int:
        """Replace lost tokens; see :class:`JobStore`."""
        with self._write() as db:
            queued = db.execute("SELECT n FROM job_counts WHERE state = 'queued'").fetchone()[0]
            missing = max(0, int(queued) - self._count_tokens(db))
            self._add_tokens(db, missing)
        return missing

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
                self._drop_tokens(db)
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
