"""The Redis job store's connection and queries: counts, listings, one job, workers.

Opening checks at once that Redis answers (a one-line error otherwise) and,
unless asked to create, that it holds a thumbgen queue. Reads run once and
report failure in one line (commands); the transitions in :mod:`.store`
wait out an outage instead (workers).

Paths are stored as their bytes (``surrogateescape``), which Redis keeps
exactly, so any Linux name round-trips, on any host.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from thumbgen.errors import QueueError, QueueLost
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

from . import connection
from .url import RedisLocation

T = TypeVar("T")
PREFIX = "thumbgen:"
SCHEMA = "1"
_P = PREFIX.encode()
_RECORD_FIELDS = (
    "source", "state", "attempts", "error", "size", "mtime_ns", "outputs",
    "queued_at", "started_at", "finished_at", "priority", "rel_dir", "version", "info",
)  # fmt: skip
_STATES = {s.value.encode(): s for s in State}


def enc(text: str) -> bytes:
    """A path or message as the bytes Redis keeps (any Linux name)."""
    return text.encode("utf-8", "surrogateescape")


def dec(value: bytes) -> str:
    """The ``str`` :func:`enc` was given."""
    return value.decode("utf-8", "surrogateescape")


def key(name: str) -> bytes:
    """A key of this queue."""
    return _P + name.encode()


#: The marker a process leaves when it finds the queue's keys gone; only
#: ``thumbgen repair`` removes it (see :func:`lost_message`).
LOST = "lost"


def lost_message(location: RedisLocation, seen: str) -> str:
    """The one line about a Redis queue whose keys vanished."""
    return (
        f"Queue {location.shown} was lost ({seen}): Redis no longer holds its jobs (a "
        "FLUSHALL, a failover to an empty replica, or keys evicted); nothing was recreated. "
        "Turn on persistence and maxmemory-policy noeviction, then `thumbgen repair` "
        "starts a new, empty queue there"
    )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _float(value: bytes | None) -> float | None:
    return None if value is None else float(value)


class RedisBase:
    """One connection to a Redis queue, with the reading half of the store."""

    def __init__(
        self,
        location: RedisLocation,
        tokens: Tokens,
        *,
        create: bool = True,
        readonly: bool = False,
    ) -> None:
        self.location = location
        self.settings = connection.Settings.from_env()
        self.readonly = readonly
        self._tokens = tokens
        # Any: redis-py types every reply as a union of what any command may
        # return; each call below knows which one it gets (bytes, as sent).
        self.r: Any = connection.connect(location, self.settings)
        self._options: dict[bytes, Options] = {}
        self._scripts: dict[str, Any] = {}
        schema = self._once(lambda: self.r.hget(key("meta"), "schema"))
        if schema is None:
            lost = self._once(lambda: self.r.get(key(LOST)))
            if lost is not None:
                raise QueueLost(lost_message(location, dec(lost)))
            if not create or readonly:
                raise QueueError(
                    f"No queue at {location.shown}; `thumbgen add` creates one (or check --queue)"
                )
            self._once(lambda: self.r.hsetnx(key("meta"), "schema", SCHEMA))
        elif schema.decode() != SCHEMA:
            raise QueueError(
                f"Queue {location.shown} was made by another thumbgen (schema "
                f"{schema.decode()}, this one reads {SCHEMA}); use a matching thumbgen"
            )

    # -- plumbing ---------------------------------------------------------

    def _once(self, step: Callable[[], T]) -> T:
        return connection.once(self.location, step)

    def _patiently(self, step: Callable[[], T]) -> T:
        return connection.patiently(self.location, self.settings, step)

    def _writable(self) -> None:
        if self.readonly:
            raise QueueError(f"Queue {self.location.shown} is open for reading only")

    def _script(self, name: str, source: str) -> Any:
        """A registered script (EVALSHA, loaded again by redis-py after a restart)."""
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self.r.register_script(source)
        return script

    def _run(self, name: str, source: str, args: Sequence[Any], *, patient: bool = True) -> Any:
        self._writable()
        script = self._script(name, source)

        def step() -> Any:
            try:
                return script(args=[_P, *args])
            except Exception as exc:
                if "THUMBGEN_QUEUE_LOST" not in str(exc):
                    raise
            raise self._lost()

        return self._patiently(step) if patient else self._once(step)

    def _lost(self) -> QueueLost:
        """The queue's keys are gone: leave a marker, so that no ``add`` starts afresh silently."""
        import socket

        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        seen = f"found gone at {when} by a thumbgen on {socket.gethostname()}"
        with contextlib.suppress(Exception):
            self.r.set(key(LOST), enc(seen), nx=True)
        return QueueLost(lost_message(self.location, seen))

    def options_for(self, digest: bytes) -> Options:
        """The options stored under ``digest`` (cached: they never change)."""
        if digest not in self._options:
            text = self._once(lambda: self.r.hget(key("specs"), digest))
            if text is None:
                raise QueueError(f"Queue {self.location.shown} lost the options {digest!r}")
            self._options[digest] = Options.from_json(text.decode())
        return self._options[digest]

    # -- reading ----------------------------------------------------------

    def counts(self) -> Counts:
        """Jobs per state from the counters the scripts keep: one HGETALL."""
        raw = self._once(lambda: self.r.hgetall(key("counts")))
        return Counts(**{s.value: int(raw.get(s.value.encode(), 0)) for s in State})

    def totals(self) -> dict[str, int]:
        """Tries ever ended, by outcome, as the scripts raise them: one HGETALL."""
        raw = self._once(lambda: self.r.hgetall(key("totals")))
        return {dec(k): int(v) for k, v in raw.items()}

    def batch_counts(self, batch: str, extra_ids: Sequence[int] = ()) -> Counts:
        """Jobs per state for one batch (its counters) plus ``extra_ids`` from other batches."""
        raw = self._once(lambda: self.r.hgetall(key("batch:") + enc(batch)))
        totals = {s: int(raw.get(s.value.encode(), 0)) for s in State}
        rows = self._hmget_jobs(extra_ids, ("state", "batch"))
        for state, b in rows:
            if state is not None and b != enc(batch):
                totals[_STATES[state]] += 1
        return Counts(**{s.value: n for s, n in totals.items()})

    def _hmget_jobs(self, ids: Sequence[int | bytes], fields: Sequence[str]) -> list[list[Any]]:
        def step() -> list[list[Any]]:
            pipe = self.r.pipeline(transaction=False)
            for job_id in ids:
                pipe.hmget(key("job:") + str(int(job_id)).encode(), list(fields))
            return list(pipe.execute()) if ids else []

        return self._once(step)

    def _failures_of(self, ids: Sequence[bytes]) -> list[tuple[bytes, Failure]]:
        rows = self._hmget_jobs(ids, ("source", "error", "finished_at", "batch"))
        return [
            (b or b"", Failure(dec(src), dec(err) if err else "failed", float(fin or 0)))
            for src, err, fin, b in rows
            if src is not None
        ]

    def failures(self, limit: int | None = None) -> list[Failure]:
        """Failed jobs, newest first."""
        stop = -1 if limit is None else limit - 1
        if limit == 0:
            return []
        ids = self._once(lambda: self.r.zrevrange(key("failed_at"), 0, stop))
        return [f for _, f in self._failures_of(ids)]

    def batch_failures(self, batch: str, extra_ids: Sequence[int] = ()) -> list[Failure]:
        """Failed jobs among one batch plus ``extra_ids``, oldest first."""
        ids = self._once(lambda: self.r.zrange(key("failed_at"), 0, -1))
        extra = {str(i).encode() for i in extra_ids}
        found = [
            f
            for (b, f), job_id in zip(self._failures_of(ids), ids, strict=False)
            if b == enc(batch) or job_id in extra
        ]
        return sorted(found, key=lambda f: f.finished_at)

    def jobs(self, state: State | None = None, limit: int | None = None) -> list[JobRecord]:
        """Jobs in id order (the order first queued), optionally of one state."""
        if limit == 0:
            return []
        index = key("all") if state is None else key("s:" + state.value)
        ids = self._once(lambda: self.r.zrange(index, 0, -1 if limit is None else limit - 1))
        return self.records_of(ids)

    def records_of(self, ids: Sequence[bytes | int]) -> list[JobRecord]:
        """The jobs of ``ids`` that exist, in that order, with their labels."""
        rows = [
            (int(i), row)
            for i, row in zip(ids, self._hmget_jobs(ids, _RECORD_FIELDS), strict=True)
            if row[0]
        ]
        labels = self.labels_of([row[0] for _, row in rows])
        return [_record(i, row, label) for (i, row), label in zip(rows, labels, strict=True)]

    def labels_of(self, sources: Sequence[bytes]) -> list[str]:
        """The label of each source (as stored, :func:`enc`), "" where it has none."""
        if not sources:
            return []
        found = self._once(lambda: self.r.hmget(key("labels"), list(sources)))
        return [dec(label) if label else "" for label in found]

    def job(self, ref: int | str) -> JobDetail | None:
        """One job by id, or by source (its most recently queued job), with its tries."""
        if isinstance(ref, str):
            source = enc(ref)
            ids = self._once(lambda: self.r.hget(key("sources"), source))
            if not ids:
                return None
            candidates = ids.split(b",")
            times = self._hmget_jobs(candidates, ("queued_at",))
            job_id = int(
                max(
                    zip(candidates, times, strict=True),
                    key=lambda c: (float(c[1][0] or 0), int(c[0])),
                )[0]
            )
        else:
            job_id = int(ref)
        rows = self._hmget_jobs([job_id], (*_RECORD_FIELDS, "spec"))
        if not rows or rows[0][0] is None:
            return None
        *fields, spec = rows[0]
        history = self._once(lambda: self.r.lrange(key(f"hist:{job_id}"), 0, -1))
        tries = tuple(_attempt(json.loads(entry)) for entry in history)
        label = self.labels_of([fields[0]])[0]
        return JobDetail(_record(job_id, fields, label), self.options_for(spec), tries)

    def done_jobs(
        self, match: Callable[[Options], bool] | None = None
    ) -> list[tuple[JobRecord, Options]]:
        """Done jobs whose options pass ``match``; see :class:`JobStore`."""
        ids = self._once(lambda: self.r.zrange(key("s:done"), 0, -1))
        rows = self._hmget_jobs(ids, (*_RECORD_FIELDS, "spec"))
        verdicts: dict[bytes, Options | None] = {}
        found: list[tuple[JobRecord, Options]] = []
        for job_id, row in zip(ids, rows, strict=True):
            *fields, spec = row
            if fields[0] is None or spec is None:
                continue  # cleared meanwhile
            if spec not in verdicts:
                options = self.options_for(spec)
                verdicts[spec] = options if match is None or match(options) else None
            chosen = verdicts[spec]
            if chosen is not None:
                found.append((_record(int(job_id), fields), chosen))
        return sorted(found, key=lambda pair: pair[0].id)

    def finished_since(self, since: float) -> int:
        """Jobs done or failed at or after ``since``: one ZCOUNT."""
        return int(self._once(lambda: self.r.zcount(key("finished_at"), since, "+inf")))

    def paused(self) -> bool:
        """Whether the queue is paused: one HEXISTS."""
        return bool(self._once(lambda: self.r.hexists(key("meta"), "paused")))

    def warnings(self) -> list[str]:
        """Persistence off, or an eviction policy that may drop the queue's keys.

        Managed services often refuse CONFIG: then there is nothing to say.
        """
        try:
            config: dict[str, str] = {}
            for name in ("appendonly", "save", "maxmemory-policy"):
                # redis-py decodes CONFIG GET's reply itself (str or bytes by version).
                for k, v in self.r.config_get(name).items():
                    config[_text(k)] = _text(v)
        except Exception:
            return []
        shown, found = self.location.shown, []
        if config.get("appendonly") != "yes":
            kept = "nothing" if not config.get("save") else "only periodic snapshots"
            found.append(
                f"Redis at {shown} keeps {kept} on disk (appendonly no): a restart or "
                "failover can lose queued jobs; set appendonly yes"
            )
        policy = config.get("maxmemory-policy", "noeviction")
        if policy != "noeviction":
            found.append(
                f"Redis at {shown} may evict keys (maxmemory-policy {policy}): "
                "the queue can lose jobs; set maxmemory-policy noeviction"
            )
        return found

    def workers(self) -> list[WorkerInfo]:
        """Every registered worker, oldest first."""
        return self._once(self._workers)

    def _workers(self) -> list[WorkerInfo]:
        ids = sorted(self.r.smembers(key("workers")))
        pipe = self.r.pipeline(transaction=False)
        for w in ids:
            pipe.hgetall(key("worker:") + w)
        found = []
        for w, h in zip(ids, pipe.execute(), strict=True):
            if not h:
                continue
            current = h.get(b"current")
            found.append(
                WorkerInfo(
                    dec(w),
                    dec(h[b"host"]),
                    int(h[b"pid"]),
                    dec(h[b"proc_start"]) if h.get(b"proc_start") else None,
                    float(h[b"started_at"]),
                    float(h[b"heartbeat"]),
                    int(h.get(b"jobs_done", 0)),
                    dec(current) if current else None,
                )
            )
        return sorted(found, key=lambda w: w.started_at)

    def close(self) -> None:
        """Release the connections."""
        self.r.close()


def _record(job_id: int, row: Sequence[Any], label: str = "") -> JobRecord:
    source, state, attempts, error, size, mtime_ns, outputs, *times = row
    queued_at, started_at, finished_at = (_float(t) for t in times[:3])
    priority, rel_dir, version, info = times[3:]
    return JobRecord(
        job_id,
        dec(source),
        _STATES[state],
        int(attempts or 0),
        dec(error) if error else None,
        int(size or 0),
        int(mtime_ns or 0),
        tuple(json.loads(outputs)) if outputs else (),
        queued_at,
        started_at,
        finished_at,
        int(priority or 0),
        dec(rel_dir) if rel_dir else "",
        dec(version) if version else "",
        label,
        json.loads(info) if info else None,
    )


def _attempt(entry: Sequence[Any]) -> Attempt:
    """One try: [number, worker, host, started, ended, outcome, error]."""
    number, worker, host, started_at, ended_at, outcome, error = entry
    return Attempt(
        int(number),
        worker,
        host or "",
        float(started_at),
        None if ended_at is None else float(ended_at),
        None if outcome is None else Outcome(outcome),
        error,
    )
