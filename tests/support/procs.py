"""Running real thumbgen processes from tests: argv, run-to-completion, polling, workers.

And the guard of the tiers that start none (:func:`forbid_processes`).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing.process
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest


def thumbgen_argv(*args: str) -> list[str]:
    """argv that runs the installed thumbgen package with this interpreter."""
    return [sys.executable, "-m", "thumbgen", *args]


def run_thumbgen(
    *args: str, env: dict[str, str], cwd: Path | str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``thumbgen ARGS`` to completion and capture its output."""
    return subprocess.run(
        thumbgen_argv(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@contextlib.contextmanager
def background(
    *args: str,
    env: dict[str, str],
    log: Path,
    graceful: bool = False,
    prefix: Sequence[str] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """``thumbgen ARGS`` in its own session, output appended to ``log``.

    ``prefix`` is put before the command (``ip netns exec NAME``). On leaving
    the block the process is stopped (first with SIGINT, given 20 s, when
    ``graceful``) and then its whole process group is killed, so no worker
    child outlives the test.
    """
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [*prefix, *thumbgen_argv(*args)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if graceful and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def worker(
    env: dict[str, str], log: Path, *args: str, prefix: Sequence[str] = ()
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """A ``thumbgen worker ARGS`` in its own process group, killed with it at the end."""
    return background("worker", *args, env=env, log=log, prefix=prefix)


def status_json(env: dict[str, str], *extra: str) -> dict[str, Any]:
    """What ``thumbgen status --json EXTRA`` prints, run as a separate process."""
    result = run_thumbgen("status", "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def process_table() -> dict[int, tuple[str, int]]:
    """Every process now: pid -> (state letter, parent pid), from /proc/PID/stat."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            table[int(entry)] = (fields[0], int(fields[1]))
    return table


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie nobody reaped yet is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, zombies included."""
    children: dict[int, list[int]] = {}
    for child, (_, parent) in process_table().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def processes_using(queue_path: str) -> list[int]:
    """PIDs of live processes whose command line names ``queue_path`` (watchers, workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if queue_path.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


@contextlib.contextmanager
def watching(
    env: dict[str, str], log: Path, *args: str, queue_path: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``thumbgen --queue Q watch --settle 1 ARGS``, stopped with Ctrl-C, its workers killed after.

    The queue is on argv so that its processes can be found: the workers run
    in a session of their own.
    """
    argv = ("--queue", queue_path, "watch", "--settle", "1", *args)
    try:
        with background(*argv, env=env, log=log, graceful=True) as proc:
            yield proc
    finally:
        for pid in processes_using(queue_path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def queue_jobs(queue_path: str) -> list[Any]:
    """Every job in the queue at ``queue_path``, read through the job-store protocol.

    An empty list while the queue does not exist yet (a process is still
    starting), so that tests can poll it.
    """
    from thumbgen.errors import QueueError
    from thumbgen.jobqueue.backend import open_queue

    try:
        queue = open_queue(queue_path, create=False, readonly=True)
    except QueueError:
        return []  # not there yet, or its creator has not written the schema yet
    try:
        return list(queue.store.jobs(limit=None))
    finally:
        queue.close()


def queue_counts(queue_path: str) -> dict[str, int]:
    """Jobs per state in the queue at ``queue_path`` (zeros before it exists)."""
    from thumbgen.errors import QueueError
    from thumbgen.jobqueue.backend import open_queue

    try:
        queue = open_queue(queue_path, create=False, readonly=True)
    except QueueError:
        return {"queued": 0, "running": 0, "done": 0, "failed": 0}
    try:
        c = queue.store.counts()
        return {"queued": c.queued, "running": c.running, "done": c.done, "failed": c.failed}
    finally:
        queue.close()


def queue_workers(queue_path: str) -> int:
    """Registered worker processes (alive or not) in the queue at ``queue_path``."""
    from thumbgen.jobqueue.backend import open_queue

    queue = open_queue(queue_path, create=False, readonly=True)
    try:
        return len(queue.store.workers())
    finally:
        queue.close()


@contextlib.contextmanager
def queue_locked(queue_path: str) -> Iterator[None]:
    """A real ``sqlite3`` shell holding an exclusive lock on the queue for the block."""
    shell = subprocess.Popen(
        ["sqlite3", queue_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert shell.stdin is not None
    try:
        shell.stdin.write("BEGIN EXCLUSIVE;\nSELECT count(*) FROM sqlite_master;\n")
        shell.stdin.flush()
        yield
        shell.stdin.write("COMMIT;\n")
        shell.stdin.flush()
        shell.stdin.close()
        shell.wait(30)
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()


def _refuse(what: str, attempts: list[str]) -> Callable[..., Any]:
    def refuse(*args: object, **kwargs: object) -> Any:
        attempts.append(what)
        raise AssertionError(
            f"{what} in a test of a tier that starts no process: "
            "a test that needs a process belongs in tests/e2e"
        )

    return refuse


def forbid_processes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every way of starting a process raise, for the rest of the test.

    Popen's child start (what subprocess.run and friends end in, however
    Popen was imported), fork and spawn in ``os``, and multiprocessing's
    start (Huey's process workers use it). Returns the list of attempts, so
    that a caller can fail the test even where thumbgen caught the error.
    """
    attempts: list[str] = []
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _refuse("subprocess.Popen", attempts))
    for name in (
        "fork",
        "forkpty",
        "posix_spawn",
        "posix_spawnp",
        "system",
        "popen",
        "spawnv",
        "spawnve",
        "spawnvp",
        "spawnvpe",
    ):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _refuse(f"os.{name}", attempts))
    monkeypatch.setattr(
        multiprocessing.process.BaseProcess, "start", _refuse("multiprocessing start", attempts)
    )
    return attempts
