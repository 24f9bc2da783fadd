"""A real ``thumbgen serve`` process for tests: on a free loopback port, stopped afterwards.

    with served(tmp_path, env, "-w", "1") as srv:
        r = srv.client().get("/status")

``served`` starts the process in a session of its own, waits until
``/health`` answers 200, and on leaving stops it with SIGTERM (graceful:
running jobs finish), then kills its whole process group so that no worker
outlives the test. ``srv.log()`` is everything the process printed (the
access log included), for assertion messages.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from .procs import thumbgen_argv
from .redis_server import free_port

#: Longest wait for a server to answer /health (a busy 2-core machine).
START_TIMEOUT = 60.0


class ServeProcess:
    """One running ``thumbgen serve`` and how to talk to it."""

    def __init__(
        self, proc: subprocess.Popen[bytes], port: int, log_path: Path, token: str | None
    ) -> None:
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.token = token
        self.url = f"http://127.0.0.1:{port}"

    @property
    def pid(self) -> int:
        """The server's process id (its workers are its children)."""
        return self.proc.pid

    def headers(self) -> dict[str, str]:
        """The Authorization header, when the server has a token."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, *, auth: bool = True, timeout: float = 60.0) -> httpx.Client:
        """An HTTP client on the server's base URL, sending the token unless ``auth=False``."""
        return httpx.Client(
            base_url=self.url, headers=self.headers() if auth else {}, timeout=timeout
        )

    def log(self) -> str:
        """What the process has printed so far."""
        return self.log_path.read_text(errors="replace")

    def rss_kib(self) -> int:
        """The server process's resident memory (VmRSS), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Block until ``/health`` answers 200; fail with the log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"thumbgen serve exited with {self.proc.returncode}:\n{self.log()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"thumbgen serve did not become healthy in {timeout} s:\n{self.log()}")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, a graceful exit awaited, then the group killed; the exit code (None: killed)."""
        code = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout)
        else:
            code = self.proc.returncode
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        return code


def serve_argv(tmp_path: Path, *args: str, port: int, out: Path | None = None) -> list[str]:
    """argv of ``thumbgen serve`` on ``port`` with thumbnails in ``tmp_path/thumbs`` by default."""
    argv = ["serve", "--port", str(port)]
    if not any(a in ("-o", "--out") for a in args):
        argv += ["-o", str(out or tmp_path / "thumbs")]
    return thumbgen_argv(*argv, *args)


@contextlib.contextmanager
def served(
    tmp_path: Path,
    env: dict[str, str],
    *args: str,
    token: str | None = None,
    wait: bool = True,
) -> Iterator[ServeProcess]:
    """``thumbgen serve ARGS`` on a free port until the block ends (see the module doc).

    ``token`` is passed as ``--token``; ``-o`` defaults to ``tmp_path/thumbs``
    and ``-w`` is whatever ``args`` say (the command's default: one per core).
    """
    port = free_port()
    extra = ("--token", token) if token else ()
    log_path = tmp_path / f"serve-{port}.log"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            serve_argv(tmp_path, *args, *extra, port=port),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    srv = ServeProcess(proc, port, log_path, token)
    try:
        if wait:
            srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


def upload(http: httpx.Client, paths: list[Path], **fields: str | list[str]) -> httpx.Response:
    """``POST /thumbnails`` with ``paths`` as form files (field ``file``) and ``fields``."""
    files = [("file", (p.name, p.read_bytes())) for p in paths]
    return http.post("/thumbnails", files=files, data=fields)


def wait_jobs(
    http: httpx.Client,
    ids: list[int],
    timeout: float = 120.0,
    states: tuple[str, ...] = ("done", "failed"),
) -> list[dict[str, object]]:
    """Poll ``GET /jobs/{id}`` until every job is in one of ``states``; their last answers."""
    deadline = time.monotonic() + timeout
    pending = list(dict.fromkeys(ids))
    found: dict[int, dict[str, object]] = {}
    while pending:
        job_id = pending[0]
        r = http.get(f"/jobs/{job_id}")
        r.raise_for_status()
        data = r.json()
        if data["state"] in states:
            found[job_id] = data
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {data['state']} after {timeout} s: {data}")
        time.sleep(0.05)
    return [found[i] for i in ids]


def upload_concurrently(
    url: str,
    payloads: list[tuple[str, bytes]],
    clients: int,
    headers: dict[str, str] | None = None,
) -> tuple[list[float], list[int], float]:
    """POST each (name, bytes) as its own upload from ``clients`` threads, one client each.

    Returns the per-request latencies (seconds), the job ids in payload order
    and the wall time of the whole run. Any answer but 202 raises.
    """
    import concurrent.futures
    import threading

    local = threading.local()
    made: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, headers=headers or {}, timeout=120)
            with lock:
                made.append(local.client)
        c: httpx.Client = local.client
        return c

    def one(payload: tuple[str, bytes]) -> tuple[float, int]:
        start = time.perf_counter()
        r = client().post("/thumbnails", files={"file": payload})
        elapsed = time.perf_counter() - start
        if r.status_code != 202:
            raise AssertionError(f"upload of {payload[0]}: {r.status_code} {r.text}")
        return elapsed, int(r.json()["files"][0]["id"])

    started = time.perf_counter()
    try:
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(one, payloads))
    finally:
        for c in made:
            c.close()
    wall = time.perf_counter() - started
    return [r[0] for r in results], [r[1] for r in results], wall


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
