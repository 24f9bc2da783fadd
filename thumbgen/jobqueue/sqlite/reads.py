"""The SQLite job store's queries: counts, failures, job listings, workers.

Only reads live here (the transitions are in :mod:`.store`); each runs on
the store's connection without a write lock, so ``status`` never waits for
a writer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from thumbgen.jobqueue.contract import Counts, Failure, JobRecord, State, WorkerInfo

from .db import SqliteDb

CHUNK = 500  # bound parameters per IN (...) query
#: The columns of a JobRecord, in its field order.
_RECORD_COLUMNS = (
    "id, source, state, attempts, error, size, mtime_ns, outputs, queued_at, started_at,"
    " finished_at"
)


class SqliteReads(SqliteDb):
    """The reading half of :class:`~thumbgen.jobqueue.sqlite.store.SqliteStore`."""

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
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
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
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += self._read(
                "SELECT source, error, finished_at FROM jobs"
                f" WHERE id IN ({marks}) AND state = 'failed' AND batch IS NOT ?",
                (*chunk, batch),
            )
        failures = [Failure(str(s), str(e or "failed"), float(t or 0)) for s, e, t in rows]
        return sorted(failures, key=lambda f: f.finished_at)

    def jobs(self, state: State | None = None, limit: int | None = None) -> list[JobRecord]:
        """Jobs in id order (the order first queued), optionally of one state."""
        where, params = ("", []) if state is None else (" WHERE state = ?", [state.value])
        rows = self._read(
            f"SELECT {_RECORD_COLUMNS} FROM jobs{where} ORDER BY id LIMIT ?",
            (*params, -1 if limit is None else limit),
        )
        return [_record(row) for row in rows]

    def finished_since(self, since: float) -> int:
        """Jobs that finished at or after ``since``."""
        row = self._read(
            "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed') AND finished_at >= ?",
            (since,),
        )
        return int(row[0][0])

    def workers(self) -> list[WorkerInfo]:
        """Every registered worker."""
        with self._errors():
            return self._workers(self._conn)

    @staticmethod
    def _workers(db: sqlite3.Connection) -> list[WorkerInfo]:
        return [WorkerInfo(*row) for row in db.execute("SELECT * FROM workers ORDER BY started_at")]


def outputs_of(column: str | None) -> list[str] | None:
    """The outputs column: a JSON list once done, NULL before."""
    return None if column is None else list(json.loads(column))


def _record(row: Sequence[Any]) -> JobRecord:
    job_id, source, state, attempts, error, size, mtime_ns, outputs, *times = row
    queued_at, started_at, finished_at = times
    return JobRecord(
        job_id,
        source,
        State(state),
        attempts,
        error,
        size,
        mtime_ns,
        tuple(outputs_of(outputs) or ()),
        queued_at,
        started_at,
        finished_at,
    )
