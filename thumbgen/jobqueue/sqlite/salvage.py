"""``thumbgen repair``: salvage the jobs a damaged queue file still holds into a fresh one.

SQLite's own ``.recover`` lives in its shell, not in Python's module, so this
reads the damaged file itself: the jobs and options tables by ranges of row
id, halving a range whenever reading it hits a damaged page, so that one bad
page costs only the rows on it. Every row read is checked before it is
trusted (a damaged page can still parse).

The damaged file (with its ``-wal`` and ``-shm``) is renamed aside first,
``<name>.damaged-<timestamp>``, and only ever read (``mode=ro``); the fresh
queue takes its place. Jobs that were queued or running are queued again;
done, failed, cancelled and vanished ones are kept as they were, so that
``add`` still knows what is up to date. Thumbnails are never touched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from thumbgen.errors import QueueError
from thumbgen.jobqueue import policy
from thumbgen.jobqueue.contract import Outcome, State, WorkerInfo
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.messages import display_path
from thumbgen.options import Options

from . import open_backend, opening
from .store import SqliteStore

#: Row ids a job can have (SQLite's INTEGER PRIMARY KEY is a signed 64-bit number).
_ID_RANGE = (-(2**63), 2**63 - 1)
#: Reads one table may take: a damaged page costs a few dozen; a damaged root
#: (every range fails) would otherwise halve its way through 2**64 ids.
_READ_BUDGET = 20_000
_JOB_COLUMNS = (
    "id, key, source, rel_dir, target, spec_id, size, mtime_ns, state, attempts, batch,"
    " queued_at, started_at, finished_at, error, outputs, priority, source_fault, history"
)
_STATES = {s.value for s in State}
_PENDING = {State.QUEUED.value, State.RUNNING.value}


@dataclasses.dataclass(frozen=True)
class Salvage:
    """What :func:`repair` did."""

    path: str
    #: Where the damaged file now is; None when it was not damaged (nothing done).
    damaged_copy: str | None
    #: Jobs queued again (they were queued or running).
    requeued: int = 0
    #: Finished jobs kept with their outcome (done, failed, cancelled, vanished).
    kept: int = 0
    #: Jobs the damaged file counted that could not be read back (None: unknown).
    lost: int | None = None


def repair(path: str) -> Salvage:
    """Salvage the queue file at ``path`` if it is damaged; leave a sound one alone."""
    shown = display_path(path)
    if not os.path.isfile(path):
        raise opening.no_queue(path)
    if _sound(path):
        return Salvage(path, None)
    _refuse_live_workers(path)
    damaged = f"{path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.rename(path + suffix, damaged + suffix)
    except OSError as exc:
        _put_back(damaged, path)
        raise QueueError(
            f"Cannot move damaged queue {shown} aside: {exc.strerror or exc}"
        ) from None
    try:
        specs, jobs, counted = _read(damaged)
    except sqlite3.DatabaseError as exc:
        _put_back(damaged, path)
        raise QueueError(
            f"Cannot salvage anything from {shown} ({exc}); move it aside to start afresh"
        ) from None
    queue = Queue(open_backend(path))
    try:
        store = queue.store
        assert isinstance(store, SqliteStore)
        requeued, kept = _write(store, specs, jobs)
    finally:
        queue.close()
    lost = None if counted is None else max(counted - requeued - kept, 0)
    return Salvage(path, damaged, requeued, kept, lost)


def _refuse_live_workers(path: str) -> None:
    """Refuse while workers of this file live: they would go on writing the damaged copy."""
    try:
        with _reader(path) as conn:
            rows = conn.execute(
                "SELECT id, host, pid, proc_start, started_at, heartbeat FROM workers"
            ).fetchall()
    except sqlite3.DatabaseError:
        return  # unreadable: nobody can be working on it either
    now = time.time()
    alive = [
        w
        for w in (WorkerInfo(i, h, p, s, a, b, 0, None) for i, h, p, s, a, b in rows)
        if policy.alive_here(w, now)
    ]
    if alive:
        raise QueueError(
            f"{len(alive)} worker(s) still use queue {display_path(path)} "
            f"(pid {alive[0].pid} on {alive[0].host}); stop them, then run `thumbgen repair`"
        )


def _put_back(damaged: str, path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(damaged + suffix) and not os.path.exists(path + suffix):
            os.rename(damaged + suffix, path + suffix)


def _sound(path: str) -> bool:
    """Whether SQLite finds nothing wrong with the file (``quick_check``); reads only."""
    try:
        with _reader(path) as conn:
            rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if not opening.damaged(str(exc)):
            raise QueueError(
                f"Cannot repair {display_path(path)}: {exc} (not a thumbgen queue?)"
            ) from None
        return False
    return rows == [("ok",)]


@contextlib.contextmanager
def _reader(path: str) -> Iterator[sqlite3.Connection]:
    """A connection that never writes: not even the ``-shm`` a read-only one would make.

    Committed pages still in a ``-wal`` (a writer that died) need it read
    through ``mode=ro``; without one, ``immutable`` reads the file alone.
    """
    params = {"mode": "ro"} if os.path.exists(path + "-wal") else {"immutable": "1"}
    conn = sqlite3.connect(opening.uri(path, **params), uri=True, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _read(path: str) -> tuple[dict[int, tuple[str, str]], list[tuple[Any, ...]], int | None]:
    """The readable options (id -> digest, JSON), job rows, and how many jobs it counted."""
    with _reader(path) as conn:
        specs = {}
        for spec_id, digest, options in _rows(conn, "SELECT id, digest, options FROM specs"):
            with contextlib.suppress(Exception):  # a garbled row: its jobs cannot run
                Options.from_json(options)
                specs[int(spec_id)] = (str(digest), str(options))
        jobs = [
            row for row in _rows(conn, f"SELECT {_JOB_COLUMNS} FROM jobs") if _plausible(row, specs)
        ]
        counted: int | None
        try:
            counted = int(conn.execute("SELECT sum(n) FROM job_counts").fetchone()[0] or 0)
        except (sqlite3.DatabaseError, TypeError, ValueError):
            counted = None
    return specs, jobs, counted


def _rows(conn: sqlite3.Connection, select: str) -> list[tuple[Any, ...]]:
    """Every row of ``select`` that can be read, by ranges of row id halved around damage."""
    found: list[tuple[Any, ...]] = []
    pending = [_ID_RANGE]
    budget = _READ_BUDGET
    while pending and budget > 0:
        lo, hi = pending.pop()
        budget -= 1
        try:
            found += conn.execute(f"{select} WHERE id BETWEEN ? AND ?", (lo, hi)).fetchall()
        except sqlite3.DatabaseError as exc:
            if not opening.damaged(str(exc)):
                break  # not a damaged page (no such table...): nothing more to read
            if lo < hi:
                mid = lo + (hi - lo) // 2
                pending += [(mid + 1, hi), (lo, mid)]
    return found


def _plausible(row: tuple[Any, ...], specs: dict[int, tuple[str, str]]) -> bool:
    """Whether a job row read from a damaged file looks like one thumbgen wrote."""
    job_id, key, source, rel_dir, target, spec_id, size, mtime_ns, state, attempts = row[:10]
    text = (str, bytes)
    return (
        isinstance(key, str)
        and isinstance(source, text)
        and isinstance(rel_dir, text)
        and isinstance(target, text)
        and spec_id in specs
        and all(isinstance(v, int) for v in (job_id, size, mtime_ns, attempts))
        and state in _STATES
    )


def _write(
    store: SqliteStore, specs: dict[int, tuple[str, str]], jobs: list[tuple[Any, ...]]
) -> tuple[int, int]:
    """Put the salvaged rows in the fresh queue, in one durable transaction."""
    now = time.time()
    requeued = kept = 0
    with store._durable(), store._write() as db:
        db.executemany(
            "INSERT INTO specs (id, digest, options) VALUES (?, ?, ?)",
            [(i, d, o) for i, (d, o) in specs.items()],
        )
        for row in jobs:
            (job_id, key, source, rel_dir, target, spec_id, size, mtime_ns, state) = row[:9]
            attempts, batch, queued_at, started_at, finished_at, error, outputs = row[9:16]
            priority, fault, history = row[16:]
            if state in _PENDING:
                # Running when the file broke: its worker's outcome is lost, so it runs again.
                state, attempts, started_at, finished_at, outputs = "queued", 0, None, None, None
                history = _closed(history)
            values = (
                job_id, key, source, rel_dir, target, spec_id, size, mtime_ns, state, attempts,
                now, batch, _number(queued_at), _number(started_at), _number(finished_at),
                _text(error), _json_list(outputs), _int(priority), 0 if fault == 0 else 1,
                _json_list(history),
            )  # fmt: skip
            changed = db.execute(
                "INSERT OR IGNORE INTO jobs (id, key, source, rel_dir, target, spec_id, size,"
                " mtime_ns, state, attempts, not_before, batch, queued_at, started_at,"
                " finished_at, error, outputs, priority, source_fault, history)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            ).rowcount
            if changed and state == "queued":
                requeued += 1
            elif changed:
                kept += 1
        # The counters are kept by triggers on updates only: count what went in.
        db.execute(
            "UPDATE job_counts SET n ="
            " (SELECT count(*) FROM jobs WHERE jobs.state = job_counts.state)"
        )
        store._add_tokens(db, requeued)
    return requeued, kept


def _closed(history: Any) -> Any:
    """A running job's tries with the open one ended as requeued (its worker's fate is lost)."""
    tries = _json_list(history)
    if tries is None:
        return None
    entries = json.loads(tries)
    last = entries[-1] if entries else None
    if isinstance(last, list) and len(last) == 7 and last[5] is None:
        last[4:6] = [time.time(), Outcome.REQUEUED.value]
    return json.dumps(entries)


def _json_list(value: Any) -> str | None:
    """A history or outputs column worth keeping: a JSON list, else nothing."""
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return value if isinstance(parsed, list) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _text(value: Any) -> str | bytes | None:
    return value if isinstance(value, str | bytes) else None
