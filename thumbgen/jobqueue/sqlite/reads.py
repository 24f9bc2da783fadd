"""The SQLite job store's queries: counts, failures, job listings, one job, workers.

Only reads live here (the transitions are in :mod:`.store` and
:mod:`.controls`); each runs without a write lock, so ``status`` never waits
for a writer, and each works on a queue opened read-only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from thumbgen.jobqueue.contract import (
    Attempt,
    Counts,
    Failure,
    JobDetail,
    JobRecord,
    Outcome,
    State,
    Tokens,
    WorkerInfo,
)
from thumbgen.options import Options

from .db import IS_PAUSED, SqliteDb
from .text import from_db, from_db_opt, to_db

CHUNK = 500  # bound parameters per IN (...) query
#: The columns of a JobRecord, in its field order.
_RECORD_COLUMNS = (
    "id, source, state, attempts, error, size, mtime_ns, outputs, queued_at, started_at,"
    " finished_at, priority, rel_dir, version, info"
)
#: The label of each row's source, as the last column of a listing.
_LABEL = ", coalesce((SELECT label FROM labels WHERE labels.source = jobs.source), '')"
_FAILURE_COLUMNS = "source, error, finished_at"
#: A failure's reason: its error with the job's own path made {source} (policy.reason).
_REASON = "replace(coalesce(error, 'failed'), source, '{source}')"


class SqliteReads(SqliteDb):
    """The reading half of :class:`~thumbgen.jobqueue.sqlite.store.SqliteStore`."""

    def __init__(
        self, path: str, tokens: Tokens, *, create: bool = True, readonly: bool = False
    ) -> None:
        super().__init__(path, tokens, create=create, readonly=readonly)
        self._options: dict[int, Options] = {}

    def counts(self) -> Counts:
        """Jobs per state from the trigger-kept counters."""
        rows = self._read("SELECT state, n FROM job_counts")
        return Counts(**{str(state): int(n) for state, n in rows})

    def totals(self) -> dict[str, int]:
        """Tries ever ended, by outcome; see :class:`JobStore`."""
        return self._query(lambda db: dict(db.execute("SELECT name, n FROM totals")))

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
            f"SELECT {_FAILURE_COLUMNS} FROM jobs WHERE state = 'failed'"
            " ORDER BY finished_at DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [_failure(row) for row in rows]

    def batch_failures(self, batch: str, extra_ids: Sequence[int] = ()) -> list[Failure]:
        """Failed jobs among one batch plus ``extra_ids``, oldest first."""
        rows = self._read(
            f"SELECT {_FAILURE_COLUMNS} FROM jobs WHERE batch = ? AND state = 'failed'",
            (batch,),
        )
        ids = list(extra_ids)
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += self._read(
                f"SELECT {_FAILURE_COLUMNS} FROM jobs"
                f" WHERE id IN ({marks}) AND state = 'failed' AND batch IS NOT ?",
                (*chunk, batch),
            )
        return sorted((_failure(row) for row in rows), key=lambda f: f.finished_at)

    def jobs(self, state: State | None = None, limit: int | None = None) -> list[JobRecord]:
        """Jobs in id order (the order first queued), optionally of one state."""
        where, params = ("", []) if state is None else (" WHERE state = ?", [state.value])
        rows = self._read(
            f"SELECT {_RECORD_COLUMNS}{_LABEL} FROM jobs{where} ORDER BY id LIMIT ?",
            (*params, -1 if limit is None else limit),
        )
        return [_record(row) for row in rows]

    def job(self, ref: int | str) -> JobDetail | None:
        """One job by id or by source (its most recently queued job), with its tries."""
        if isinstance(ref, str):
            rows = self._read(
                f"SELECT {_RECORD_COLUMNS}{_LABEL}, spec_id, history FROM jobs WHERE source = ?"
                " ORDER BY queued_at DESC, id DESC LIMIT 1",
                (to_db(ref),),
            )
        else:
            rows = self._read(
                f"SELECT {_RECORD_COLUMNS}{_LABEL}, spec_id, history FROM jobs WHERE id = ?",
                (ref,),
            )
        if not rows:
            return None
        *fields, spec_id, history = rows[0]
        options = self._query(lambda conn: self._options_on(conn, spec_id))
        tries = tuple(_attempt(entry) for entry in json.loads(history or "[]"))
        return JobDetail(_record(fields), options, tries)

    def page(
        self,
        *,
        state: State | None = None,
        query: str = "",
        error: str | None = None,
        after: int | None = None,
        newest_first: bool = True,
        limit: int = 50,
    ) -> list[JobRecord]:
        """A page of jobs by id from a cursor (an index per state); see :class:`JobStore`."""
        where: list[str] = []
        params: list[object] = []
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        if error is not None:
            where.append(f"{_REASON} = ?")
            params.append(error)
        if after is not None:
            where.append("id < ?" if newest_first else "id > ?")
            params.append(after)
        if query:
            pattern = "%" + _like_escaped(query) + "%"
            where.append(
                "(source LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM labels"
                " WHERE labels.source = jobs.source AND label LIKE ? ESCAPE '\\'))"
            )
            params += [pattern, pattern]
        sql = f"SELECT {_RECORD_COLUMNS}{_LABEL} FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'} LIMIT ?"
        return [_record(row) for row in self._read(sql, (*params, limit))]

    def failure_reasons(self, limit: int = 50) -> list[tuple[str, int]]:
        """Failed jobs grouped by error line, most common first."""
        rows = self._read(
            f"SELECT {_REASON} AS reason, count(*) AS n FROM jobs WHERE state = 'failed'"
            " GROUP BY reason ORDER BY n DESC, reason LIMIT ?",
            (limit,),
        )
        return [(from_db(reason), int(n)) for reason, n in rows]

    def done_jobs(
        self, match: Callable[[Options], bool] | None = None
    ) -> list[tuple[JobRecord, Options]]:
        """Done jobs whose options pass ``match``; see :class:`JobStore`."""

        def read(conn: sqlite3.Connection) -> list[tuple[JobRecord, Options]]:
            specs = {
                spec_id: Options.from_json(text)
                for spec_id, text in conn.execute("SELECT id, options FROM specs")
            }
            wanted = {i: o for i, o in specs.items() if match is None or match(o)}
            found: list[tuple[JobRecord, Options]] = []
            ids = sorted(wanted)
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT {_RECORD_COLUMNS}{_LABEL}, spec_id FROM jobs"
                    f" WHERE state = 'done' AND spec_id IN ({marks})",
                    chunk,
                )
                found += [(_record(row[:-1]), wanted[row[-1]]) for row in rows]
            return sorted(found, key=lambda pair: pair[0].id)

        return self._query(read)

    def _options_on(self, conn: sqlite3.Connection, spec_id: int) -> Options:
        if spec_id not in self._options:
            row = conn.execute("SELECT options FROM specs WHERE id = ?", (spec_id,)).fetchone()
            self._options[spec_id] = Options.from_json(row[0])
        return self._options[spec_id]

    def finished_since(self, since: float) -> int:
        """Jobs that finished at or after ``since``."""
        row = self._read(
            "SELECT count(*) FROM jobs WHERE state IN ('done', 'failed') AND finished_at >= ?",
            (since,),
        )
        return int(row[0][0])

    def paused(self) -> bool:
        """Whether the queue is paused: one row of ``meta``."""
        return bool(self._read(IS_PAUSED))

    def warnings(self) -> list[str]:
        """None: a queue file has no server settings to get wrong."""
        return []

    def workers(self) -> list[WorkerInfo]:
        """Every registered worker."""
        return self._query(self._workers)

    @staticmethod
    def _workers(db: sqlite3.Connection) -> list[WorkerInfo]:
        rows = db.execute("SELECT * FROM workers ORDER BY started_at").fetchall()
        return [
            WorkerInfo(w_id, host, pid, started, at, beat, done, from_db_opt(current))
            for w_id, host, pid, started, at, beat, done, current in rows
        ]


def outputs_of(column: str | None) -> list[str] | None:
    """The outputs column: a JSON list once done, NULL before.

    JSON keeps names that are not UTF-8 as ``\\udcXX`` escapes, which read
    back as the same surrogate-escaped ``str``.
    """
    return None if column is None else list(json.loads(column))


def _like_escaped(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '\\' (its % and _ are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _failure(row: Sequence[Any]) -> Failure:
    source, error, finished_at = row
    return Failure(from_db(source), from_db_opt(error) or "failed", float(finished_at or 0))


def _record(row: Sequence[Any]) -> JobRecord:
    job_id, source, state, attempts, error, size, mtime_ns, outputs, *times = row
    queued_at, started_at, finished_at, priority, rel_dir, version, info, label = times
    return JobRecord(
        job_id,
        from_db(source),
        State(state),
        attempts,
        from_db_opt(error),
        size,
        mtime_ns,
        tuple(outputs_of(outputs) or ()),
        queued_at,
        started_at,
        finished_at,
        priority,
        from_db(rel_dir),
        version,
        label,
        None if info is None else json.loads(info),
    )


def _attempt(entry: Sequence[Any]) -> Attempt:
    """One entry of the history column: [number, worker, host, started, ended, outcome, error]."""
    number, worker, host, started_at, ended_at, outcome, error = entry
    return Attempt(
        number,
        worker,
        host or "",
        started_at,
        ended_at,
        None if outcome is None else Outcome(outcome),
        error,
    )
