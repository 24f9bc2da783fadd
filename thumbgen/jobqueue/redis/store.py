"""The Redis job store: each transition is one Lua script (:mod:`.scripts`).

The Python side reads what a decision needs, asks
:mod:`thumbgen.jobqueue.policy` to decide, and hands the outcome to a script
that checks again the state it starts from, so two processes racing on one
job (two ``add``\\ s, two workers, a worker and ``recover``) can never both win.

Fencing: a claim returns a token (a number from one counter that only
grows) that this store keeps for the job, and every outcome presents it. A
worker cut off for longer than its lease has its job moved back and claimed
again with a new token, so whatever the first worker says when it comes
back is refused: it records nothing stale.

Liveness: besides the policy's rule (dead pid on this host, old heartbeat
elsewhere), any running job whose lease expired goes back. Network
namespaces share a host name and a process table, and a worker on a
machine that is cut off looks alive from its own host: the lease is the one
judge that works across a network.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from thumbgen import locations
from thumbgen.jobqueue import liveness, policy
from thumbgen.jobqueue.contract import Job, NewJob, State, SubmitResult, WorkerInfo
from thumbgen.jobqueue.policy import ExistingJob, SubmitPlan
from thumbgen.messages import display_path
from thumbgen.options import Options

from . import connection
from . import scripts as s
from .base import dec, enc, key
from .controls import RedisControls, us

#: Jobs per submit script: big enough to amortise the round trip, small
#: enough that one script holds Redis for only a few milliseconds.
SCRIPT_CHUNK = 1000
_STATES = {st.value.encode(): st for st in State}
log = logging.getLogger("thumbgen.redis")


def _record(job_key: str, job: NewJob) -> bytes:
    """One new job as the submit script reads it: its fields joined by NUL bytes."""
    return b"\0".join(
        (
            job_key.encode(),
            enc(job.source),
            enc(job.rel_dir),
            enc(job.target),
            str(job.size).encode(),
            str(job.mtime_ns).encode(),
            enc(job.version),
        )
    )


class RedisStore(RedisControls):
    """:class:`~thumbgen.jobqueue.contract.JobStore` on Redis; one per process and thread."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: Fencing tokens and sources of the jobs this store claimed.
        self._held: dict[int, tuple[bytes, str]] = {}

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
        """Queue ``jobs``, chunked scripts in one pipeline; see :class:`JobStore`."""
        if not jobs:
            return SubmitResult()
        digest = options.digest
        keyed = {policy.job_key(j.source, j.rel_dir, digest): j for j in jobs}
        plan = self._plan(keyed, force, exists, dry_run)
        if dry_run:
            return plan.result
        self._writable()
        states = dict(self._states_of(plan))
        now = time.time()
        common = [repr(now), us(now), enc(batch), priority, digest, options.to_json()]
        # The host that queued a job is the one whose view of its source
        # counts: a worker elsewhere that misses the file may lack a share.
        token, host = self._tokens.immediate(), enc(liveness.hostname())
        script = self._script("submit", s.SUBMIT)
        inserts, requeues = plan.inserts, plan.requeues

        def step() -> list[list[int]]:
            pipe = self.r.pipeline(transaction=False)
            for i in range(0, max(len(inserts), len(requeues)), SCRIPT_CHUNK):
                args: list[object] = [*common, token, host]
                part = inserts[i : i + SCRIPT_CHUNK]
                args.append(len(part))
                args += [_record(k, j) for k, j in part]
                again = requeues[i : i + SCRIPT_CHUNK]
                args.append(len(again))
                for row_id, j in again:
                    args += [row_id, states[row_id], j.size, j.mtime_ns, enc(j.version)]
                script(args=[key(""), *args], client=pipe)
            return list(pipe.execute())

        replies = self._once(step)
        result = plan.result
        result.queued = sum(int(r[0]) for r in replies)
        # Jobs another submit queued between our read and our write are pending.
        result.pending_ids.extend(int(i) for r in replies for i in r[1:])
        return result

    def _states_of(self, plan: SubmitPlan) -> list[tuple[int, str]]:
        ids = [row_id for row_id, _ in plan.requeues]
        rows = self._hmget_jobs(ids, ("state",))
        return [(i, row[0].decode()) for i, row in zip(ids, rows, strict=True) if row[0]]

    def _plan(
        self,
        keyed: Mapping[str, NewJob],
        force: bool,
        exists: Callable[[str], bool],
        dry_run: bool,
    ) -> SubmitPlan:
        keys = list(keyed)
        targets = sorted({j.target for j in keyed.values()})
        ids, owners = self._once(
            lambda: (
                self.r.hmget(key("keys"), keys),
                self.r.hmget(key("targets"), [enc(t) for t in targets]) if targets else [],
            )
        )
        found = [(k, int(i)) for k, i in zip(keys, ids, strict=True) if i is not None]
        fields = ("state", "size", "mtime_ns", "outputs", "error", "source_fault", "version")
        rows = self._hmget_jobs([i for _, i in found], fields)
        existing = {}
        for (k, row_id), (state, size, mtime, outputs, error, fault, version) in zip(
            found, rows, strict=True
        ):
            if state is None:  # cleared between the two reads
                continue
            existing[k] = ExistingJob(
                row_id,
                _STATES[state],
                int(size),
                int(mtime),
                json.loads(outputs) if outputs else None,
                dec(error) if error else None,
                fault != b"0",
                dec(version) if version else "",
            )
        owner_map = {t: dec(o) for t, o in zip(targets, owners, strict=True) if o is not None}
        return policy.plan_submit(
            keyed, existing, owner_map, force=force, exists=exists, dry_run=dry_run
        )

    # -- running ----------------------------------------------------------

    def claim(self, owner: str) -> Job | None:
        """Claim the best due job and open its try; see :class:`JobStore`."""
        now = time.time()
        # One request id for every retry of this claim: a reply lost with
        # the connection is answered again with the same job.
        request = uuid.uuid4().hex
        reply = self._run(
            "claim",
            s.CLAIM,
            [
                owner,
                repr(now),
                us(now),
                now + self.settings.lease,
                request,
                self._host_of(owner),
            ],
        )
        if not reply:
            return None
        job_id, source, rel_dir, spec, attempts, fence = reply
        job = Job(int(job_id), dec(source), dec(rel_dir), self.options_for(spec), int(attempts))
        self._held[job.id] = (fence, job.source)
        return job

    def _host_of(self, owner: str) -> str:
        host = self._once(lambda: self.r.hget(key("worker:") + enc(owner), "host"))
        return dec(host) if host else ""

    def _fence(self, job_id: int) -> bytes:
        # An empty fence (a job this store did not claim) checks the owner only;
        # owners are unique per process (host, pid and a random part).
        held = self._held.pop(job_id, None)
        return held[0] if held else b""

    @staticmethod
    def _outcome(job_id: int, recorded: object) -> None:
        if not recorded:
            # The fence (or the owner) did not match: the lease ran out and
            # the job went back; whatever this try found is not recorded.
            log.warning(
                "job %d was taken back while this worker ran it (lease expired); "
                "its outcome here is not recorded",
                job_id,
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
        """Mark a job done, if ``owner`` still holds it; see :class:`JobStore`."""
        now = time.time()
        args = [job_id, owner, self._fence(job_id), repr(now), json.dumps(list(outputs))]
        learnt = "" if info is None else json.dumps(info, separators=(",", ":"))
        args += [size, mtime, enc(version), learnt]
        self._outcome(job_id, self._run("finish", s.FINISH, args))

    def fail(self, job_id: int, owner: str, error: str, *, source_fault: bool = True) -> None:
        """Mark a job failed, if ``owner`` still holds it; see :class:`JobStore`.

        A source missing on this machine may be a share that is not mounted
        here: the reason says so, and the failure is not held against the
        source, so the next ``add`` queues it again once the share is there.
        """
        held = self._held.get(job_id)
        local = held is not None and locations.is_path(held[1])
        if held is not None and local and not os.path.lexists(held[1]) and "not found" in error:
            error = (
                f"{display_path(held[1])} not found on host {liveness.hostname()}; "
                "is the share mounted?"
            )
            source_fault = False
        now = time.time()
        args = [job_id, owner, self._fence(job_id), repr(now), enc(error), json.dumps(error)]
        total = policy.total_name("failed", error)
        self._outcome(job_id, self._run("fail", s.FAIL, [*args, int(source_fault), total]))

    def vanish(self, job_id: int, owner: str, reason: str) -> None:
        """Mark a job vanished if this host queued it, else fail it; see :class:`JobStore`.

        A source missing here but queued from another machine (or by a
        thumbgen that did not record its host) may be on a share this host
        has not mounted: that is the failure :meth:`fail` describes.
        """
        queued_on = self._once(lambda: self.r.hget(key("job:") + str(job_id).encode(), "host"))
        if queued_on is None or dec(queued_on) != liveness.hostname():
            self.fail(job_id, owner, reason, source_fault=False)
            return
        now = time.time()
        args = [job_id, owner, self._fence(job_id), repr(now), enc(reason), json.dumps(reason)]
        self._outcome(job_id, self._run("vanish", s.VANISH, args))

    def retry_later(self, job_id: int, owner: str, error: str, delay: float) -> None:
        """Requeue a job due in ``delay`` seconds, with a scheduled token; see :class:`JobStore`."""
        now = time.time()
        data, timestamp = self._tokens.delayed(delay)
        args = [job_id, owner, self._fence(job_id), repr(now), "retry", enc(error)]
        recorded = self._run(
            "requeue_own",
            s.REQUEUE_OWN,
            [*args, json.dumps(error), us(now + delay), us(now), data, repr(timestamp)],
        )
        self._outcome(job_id, recorded)

    def holds(self, job_id: int, owner: str) -> bool:
        """Whether ``owner`` still runs the job under this claim's fence; see JobStore."""
        held = self._held.get(job_id)
        job = key("job:") + str(job_id).encode()

        def read() -> list[Any]:
            with self.r.pipeline(transaction=False) as pipe:
                pipe.hmget(job, ["state", "owner", "fence"])
                pipe.hexists(key("meta"), "schema")
                return list(pipe.execute())

        (state, who, fence), present = connection.briefly(self.location, read)
        if not present:
            # Emptied (FLUSHALL, an empty replica, evictions): said as every script says it.
            raise self._lost()
        mine = who == enc(owner) and (held is None or fence == held[0])
        return state == b"running" and mine

    def release(self, job_id: int, owner: str) -> None:
        """Requeue an interrupted job at once; the try does not count."""
        now = time.time()
        args = [job_id, owner, self._fence(job_id), repr(now), "released", b"", "null"]
        recorded = self._run(
            "requeue_own",
            s.REQUEUE_OWN,
            [*args, us(now), us(now), self._tokens.immediate(), ""],
        )
        self._outcome(job_id, recorded)

    def recover(self, now: float) -> int:
        """Requeue the jobs of dead workers and every job whose lease expired."""
        self._writable()

        def read() -> tuple[list[WorkerInfo], list[bytes], list[bytes]]:
            running = self.r.zrange(key("s:running"), 0, -1)
            expired = self.r.zrangebyscore(key("leases"), "-inf", now)
            return self._workers(), running, expired

        workers, running, expired = self._patiently(read)
        owners_of = {
            int(job_id): row[0]
            for job_id, row in zip(running, self._hmget_jobs(running, ("owner",)), strict=True)
            if row[0] is not None
        }
        dead = policy.dead_owners(
            workers, sorted({dec(o) for o in owners_of.values()}), now, policy.alive_here
        )
        dead_set = {enc(o) for o in dead.owners}
        pairs: list[object] = []
        for job_id, owner in owners_of.items():
            if owner in dead_set:
                pairs += [job_id, owner]
        for expired_id in expired:
            pairs += [int(expired_id), b""]
        recovered = 0
        if pairs:
            recovered = int(
                self._run(
                    "recover",
                    s.RECOVER,
                    [
                        repr(now),
                        us(now),
                        self._tokens.immediate(),
                        policy.MAX_WORKER_DEATHS,
                        enc(policy.WORKER_DIED),
                        json.dumps(policy.WORKER_DIED),
                        *pairs,
                    ],
                )
            )
        if dead.workers:
            self._patiently(lambda: self._forget_workers(dead.workers))
        return recovered

    def _forget_workers(self, ids: Sequence[str]) -> None:
        pipe = self.r.pipeline(transaction=True)
        for w in ids:
            pipe.srem(key("workers"), enc(w))
            pipe.delete(key("worker:") + enc(w))
        pipe.execute()

    def top_up(self) -> int:
        """Replace lost tokens (none while paused); see :class:`JobStore`."""
        return int(self._run("top_up", s.TOP_UP, [self._tokens.immediate()]))

    # -- workers ----------------------------------------------------------

    def register_worker(self, info: WorkerInfo) -> None:
        """Record a started worker (its hash and its place in the set)."""
        self._writable()
        fields: dict[str, object] = {
            "host": enc(info.host),
            "pid": info.pid,
            "proc_start": info.proc_start or "",
            "started_at": repr(info.started_at),
            "heartbeat": repr(info.heartbeat),
            "jobs_done": info.jobs_done,
        }
        if info.current is not None:
            fields["current"] = enc(info.current)

        def step() -> None:
            pipe = self.r.pipeline(transaction=True)
            pipe.delete(key("worker:") + enc(info.id))
            pipe.hset(key("worker:") + enc(info.id), mapping=fields)
            pipe.sadd(key("workers"), enc(info.id))
            pipe.execute()

        self._patiently(step)

    def heartbeat(self, worker_id: str, now: float) -> None:
        """Refresh a worker's heartbeat and the lease of the job it runs."""
        self._run("heartbeat", s.HEARTBEAT, [enc(worker_id), repr(now), now + self.settings.lease])

    def unregister_worker(self, worker_id: str) -> None:
        """Forget a stopped worker."""
        self._writable()
        self._patiently(lambda: self._forget_workers([worker_id]))
