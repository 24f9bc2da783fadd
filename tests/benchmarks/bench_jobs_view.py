"""The dashboard's jobs view at a million jobs: ``GET /jobs`` pages, SQLite and Redis.

``python tests/benchmarks/run.py jobs`` (``--quick``: 100,000 jobs). A queue
of 1,000,000 jobs is filled through ``store.submit`` in chunks (sources
that do not exist: submit does not stat them). On SQLite, ``bench_queue``'s
fill then marks 98% finished (1 in 25 failed) in one SQL ``UPDATE``; on
Redis 1 in 25 are claimed and failed through the store and the rest stay
queued (finishing a million that way would take longer than the measurement).
A real ``thumbgen serve -w 0`` answers.

Each page is timed twice, as the view asks for it: 50 jobs, newest first,
then the next page by ``X-Next-Cursor``; the same for oldest first, one
state and a page deep in the queue; and a whole ``GET /metrics`` scrape.
Two numbers per page:

- *service*: :func:`thumbgen.commands.browsing.page` and the JSON entries
  in this process, on its own connection: the server's own work.
- *HTTP*: the whole request to the served process on loopback with a kept
  connection: the server's time plus one loopback round trip and the
  client's parsing, so an upper bound of server time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from bench_common import Config, Goal, Reporter, TimingTable, clean_env, repeat, scratch
from bench_queue import SUBMIT_CHUNK, fill_queue, new_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.redis_server import RedisServer, free_port

from thumbgen.commands import browsing
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import State
from thumbgen.options import build_options

PAGE = 50
GOAL = Goal.time_below(0.1)


def _fill_redis(url: str, jobs: int, out_dir: str) -> float:
    """``jobs`` queued jobs through ``store.submit``; the seconds it took."""
    queue = open_queue(url)
    options = build_options(out_dir=out_dir)
    start = time.perf_counter()
    for first in range(0, jobs, SUBMIT_CHUNK):
        chunk = [
            new_job(f"{out_dir}-src/d{i // 1000:04d}/img{i:07d}.jpg", "", 1000, 1, out_dir)
            for i in range(first, min(jobs, first + SUBMIT_CHUNK))
        ]
        queue.store.submit(chunk, options, batch="bench")
    # 1 in 25 failed, as on SQLite, through claim and fail as a worker would:
    # the failed view, /failures and /metrics then have failures to read.
    for _ in range(jobs // 25):
        job = queue.store.claim("bench")
        assert job is not None
        queue.store.fail(job.id, "bench", f"Corrupt image: {job.source} (broken data stream)")
    queue.close()
    return time.perf_counter() - start


@contextlib.contextmanager
def _serve(folder: Path, queue: str) -> Iterator[str]:
    """``thumbgen serve -w 0`` on ``queue`` until the block ends; its base URL.

    Started here rather than with tests/support/server.py, which needs pytest
    (not installed by ``nox -s bench``).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "thumbgen", "serve", "--port", str(port)]
    argv += ["-o", str(folder / "thumbs"), "-w", "0"]
    with open(folder / "serve.log", "ab") as out:
        proc = subprocess.Popen(
            argv, env=clean_env(queue), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "serve.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _cases(jobs: int) -> list[tuple[str, dict[str, Any]]]:
    """(label, query) of each first page; its next page follows the cursor."""
    cases: list[tuple[str, dict[str, Any]]] = [
        ("all states, newest first", {"order": "newest"}),
        ("all states, oldest first", {"order": "oldest"}),
        ("all states, newest, from the middle", {"order": "newest", "cursor": jobs // 2}),
        ("queued, oldest first", {"state": "queued", "order": "oldest"}),
    ]
    cases.append(("failed, newest first", {"state": "failed", "order": "newest"}))
    return cases


def _measure(table: TimingTable, queue_url: str, server_url: str, jobs: int, runs: int) -> None:
    queue = open_queue(queue_url)
    try:
        with httpx.Client(base_url=server_url, timeout=60) as http:
            for label, params in _cases(jobs):
                first = http.get("/jobs", params=params | {"limit": PAGE})
                first.raise_for_status()
                cursor = int(first.headers["x-next-cursor"])
                assert len(first.json()) == PAGE
                for which, query in (
                    ("first page", params),
                    ("next page", params | {"cursor": cursor}),
                ):
                    table.row(
                        f"{label}, {which}: service",
                        repeat(_service(queue, query), runs),
                        goal=GOAL,
                    )
                    table.row(
                        f"{label}, {which}: HTTP",
                        repeat(_http(http, query), runs),
                        goal=GOAL,
                    )
            # The failed view groups failures by reason: one pass over every failed job,
            # then kept while the failed jobs stay the same (each call here asks for
            # a longer limit than the last, so that none is answered from what was kept).
            limits = itertools.count(1)
            table.row(
                "GET /failures, failed jobs changed (reasons of every one): HTTP",
                repeat(lambda: _get(http, f"/failures?limit={next(limits)}")(), runs),
                goal=GOAL,
            )
            table.row(
                "GET /failures, failed jobs unchanged (the dashboard's poll): HTTP",
                repeat(_get(http, "/failures"), runs),
                goal=GOAL,
            )
            # A scrape reads the counts, the failure reasons and the 1,000 newest done jobs.
            table.row("GET /metrics (a whole scrape): HTTP", repeat(_get(http, "/metrics"), runs))
    finally:
        queue.close()


def _get(http: httpx.Client, path: str) -> Callable[[], object]:
    def call() -> object:
        r = http.get(path)
        r.raise_for_status()
        return r.text

    return call


def _service(queue: Any, query: dict[str, Any]) -> Callable[[], object]:
    state = State(query["state"]) if "state" in query else None

    def call() -> object:
        found = browsing.page(
            queue,
            state=state,
            cursor=query.get("cursor"),
            newest_first=query.get("order") == "newest",
            limit=PAGE,
        )
        return [browsing.entry(j) for j in found.jobs]

    return call


def _http(http: httpx.Client, query: dict[str, Any]) -> Callable[[], object]:
    def call() -> object:
        r = http.get("/jobs", params=query | {"limit": PAGE})
        r.raise_for_status()
        return r.json()

    return call


def run(config: Config, report: Reporter) -> None:
    """Fill each queue, serve it, time the pages; see the module docstring."""
    jobs = config.size(1_000_000, 100_000)
    runs = config.runs(31, 7)
    with scratch(config, "jobs-view") as folder:
        path = folder / "queue.db"
        filled = fill_queue(path, jobs, str(folder / "out"))
        table = TimingTable(
            f"jobs view on SQLite: {jobs:,} jobs ({filled.done:,} done, {filled.failed:,} "
            f"failed, {filled.queued:,} queued; filled in {filled.submit_seconds:.0f} s), "
            f"pages of {PAGE}"
        )
        with _serve(folder, str(path)) as url:
            _measure(table, str(path), url, jobs, runs)
        report.table(table)

        redis = RedisServer(folder / "redis")
        redis.start()
        try:
            seconds = _fill_redis(redis.url, jobs, str(folder / "out"))
            table = TimingTable(
                f"jobs view on Redis: {jobs:,} jobs ({jobs // 25:,} failed, the rest queued; "
                f"filled in {seconds:.0f} s), "
                f"pages of {PAGE}"
            )
            with _serve(folder, redis.url) as url:
                _measure(table, redis.url, url, jobs, runs)
            report.table(table)
        finally:
            redis.stop()
