"""Worker processes: a Huey consumer made to never lose or strand a job.

What thumbgen adds to Huey's process consumer:

- every worker process registers itself and sends a heartbeat, so ``status``
  and ``add --wait`` know who is alive and what each one is doing;
- workers and the scheduler exit when their parent dies (Huey's would keep
  consuming as orphans, notes/huey.md section 1);
- SIGINT, SIGTERM and SIGHUP all mean "finish the running jobs, then stop"
  (bounded by a timeout); a second signal interrupts, and interrupted jobs go
  straight back to the queue;
- the main process recovers the jobs of dead workers and replaces lost tokens
  at start and every few seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from thumbgen.errors import QueueLost, ThumbgenError, TransientError
from thumbgen.jobqueue import liveness, patience
from thumbgen.jobqueue.contract import WorkerInfo
from thumbgen.jobqueue.huey_app import Queue, import_huey
from thumbgen.workers.stopping import STOPPING_MESSAGE, StopSignals

from . import runner
from .config import WorkerConfig
from .manifests import ManifestWriter

import_huey()  # before Huey's consumer: without redis-py when it is not needed
from huey.consumer import (  # noqa: E402
    Consumer,
    ConsumerStopped,
    ProcessEnvironment,
    Scheduler,
    Worker,
)

log = logging.getLogger("thumbgen.worker")

T = TypeVar("T")

HEARTBEAT_SECONDS = 2.0
MAINTENANCE_SECONDS = 5.0


#: glibc's mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
#: Free memory at the top of the heap beyond this goes back to the kernel.
_TRIM_THRESHOLD = 512 * 1024 * 1024


def keep_freed_memory() -> None:
    """Make malloc reuse freed memory for the next job rather than hand it back (glibc).

    libjpeg allocates a progressive file's coefficient buffer for the whole
    image (72 MB at 24 MP) with malloc. glibc maps anything above 32 MB
    afresh and unmaps it when freed, so every such decode paid about 18,000
    page faults: 45 ms of system time on a 24 MP photo, 40% of its DC-scan
    decode. From the heap the next job reuses the pages. On the peers
    corpus (38 photos, progressive): system time 0.47 s -> 0.1 s, peak RSS
    151 -> 131 MB (one heap instead of maps beside it). Jobs run in the
    worker's main thread, whose heap can grow without mmap (and glibc falls
    back to mmap if it cannot).
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    except (OSError, AttributeError):
        return


def preload() -> None:
    """Import before forking what every worker would otherwise import for its first job."""
    # Pillow's common format plugins (Image.open loads them on first use)
    # and ctypes (die_with_parent): each worker paid 10-20 ms for them.
    import ctypes  # noqa: F401

    from PIL import Image

    Image.preinit()


def run_worker(queue: Queue, config: WorkerConfig) -> bool:
    """Run worker processes until stopped; True if a signal stopped them."""
    parent = os.getppid()
    early = _start_up(queue, config, parent)
    if early is None:
        queue.close()
        return True
    preload()
    # The children must open their own connections, never inherit ours.
    queue.close()
    consumer = _JobConsumer(queue, config)
    consumer.start()
    health, next_maintenance = time.monotonic(), 0.0
    locked: list[bool] = [False]  # whether the queue is locked right now (told once)
    # Installed after start(), which sets Huey's own handlers: ours decide. The
    # second signal raises KeyboardInterrupt inside consumer.stop(), which
    # Huey answers by interrupting the children (their jobs are released).
    lost: QueueLost | None = None
    with StopSignals(grace=1, received=early) as stop:
        try:
            while not stop.count:
                health = consumer.loop(health)
                try:
                    if time.monotonic() >= next_maintenance:
                        next_maintenance = time.monotonic() + MAINTENANCE_SECONDS
                        if not _waiting_out_locks(lambda: _maintain(queue), locked):
                            continue
                    if config.burst and _waiting_out_locks(lambda: _drained(queue), locked):
                        break
                except QueueLost as exc:
                    lost = exc  # said once, by whoever runs this worker
                    break
                if config.exit_with_parent and os.getppid() != parent:
                    break
            if stop.count:
                log.warning(STOPPING_MESSAGE)
            consumer.stop(graceful=True)
        except ConsumerStopped:
            pass
        finally:
            wound_down = _wind_down(queue, consumer)
            lost = lost or wound_down
    if lost is not None:
        raise lost
    return stop.count > 0


def _wind_down(queue: Queue, consumer: Consumer) -> QueueLost | None:
    """After the children: requeue what they left running, close the queue."""
    _reap(consumer)
    lost = None
    # Whatever the children were running when they stopped goes back now
    # (or, if the queue is locked or out of reach, at the next worker start).
    try:
        queue.store.recover(time.time())
    except TransientError as exc:
        log.warning("%s; the next worker start will requeue the jobs left", exc)
    except QueueLost as exc:
        lost = exc
    # Closing is what keeps a replaced file safe: SQLite checkpoints
    # into the file it opened (the old one) and removes the -wal,
    # which would otherwise be replayed into the new file by name.
    queue.close()
    return lost


def _start_up(queue: Queue, config: WorkerConfig, parent: int) -> int | None:
    """Requeue the jobs of dead workers first; the stop signals meanwhile, or None if told to stop.

    Workers of a command (``exit_with_parent``) are told at once (a stop
    signal) when that command dies, even while they wait out a queue outage,
    which the main loop's check would only see once the queue is back.
    """
    if config.exit_with_parent:
        liveness.die_with_parent(signal.SIGTERM)
        if os.getppid() != parent:
            return None
    with StopSignals() as early:
        started = _patiently(lambda: _maintain(queue))
    return early.count if started else None


def _waiting_out_locks(step: Callable[[], T], locked: list[bool]) -> T | None:
    """Run ``step``; on a locked queue log it (once per lock) and return None.

    A lock held by another process (a backup, a ``sqlite3`` shell left in a
    transaction) outlasting the busy timeout must not stop the service: the
    next round tries again, and the children wait on their own.
    """
    try:
        result = step()
    except TransientError as exc:
        if not locked[0] and not patience.given_up():
            log.warning("%s; waiting for it (workers keep their jobs)", exc)
            locked[0] = True
        return None
    if locked[0]:
        log.warning("queue writable again; carrying on")
        locked[0] = False
    return result


def _patiently(step: Callable[[], object]) -> bool:
    """Run ``step`` until the queue lets it (start-up recovery on a locked queue).

    False if told to stop first (:mod:`~thumbgen.jobqueue.patience`).
    """
    locked = [False]
    while _waiting_out_locks(lambda: step() or True, locked) is None:
        if not patience.pause(1.0):
            return False
    return True


def _maintain(queue: Queue) -> bool:
    store = queue.store
    recovered = store.recover(time.time())
    if recovered:
        log.warning("requeued %d job(s) of workers that died", recovered)
    store.top_up()
    return True


def _drained(queue: Queue) -> bool:
    counts = queue.store.counts()
    return counts.queued + counts.running == 0


def _reap(consumer: Consumer) -> None:
    """Make sure no child outlives the consumer (one stuck in C code gets SIGKILL)."""
    procs_ = [p for _, p in consumer.worker_threads] + [consumer.scheduler]
    deadline = time.monotonic() + 2.0
    for proc in procs_:
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in procs_:
        if proc.is_alive():
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(5.0)


class _JobConsumer(Consumer):  # type: ignore[misc]
    def __init__(self, queue: Queue, config: WorkerConfig) -> None:
        self._queue = queue
        self._config = config
        super().__init__(
            queue.huey,
            workers=config.workers,
            periodic=False,
            initial_delay=0.05,
            backoff=1.15,
            max_delay=config.poll_max,
            scheduler_interval=1,
            worker_type="process",
            check_worker_health=True,
            health_check_interval=2,
            shutdown_timeout=config.shutdown_timeout,
        )
        # How long each turn of the main loop waits on Huey's stop flag, which
        # is how late a stop signal is seen (Huey: 0.1 s, half the fixed
        # cost of a small ``add --wait``'s shutdown). A turn costs microseconds.
        self._stop_flag_timeout = 0.02

    def get_environment(self, worker_type: str) -> ProcessEnvironment:
        # Children ignore SIGINT (a terminal's Ctrl-C reaches the whole group;
        # the parent decides) and are interrupted with SIGUSR1, which they
        # also receive if the parent dies.
        return ProcessEnvironment(signal.SIGINT, signal.SIGUSR1)

    def _create_worker(self) -> Worker:
        return _JobWorker(
            self._queue,
            self._config,
            huey=self.huey,
            stop_flag=self.stop_flag,
            default_delay=self.default_delay,
            max_delay=self.max_delay,
            backoff=self.backoff,
        )

    def _create_scheduler(self) -> Scheduler:
        return _OrphanAwareScheduler(
            huey=self.huey,
            stop_flag=self.stop_flag,
            interval=self.scheduler_interval,
            periodic=self.periodic,
        )


class _OrphanAwareScheduler(Scheduler):  # type: ignore[misc]
    def initialize(self) -> None:
        super().initialize()
        self._parent = os.getppid()
        liveness.die_with_parent(signal.SIGKILL)

    def loop(self, now: Any = None) -> None:
        if os.getppid() != self._parent:
            raise KeyboardInterrupt
        super().loop(now)


class _JobWorker(Worker):  # type: ignore[misc]
    def __init__(self, queue: Queue, config: WorkerConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._queue = queue
        self._config = config
        self._id = ""
        self._beat: _Heartbeat | None = None
        self._manifests = ManifestWriter()

    def initialize(self) -> None:
        super().initialize()
        self._parent = os.getppid()
        liveness.die_with_parent(signal.SIGUSR1)
        # Stopping during a queue outage: the outcome of the job in hand cannot
        # be recorded until the queue is back, so it is left to its lease (it
        # runs again) instead of holding the stop up for the shutdown timeout.
        patience.give_up_when(self.stop_flag.is_set)
        # A SIGTERM or SIGHUP sent to the whole group is the parent's to handle.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        keep_freed_memory()
        # When memory runs out, the kernel should kill the worker holding the
        # decode, never the main process, which requeues or fails its job.
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
            f.write("500")
        pid, now = os.getpid(), time.time()
        self._id = f"{liveness.hostname()}:{pid}:{uuid.uuid4().hex[:8]}"
        store = self._queue.store
        info = WorkerInfo(
            self._id, liveness.hostname(), pid, liveness.start_time(pid), now, now, 0, None
        )
        told = False
        while True:
            # A worker started again (after a kill) while the queue is locked
            # waits it out, as every worker does, instead of dying of it.
            try:
                store.register_worker(info)
                break
            except TransientError as exc:
                if not told:
                    log.warning("%s; waiting to register this worker", exc)
                    told = True
                time.sleep(1.0)
        worker_id, policy, config = self._id, self._config.retry, self._config
        queue = self._queue

        def on_token() -> None:
            try:
                job = runner.run_next(
                    queue.store,
                    worker_id,
                    policy,
                    config.job_timeout,
                    config.max_memory,
                    self._manifests,
                )
                if job is not None and config.news_fd >= 0:
                    # Full pipe (the reader is woken already) or reader gone: no matter.
                    with contextlib.suppress(OSError):
                        os.write(config.news_fd, b"\0")
            except QueueLost:
                # The parent says it, once, and stops every worker.
                time.sleep(1.0)
            except ThumbgenError as exc:
                # The queue itself failed (a Redis outage at the moment of a
                # claim): one line, not a traceback. Nothing is lost: the job
                # is still queued, or running under a lease that expires, and
                # maintenance replaces the token this call used up.
                log.warning("%s; the job stays in the queue", exc)
                time.sleep(1.0)

        queue.on_token = on_token
        self._beat = _Heartbeat(self._queue, self._id)
        self._beat.start()

    def loop(self, now: Any = None) -> None:
        if os.getppid() != self._parent:
            raise KeyboardInterrupt
        ran = self.task_count
        super().loop(now)
        if self.task_count == ran and self._manifests.pending:
            # No work this round: the manifests this worker left pending
            # (spaced-out rewrites) are written now, so a drained queue has them exact.
            self._flush_manifests()

    def _flush_manifests(self) -> None:
        try:
            self._manifests.flush(self._queue.store)
        except Exception:
            # A queue error while reading the done jobs: the next finish or
            # idle round tries again; the worker goes on.
            log.warning("manifest rewrite failed", exc_info=True)

    def shutdown(self) -> None:
        self._flush_manifests()
        if self._beat is not None:
            self._beat.stop()
        with contextlib.suppress(Exception):
            self._queue.store.unregister_worker(self._id)
        super().shutdown()


class _Heartbeat(threading.Thread):
    def __init__(self, queue: Queue, worker_id: str) -> None:
        super().__init__(name="thumbgen-heartbeat", daemon=True)
        self._queue = queue
        self._worker_id = worker_id
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(HEARTBEAT_SECONDS):
            try:
                self._queue.store.heartbeat(self._worker_id, time.time())
            except Exception:
                # A busy database only delays the beat; the lease allows for it.
                log.debug("heartbeat failed", exc_info=True)
        self._queue.close_thread()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(HEARTBEAT_SECONDS + 1)
