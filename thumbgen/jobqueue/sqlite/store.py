"""The SQLite job store: jobs, counters and workers in the same file as Huey's queue.

Sharing the file is what makes submits atomic: a job row and its token (a
row in Huey's ``task`` table) commit together. Counters per state are kept by
triggers (and, for inserts, by submit in the same transaction), so ``status``
reads five rows whatever the queue holds. Each try of a job is a row of
``attempts``, opened by the claim and closed by the outcome in the same
transaction as the job's own change.

Durability: WAL with ``synchronous=NORMAL`` survives any process crash. A
submit is committed with ``synchronous=FULL``, so what ``add`` reports as
queued also survives power loss; later state changes may roll back a few
seconds on power loss, which only means some jobs run again.

The store decides nothing: which sources to queue and which workers are dead
come from :mod:`thumbgen.jobqueue.policy`; this module reads the rows those
decisions need and writes their outcome in one transaction. Paths go through
:mod:`.text` on their way in and out, so any Linux name round-trips.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from thumbgen.jobqueue import policy
from thumbgen.jobqueue.contract import (
    HISTORY_LIMIT,
    Job,
    NewJob,
    Outcome,
    State,
    SubmitResult,
    WorkerInfo,
)
from thumbgen.jobqueue.policy import ExistingJob, SubmitPlan
from thumbgen.options import Options

from .controls import LAST_ID, SqliteControls
from .reads import CHUNK, outputs_of
from .text import from_db, from_db_opt, to_db, to_db_opt

#: State by column value; a dict look-up costs a tenth of State(value) per row.
_STATES = {s.value: s for s in State}
_DONE, _FAILED, _RETRY = Outcome.DONE.value, Outcome.FAILED.value, Outcome.RETRY.value
_RELEASED, _REQUEUED = Outcome.RELEASED.value, Outcome.REQUEUED.value
_VANISHED = Outcome.VANISHED.value

#: The kept tries before a new one: the oldest goes once there are HISTORY_LIMIT.
_KEPT = (
    f"CASE WHEN json_array_length(coalesce(history, '[]')) >= {HISTORY_LIMIT}"
    " THEN json_remove(history, '$[0]') ELSE coalesce(history, '[]') END"
)
#: Takes the best due job and opens its try (numbered on from the last one)
#: in one statement. Parameters: owner, now, owner, owner, now, now. SET
#: expressions see the row as it was, hence owner and time as parameters.
_CLAIM = (
    "UPDATE jobs SET state = 'running', owner = ?, attempts = attempts + 1, started_at = ?,"
    f" history = json_insert({_KEPT}, '$[#]', json_array("
    "coalesce(json_extract(history, '$[#-1][0]'), 0) + 1, ?,"
    " coalesce((SELECT host FROM workers WHERE id = ?), ''), ?, NULL, NULL, NULL))"
    " WHERE id = (SELECT id FROM jobs INDEXED BY jobs_claim"
    " WHERE state = 'queued' AND not_before <= ?"
    " AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'paused')"
    " ORDER BY priority DESC, not_before, id LIMIT 1)"
    " RETURNING id, source, rel_dir, spec_id, attempts"
)
#: Ends the open try (the last: the claim appended it) with the time, the
#: outcome and the error as JSON made by Python, which keeps surrogate
#: escapes as ``\udcXX``. A job claimed before the upgrade to schema 3 has no
#: history; json_set() leaves NULL as it is.
_CLOSE = "history = json_set(history, '$[#-1][4]', ?, '$[#-1][5]', ?, '$[#-1][6]', json(?))"
#: Only the owner of a running job may record its outcome.
_OWNED = " WHERE id = ? AND owner = ? AND state = 'running'"
_FINISH = (
    "UPDATE jobs SET state = 'done', owner = NULL, finished_at = ?, outputs = ?, size = ?,"
    f" mtime_ns = ?, version = ?, info = ?, error = NULL, {_CLOSE}{_OWNED}"
)
_FAIL = (
    "UPDATE jobs SET state = 'failed', owner = NULL, finished_at = ?, error = ?,"
    f" source_fault = ?, {_CLOSE}{_OWNED}"
)
_VANISH = (
    "UPDATE jobs SET state = 'vanished', owner = NULL, finished_at = ?, error = ?,"
    f" {_CLOSE}{_OWNED}"
)


class SqliteStore(SqliteControls):
    """:class:`~thumbgen.jobqueue.contract.JobStore` on one SQLite file; one per thread."""

    def _spec_id(self, db: sqlite3.Connection, options: Options) -> int:
        digest = options.digest
        db.execute(
            "INSERT OR IGNORE INTO specs (digest, options) VALUES (?, ?)",
            (digest, options.to_json()),
        )
        row = db.execute("SELECT id FROM specs WHERE digest = ?", (digest,)).fetchone()
        return int(row[0])

    # -- submitting -------------------------------------------------------

    def submit(
        self,
        jobs: Sequence[NewJob],
        options: Options,
        *,
        batch: str,
        force: bool = False,
        priority: int = 0,
        dry_run: bool = False,
        exists: Callable[[str], bool] = os.path.exists,
    ) -> SubmitResult:
        """Queue ``jobs`` in one durable transaction; see :class:`JobStore`."""
        if not jobs:
            return SubmitResult()
        digest = options.digest
        keyed = {policy.job_key(j.source, j.rel_dir, digest): j for j in jobs}
        if dry_run:
            # Reads only: no spec row, no token, and a read-only queue will do.
            return self._query(lambda db: self._plan(db, keyed, force, exists, dry_run=True)).result
        now = time.time()
        with self._durable(), self._write() as db:
            spec_id = self._spec_id(db, options)
            plan = self._plan(db, keyed, force, exists, dry_run=False)
            first_id = _next_id(db)
            db.executemany(
                "INSERT INTO jobs (id, key, source, rel_dir, target, spec_id, size, mtime_ns,"
                " version, state, not_before, batch, queued_at, priority)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                [
                    (
                        first_id + i,
                        key,
                        *_names(j),
                        spec_id,
                        j.size,
                        j.mtime_ns,
                        j.version,
                        now,
                        batch,
                        now,
                        priority,
                    )
                    for i, (key, j) in enumerate(plan.inserts)
                ],
            )
            db.executemany(
                "UPDATE jobs SET state = 'queued', size = ?, mtime_ns = ?, version = ?,"
                " attempts = 0, deaths = 0, not_before = ?, owner = NULL, batch = ?,"
                " queued_at = ?, started_at = NULL, finished_at = NULL, error = NULL,"
                " outputs = NULL, info = NULL, priority = ?, source_fault = 1 WHERE id = ?",
                [
                    (j.size, j.mtime_ns, j.version, now, batch, now, priority, job_id)
                    for job_id, j in plan.requeues
                ],
            )
            # Inserts are counted here, once per submit: a per-row trigger
            # cost a third of the submit time (updates still use triggers).
            db.execute(
                "UPDATE job_counts SET n = n + ? WHERE state = 'queued'", (len(plan.inserts),)
            )
            self._add_tokens(db, plan.result.queued)
        return plan.result

    def _plan(
        self,
        db: sqlite3.Connection,
        keyed: Mapping[str, NewJob],
        force: bool,
        exists: Callable[[str], bool],
        *,
        dry_run: bool,
    ) -> SubmitPlan:
        return policy.plan_submit(
            keyed,
            self._existing(db, list(keyed)),
            self._target_owners(db, [j.target for j in keyed.values()]),
            force=force,
            exists=exists,
            dry_run=dry_run,
        )

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
            chunk = [t if t.isascii() else to_db(t) for t in unique[i : i + CHUNK]]
            marks = ",".join("?" * len(chunk))
            for target, source in db.execute(
                f"SELECT target, source FROM jobs WHERE target IN ({marks}) ORDER BY id DESC",
                chunk,
            ):
                if type(target) is str and type(source) is str:  # nearly always
                    owners[target] = source
                else:
                    owners[from_db(target)] = from_db(source)
        return owners

    def _existing(self, db: sqlite3.Connection, keys: list[str]) -> dict[str, ExistingJob]:
        found = {}
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, job_id, state, size, mtime_ns, outputs, error, fault, version in db.execute(
                "SELECT key, id, state, size, mtime_ns, outputs, error, source_fault, version"
                f" FROM jobs WHERE key IN ({marks})",
                chunk,
            ):
                found[key] = ExistingJob(
                    job_id,
                    _STATES[state],
                    size,
                    mtime_ns,
                    outputs_of(outputs),
                    from_db_opt(error),
                    bool(fault),
                    version,
                )
        return found

    # -- running ----------------------------------------------------------

    def claim(self, owner: str) -> Job | None:
        """Claim the best due job and open its try; see :class:`JobStore`."""
        now = time.time()
        with self._write() as db:
            rows = db.execute(_CLAIM, (owner, now, owner, owner, now, now)).fetchall()
            if not rows:
                return None
            job_id, source, rel_dir, spec_id, attempts = rows[0]
            # The column value as it is: TEXT, or the BLOB of a name that is not UTF-8.
            db.execute("UPDATE workers SET current = ? WHERE id = ?", (source, owner))
            options = self._options_on(db, spec_id)
        return Job(job_id, from_db(source), from_db(rel_dir), options, attempts)

    def _end(self, owner: str, sql: str, params: Sequence[object], total: str) -> None:
        with self._write() as db:
            if db.execute(sql, params).rowcount:
                # In the same transaction: a total counts each recorded outcome once.
                db.execute(
                    "INSERT INTO totals VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET n = n + 1",
                    (total,),
                )
            db.execute(
                "UPDATE workers SET jobs_done = jobs_done + 1, current = NULL WHERE id = ?",
                (owner,),
            )

    def finish(
        self,
        job_id: int,
        owner: str,
        outputs: Sequence[str],
        size: int,
        mtime: int,
        version: str = "",
        info: Mapping[str, Any] | None = None,
    ) -> None:
        """Mark a job done; see :class:`JobStore`."""
        now = time.time()
        made = json.dumps(list(outputs))
        learnt = None if info is None else json.dumps(info, separators=(",", ":"))
        self._end(
            owner,
            _FINISH,
            (now, made, size, mtime, version, learnt, now, _DONE, "null", job_id, owner),
            "done",
        )

    def fail(self, job_id: int, owner: str, error: str, *, source_fault: bool = True) -> None:
        """Mark a job failed, recording whose fault it was; see :class:`JobStore`."""
        now = time.time()
        self._end(
            owner,
            _FAIL,
            (now, to_db(error), int(source_fault), now, _FAILED, json.dumps(error), job_id, owner),
            policy.total_name("failed", error),
        )

    def vanish(self, job_id: int, owner: str, reason: str) -> None:
        """Mark a job vanished; see :class:`JobStore` (one machine: no share to miss)."""
        now = time.time()
        self._end(
            owner,
            _VANISH,
            (now, to_db(reason), now, _VANISHED, json.dumps(reason), job_id, owner),
            "vanished",
        )

    def retry_later(self, job_id: int, owner: str, error: str, delay: float) -> None:
        """Requeue a job for a later try; see :class:`JobStore`."""
        now = time.time()
        with self._write() as db:
            changed = db.execute(
                f"UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?, error = ?,"
                f" {_CLOSE}{_OWNED}",
                (now + delay, to_db(error), now, _RETRY, json.dumps(error), job_id, owner),
            ).rowcount
            db.execute("UPDATE workers SET current = NULL WHERE id = ?", (owner,))
            if changed:
                self._add_delayed_token(db, delay)

    def holds(self, job_id: int, owner: str) -> bool:
        """Whether ``owner`` still runs the job; see :class:`JobStore`."""
        return bool(self._read("SELECT 1 FROM jobs" + _OWNED, (job_id, owner)))

    def release(self, job_id: int, owner: str) -> None:
        """Requeue an interrupted job; see :class:`JobStore`."""
        now = time.time()
        with self._write() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?,"
                f" attempts = MAX(attempts - 1, 0), {_CLOSE}{_OWNED}",
                (now, now, _RELEASED, "null", job_id, owner),
            ).rowcount
            db.execute("UPDATE workers SET current = NULL WHERE id = ?", (owner,))
            self._add_tokens(db, changed)

    def recover(self, now: float) -> int:
        """Requeue the jobs of dead workers (fail those that killed too many); see JobStore."""
        with self._write() as db:
            owners = [
                str(r[0])
                for r in db.execute("SELECT DISTINCT owner FROM jobs WHERE state = 'running'")
            ]
            dead = policy.dead_owners(self._workers(db), owners, now, policy.alive_here)
            recovered = 0
            for owner in dead.owners:
                # A job whose worker died this often is what kills them (an
                # out-of-memory kill, a crash in a decoder): it fails instead.
                db.execute(
                    "UPDATE jobs SET state = 'failed', owner = NULL, finished_at = ?, error = ?,"
                    f" source_fault = 1, deaths = deaths + 1, {_CLOSE}"
                    " WHERE state = 'running' AND owner = ? AND deaths + 1 >= ?",
                    (
                        now,
                        policy.WORKER_DIED,
                        now,
                        _FAILED,
                        json.dumps(policy.WORKER_DIED),
                        owner,
                        policy.MAX_WORKER_DEATHS,
                    ),
                )
                recovered += db.execute(
                    "UPDATE jobs SET state = 'queued', owner = NULL, not_before = ?,"
                    f" deaths = deaths + 1, {_CLOSE} WHERE state = 'running' AND owner = ?",
                    (now, now, _REQUEUED, "null", owner),
                ).rowcount
            db.executemany("DELETE FROM workers WHERE id = ?", [(w,) for w in dead.workers])
            self._add_tokens(db, recovered)
        return recovered

    def top_up(self) -> int:
        """Replace lost tokens (none while paused); see :class:`JobStore`."""
        with self._write() as db:
            if self._paused(db):
                return 0
            queued = db.execute("SELECT n FROM job_counts WHERE state = 'queued'").fetchone()[0]
            missing = max(0, int(queued) - self._count_tokens(db))
            self._add_tokens(db, missing)
        return missing

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


def _names(job: NewJob) -> tuple[str | bytes, str | bytes, str | bytes]:
    """A job's source, folder and target as column values (see :mod:`.text`)."""
    source, rel_dir, target = job.source, job.rel_dir, job.target
    # One test for the three in the usual case: ASCII names need no conversion.
    if (source + rel_dir + target).isascii():
        return source, rel_dir, target
    return to_db(source), to_db(rel_dir), to_db(target)


def _worker_row(info: WorkerInfo) -> tuple[object, ...]:
    return (
        info.id,
        info.host,
        info.pid,
        info.proc_start,
        info.started_at,
        info.heartbeat,
        info.jobs_done,
        to_db_opt(info.current),
    )


def _next_id(db: sqlite3.Connection) -> int:
    """The id the next new job gets: past every id ever given, cleared ones too.

    SQLite's own choice is the largest id left plus one, so after ``clear``
    ids began again at 1 and an old id (in a script, a URL of the HTTP API)
    named another job. ``clear`` records the largest id it saw
    (:data:`~.controls.LAST_ID`).
    """
    top = db.execute("SELECT max(id) FROM jobs").fetchone()[0] or 0
    row = db.execute("SELECT value FROM meta WHERE key = ?", (LAST_ID,)).fetchone()
    cleared = int(row[0]) if row is not None and str(row[0]).isdigit() else 0
    return max(int(top), cleared) + 1
