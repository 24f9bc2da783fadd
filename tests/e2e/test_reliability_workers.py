"""Workers against files that kill them: a real memory cgroup, real OOM kills.

A small file that decodes to hundreds of MiB gets its worker killed by the
kernel. The job must fail after a bounded number of such deaths, with a
reason, instead of killing worker after worker forever; the other jobs and
the worker service carry on.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from support.cgroups import memory_limited
from support.fuzzing import png_bomb
from support.imagegen import write_jpegs
from support.procs import queue_jobs, run_thumbgen, thumbgen_argv

from thumbgen.jobqueue import policy


def test_a_file_that_kills_its_worker_fails_after_two_deaths(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src = tmp_path / "src"
    write_jpegs(src, 2)
    png_bomb(src / "bomb.png")
    added = run_thumbgen("add", str(src), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    with memory_limited(300 * 1024 * 1024) as procs, open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen(
            # No memory budget: this is about files that get past it.
            thumbgen_argv("worker", "--burst", "-w", "1", "--max-memory", "0"),
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


def test_a_fifo_swapped_in_for_a_queued_source_fails_and_blocks_no_worker(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src = tmp_path / "src"
    write_jpegs(src, 2)
    added = run_thumbgen("add", str(src), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    # Once queued, one source becomes a FIFO nobody writes to: opening it
    # for reading would wait for a writer for ever.
    (src / "img0000.jpg").unlink()
    os.mkfifo(src / "img0000.jpg")
    drained = run_thumbgen("worker", "--burst", "-w", "1", env=env, timeout=60)
    assert drained.returncode == 0, drained.stderr
    jobs = {Path(job.source).name: job for job in queue_jobs(queue_path)}
    assert jobs["img0000.jpg"].state.value == "failed"
    assert "not a regular file" in (jobs["img0000.jpg"].error or "")
    assert jobs["img0001.jpg"].state.value == "done"


def test_a_job_past_its_time_limit_fails_and_the_worker_carries_on(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src = tmp_path / "src"
    write_jpegs(src, 2)
    # Legitimate but slow: decoding 169 million pixels takes seconds, far
    # past a 1 s limit (its memory is fine outside a cgroup).
    png_bomb(src / "slow.png")
    added = run_thumbgen("add", str(src), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    drained = run_thumbgen(
        "worker",
        "--burst",
        "-w",
        "1",
        "--job-timeout",
        "0.5",
        "--max-memory",
        "0",
        env=env,
        timeout=120,
    )
    assert drained.returncode == 0, drained.stderr
    jobs = {Path(job.source).name: job for job in queue_jobs(queue_path)}
    slow = jobs.pop("slow.png")
    assert slow.state.value == "failed"
    assert slow.error is not None
    assert "--job-timeout" in slow.error
    assert "\n" not in slow.error
    assert slow.attempts == 1
    assert {job.state.value for job in jobs.values()} == {"done"}
    assert not (tmp_path / "out" / "slow_256x256.jpg").exists()


def test_a_small_file_that_would_decode_past_the_memory_budget_is_refused(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src = tmp_path / "src"
    write_jpegs(src, 2)
    png_bomb(src / "bomb.png")  # ~500 KB; RGB is stored as 4 bytes a pixel
    added = run_thumbgen("add", str(src), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    # The default budget (1 GiB): without it the worker decodes 660 MiB and more.
    drained = run_thumbgen("worker", "--burst", "-w", "1", env=env, timeout=120)
    assert drained.returncode == 0, drained.stderr
    jobs = {Path(job.source).name: job for job in queue_jobs(queue_path)}
    bomb = jobs.pop("bomb.png")
    assert bomb.state.value == "failed"
    assert bomb.error is not None
    assert "13000x13000" in bomb.error
    assert "MiB, over the 1024 MiB budget" in bomb.error
    assert "--max-memory" in bomb.error
    assert {job.state.value for job in jobs.values()} == {"done"}
