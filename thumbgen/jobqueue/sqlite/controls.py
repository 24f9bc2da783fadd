"""The SQLite job store's steering: pause and resume, cancel, retry, clear.

Each is one write transaction that changes the jobs, their counters (by
trigger) and the tokens together. Tokens follow one rule: while the queue
is not paused, there are at least as many as queued jobs; while it is, none
to run now (a worker that takes one finds nothing and would only spin), and
:meth:`SqliteControls.resume` makes them again in the transaction that
lifts the pause.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence

from thumbgen.jobqueue.contract import State

from .reads import CHUNK, SqliteReads
from .text import to_db

#: The ``meta`` row holding the largest job id ever given (see ``store._next_id``).
LAST_ID = "last_id"
#: What ``retry`` puts back: the job as a fresh submit would queue it.
_REQUEUE = (
    "UPDATE jobs SET state = 'queued', attempts = 0, deaths = 0, not_before = ?, queued_at = ?,"
    " finished_at = NULL, error = NULL, owner = NULL, source_fault = 1"
)


class SqliteControls(SqliteReads):
    """The steering half of :class:`~thumbgen.jobqueue.sqlite.store.SqliteStore`."""

    def pause(self) -> None:
        """Hold every worker from claiming; the waiting tokens go (resume remakes them)."""
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('paused', ?)", (repr(time.time()),))
            # Scheduled tokens stay: each wakes a worker once, when due.
            self._drop_tokens(db, scheduled=False)

    def resume(self) -> None:
        """Lift the pause and give every queued job its token, in one transaction."""
        with self._write() as db:
            db.execute("DELETE FROM meta WHERE key = 'paused'")
            queued = db.execute("SELECT n FROM job_counts WHERE state = 'queued'").fetchone()[0]
            self._add_tokens(db, int(queued) - self._count_tokens(db))

    def cancel(
        self,
        ids: Sequence[int] | None = None,
        sources: Sequence[str] | None = None,
        *,
        vanished: bool = False,
    ) -> int:
        """Cancel queued jobs, by id or source, or all of them; see :class:`JobStore`."""
        now = time.time()
        state = (State.VANISHED if vanished else State.CANCELLED).value
        # A gone source's done jobs end vanished too: their thumbnails go with it.
        from_states = "('queued', 'done')" if vanished and (ids or sources) else "('queued')"
        sql = f"UPDATE jobs SET state = '{state}', finished_at = ? WHERE state IN {from_states}"
        with self._write() as db:
            # A job named twice (by id and by source) is no longer queued the second time.
            n = sum(
                db.execute(sql + (f" AND {cond}" if cond else ""), (now, *params)).rowcount
                for cond, params in _selections(ids, sources)
            )
            if n:
                self._trim_tokens(db)
        return n

    def retry(self, ids: Sequence[int] | None = None, sources: Sequence[str] | None = None) -> int:
        """Queue failed, cancelled or vanished jobs again; see :class:`JobStore`."""
        now = time.time()
        with self._write() as db:
            n = 0
            for cond, params in _selections(ids, sources):
                where = (
                    f" WHERE state IN ('failed', 'cancelled', 'vanished') AND {cond}"
                    if cond
                    else " WHERE state = 'failed'"  # nothing named: every failure
                )
                n += db.execute(_REQUEUE + where, (now, now, *params)).rowcount
            self._add_tokens(db, n)
        return n

    def retry_failed(self) -> int:
        """Queue every failed job again (``retry()`` with no names)."""
        return self.retry()

    def set_labels(self, labels: Mapping[str, str]) -> None:
        """Name sources for display (the newest label wins); see :class:`JobStore`."""
        if not labels:
            return
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO labels VALUES (?, ?)",
                [(to_db(source), label) for source, label in labels.items()],
            )

    def clear(self, states: Sequence[State], older_than: float | None = None) -> int:
        """Forget jobs in ``states`` (their tries go with them); see :class:`JobStore`."""
        if not states:
            return 0
        where = f"state IN ({','.join('?' * len(states))})"
        params: list[object] = [s.value for s in states]
        if older_than is not None:
            where += " AND finished_at < ?"
            params.append(time.time() - older_than)
        everything = set(states) == set(State) and older_than is None
        with self._write() as db:
            # The largest id so far outlives its job: ids are never given twice.
            db.execute(
                "INSERT INTO meta SELECT ?, top FROM (SELECT max(id) AS top FROM jobs)"
                " WHERE top > coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?), 0)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (LAST_ID, LAST_ID),
            )
            n = db.execute(f"DELETE FROM jobs WHERE {where}", params).rowcount
            if n:
                # Labels of sources no job names any more (jobs_source keeps it quick).
                db.execute(
                    "DELETE FROM labels WHERE NOT EXISTS"
                    " (SELECT 1 FROM jobs WHERE jobs.source = labels.source)"
                )
            if everything:
                self._drop_tokens(db)
            elif State.QUEUED in states and n:
                self._trim_tokens(db)
        return n


def _selections(
    ids: Sequence[int] | None, sources: Sequence[str] | None
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """(SQL condition, parameters) pairs naming the jobs by id and by source.

    Names come in chunks of :data:`CHUNK` (SQLite's bound parameter limit);
    with neither ids nor sources there is one empty condition (no names).
    """
    if ids is None and sources is None:
        yield "", ()
        return
    for column, values in (("id", list(ids or ())), ("source", [to_db(s) for s in sources or ()])):
        for i in range(0, len(values), CHUNK):
            chunk = values[i : i + CHUNK]
            yield f"{column} IN ({','.join('?' * len(chunk))})", tuple(chunk)
