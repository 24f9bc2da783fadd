"""Workers against files that kill them: a real memory cgroup, real OOM kills.

A small file that decodes to hundreds of MiB gets its worker killed by the
kernel. The job must fail after a bounded number of such deaths, with a
reason, instead of killing worker after worker forever; the other jobs and
the worker service carry on.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from pathlib import Path

from support.cgroups import memory_limited
from support.imagegen import write_jpegs
from support.procs import queue_jobs, run_thumbgen, thumbgen_argv

from thumbgen.jobqueue import policy


def _png_bomb(path: Path, side: int = 13000) -> Path:
    """An RGB PNG of ``side`` x ``side`` black pixels: ~500 KB that decodes to ~500 MiB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = b"\0" * (side * 3 + 1)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def test_a_file_that_kills_its_worker_fails_after_two_deaths(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src = tmp_path / "src"
    write_jpegs(src, 2)
    _png_bomb(src / "bomb.png")
    added = run_thumbgen("add", str(src), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    with memory_limited(300 * 1024 * 1024) as procs, open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            thumbgen_argv("worker", "--burst", "-w", "1"),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Into the cgroup before exec: the worker's children are born there.
            preexec_fn=lambda: procs.write_text(str(os.getpid())),
        )
        try:
            # Before the fix the bomb is requeued forever and --burst never ends.
            rc = worker.wait(timeout=90)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, 9)
                worker.wait()
    assert rc == 0, (tmp_path / "worker.log").read_text()
    jobs = {Path(job.source).name: job for job in queue_jobs(queue_path)}
    bomb = jobs.pop("bomb.png")
    assert bomb.state.value == "failed"
    assert bomb.error == policy.WORKER_DIED
    assert bomb.attempts == policy.MAX_WORKER_DEATHS
    assert {job.state.value for job in jobs.values()} == {"done"}
