"""What ``thumbgen serve`` refuses under abuse and faults, measured on a real server.

- Form-field floods (issue 21): three concurrent requests of 300 MiB of
  short ``size=1`` fields, and one of a million empty parts, are each
  refused 413 while the server's resident memory stays flat (it grew from
  61 to 990 MiB before fields were capped).
- A full uploads disk (a real tmpfs) answers 507 with one line, no
  traceback in the log and no file left behind.
- An upload whose job cannot be queued (redis-server stopped) answers 503
  and the file it stored is removed: no stored upload without a job.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.disks import tmpfs
from support.redis_server import redis_env, redis_server, tiny_jpegs
from support.server import ServeProcess, served, upload

BOUNDARY = "fl00d"
MIB = 1024 * 1024


def _fields(total: int) -> Iterator[bytes]:
    """``total`` bytes of ``size=1`` parts, a MiB at a time, then the closing boundary."""
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="size"\r\n\r\n1\r\n'.encode()
    chunk = part * (MIB // len(part))
    for _ in range(total // len(chunk)):
        yield chunk
    yield f"--{BOUNDARY}--\r\n".encode()


def _empty_parts(count: int) -> Iterator[bytes]:
    """``count`` parts with no headers and no data (9 bytes each), then the closing boundary."""
    part = f"--{BOUNDARY}\r\n\r\n\r\n".encode()
    per_chunk = 100_000
    for _ in range(count // per_chunk):
        yield part * per_chunk
    yield f"--{BOUNDARY}--\r\n".encode()


def _post(srv: ServeProcess, body: Iterator[bytes]) -> httpx.Response:
    # A generator body goes out chunked: no Content-Length for the server to refuse
    # up front, so every refusal here comes from what the body holds.
    with srv.client(timeout=120) as http:
        return http.post(
            "/thumbnails",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )


class _Peak:
    """The server's largest RSS, sampled every 20 ms from another thread."""

    def __init__(self, srv: ServeProcess) -> None:
        self.srv = srv
        self.kib = srv.rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.kib = max(self.kib, self.srv.rss_kib())

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.kib = max(self.kib, self.srv.rss_kib())


@pytest.mark.slow
def test_field_floods_are_refused_413_with_flat_memory(tmp_path: Path, env: dict[str, str]) -> None:
    uploads = tmp_path / "thumbs-uploads"
    with served(tmp_path, env, "-w", "0") as srv:
        # One refused request first: the code paths a request loads are not the flood's growth.
        assert _post(srv, _fields(MIB)).status_code == 413
        before = srv.rss_kib()
        with _Peak(srv) as peak, concurrent.futures.ThreadPoolExecutor(4) as pool:
            floods = [pool.submit(_post, srv, _fields(300 * MIB)) for _ in range(3)]
            empties = pool.submit(_post, srv, _empty_parts(1_000_000))
            answers = [f.result() for f in [*floods, empties]]
        for r in answers:
            assert r.status_code == 413, r.text
            assert r.json() == {"error": "Too many form fields: at most 64 in one request"}
        growth_mib = (peak.kib - before) / 1024
        print(f"server RSS {before / 1024:.0f} MiB, peak {peak.kib / 1024:.0f} MiB")
        assert growth_mib < 50, f"server RSS grew {growth_mib:.0f} MiB under the floods"
        assert list(uploads.iterdir()) == []
        with srv.client() as http:
            assert http.get("/jobs").json() == []
            metrics = http.get("/metrics").text
        assert 'thumbgen_upload_requests_total{status="413"} 5.0' in metrics
        # The floods really arrived: the server read (and dropped) all 900 MiB of them.
        [received] = [
            float(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith("thumbgen_upload_bytes_total ")
        ]
        assert received > 900 * MIB


def test_a_full_uploads_disk_is_507_in_one_line_and_leaves_nothing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with tmpfs(tmp_path / "uploads", "1m") as disk:
        big = tmp_path / "big.jpg"
        big.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(3 * MIB))
        [small] = tiny_jpegs(tmp_path / "small", 1)
        with served(tmp_path, env, "-w", "0", "--uploads", str(disk)) as srv, srv.client() as http:
            r = upload(http, [big])
            assert r.status_code == 507, r.text
            assert r.json() == {"error": "The uploads disk is full: nothing was stored"}
            assert list(disk.iterdir()) == []  # the partial temporary file is gone
            assert http.get("/jobs").json() == []
            # The space it took is free again: an upload that fits is stored and queued.
            r = upload(http, [small])
            assert r.status_code == 202, r.text
            assert len(list(disk.iterdir())) == 1
            log = srv.log()
        assert "Traceback" not in log
        assert "507" in log  # the access log line, and nothing more


def test_an_upload_the_queue_cannot_take_is_503_and_its_file_removed(tmp_path: Path) -> None:
    [kept, lost] = tiny_jpegs(tmp_path / "in", 2)
    uploads = tmp_path / "thumbs-uploads"
    with redis_server(tmp_path / "redis") as redis:
        env = redis_env(redis.url)
        with served(tmp_path, env, "-w", "0") as srv, srv.client() as http:
            assert upload(http, [kept]).status_code == 202
            stored = set(uploads.iterdir())
            assert len(stored) == 1
            redis.stop()
            r = upload(http, [lost, kept])
            assert r.status_code == 503, r.text
            assert list(r.json()) == ["error"]
            # The new file is removed (its job could not be queued); the one stored
            # before by an earlier request stays, as its job still needs it.
            assert set(uploads.iterdir()) == stored
            assert [p.name for p in uploads.iterdir() if p.name.startswith(".")] == []
        assert "Traceback" not in srv.log()
        # The server's own trouble is in its log too, in one line, not only in the answer.
        assert "POST /thumbnails answered 503: Cannot reach Redis" in srv.log()
