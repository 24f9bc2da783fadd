"""Transient errors are retried with backoff, on a real full disk (a tiny tmpfs)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.imagegen import write_jpegs
from support.procs import background, queue_jobs, run_thumbgen, wait_until


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A mounted 64 KiB tmpfs, filled up: every write into it fails with ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        with contextlib.suppress(OSError), open(mount / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _job(queue_path: str) -> tuple[str, int, str | None]:
    (job,) = queue_jobs(queue_path)
    return job.state.value, job.attempts, job.error


def test_a_full_disk_is_retried_then_fails_with_its_reason(
    tmp_path: Path, env: dict[str, str], queue_path: str, full_disk: Path
) -> None:
    write_jpegs(tmp_path / "src", 1)
    assert run_thumbgen("add", str(tmp_path / "src"), "-o", str(full_disk), env=env).returncode == 0
    drained = run_thumbgen(
        "worker", "--burst", "-w", "1", "--retries", "3", "--retry-delay", "0.2", env=env
    )
    assert drained.returncode == 0, drained.stderr
    state, attempts, error = _job(queue_path)
    assert (state, attempts) == ("failed", 3)
    assert error is not None
    assert error.startswith(f"Cannot write {full_disk}")
    assert "No space left on device" in error
    assert "\n" not in error
    assert [p.name for p in full_disk.iterdir()] == ["filler"], "a partial file was left"


def test_a_retry_succeeds_once_space_is_freed(
    tmp_path: Path, env: dict[str, str], queue_path: str, full_disk: Path
) -> None:
    write_jpegs(tmp_path / "src", 1)
    assert run_thumbgen("add", str(tmp_path / "src"), "-o", str(full_disk), env=env).returncode == 0
    args = ("worker", "-w", "1", "--retries", "5", "--retry-delay", "1")
    with background(*args, env=env, log=tmp_path / "worker.log", graceful=True):
        assert wait_until(lambda: _job(queue_path)[2] is not None, timeout=60)
        (full_disk / "filler").unlink()
        assert wait_until(lambda: _job(queue_path)[0] == "done", timeout=60)
    state, attempts, _ = _job(queue_path)
    assert state == "done"
    assert attempts >= 2
    assert [p.name for p in full_disk.iterdir()] == ["img0000_256x256.jpg"]


def test_an_output_failure_is_not_held_against_an_unchanged_source(
    tmp_path: Path, env: dict[str, str], queue_path: str, full_disk: Path
) -> None:
    write_jpegs(tmp_path / "src", 1)
    args = ("add", str(tmp_path / "src"), "-o", str(full_disk))
    assert run_thumbgen(*args, env=env).returncode == 0
    drained = run_thumbgen(
        "worker", "--burst", "-w", "1", "--retries", "1", "--retry-delay", "0", env=env
    )
    assert drained.returncode == 0, drained.stderr
    assert _job(queue_path)[0] == "failed"
    (full_disk / "filler").unlink()  # the disk is fixed; the source never changed
    again = run_thumbgen(*args, env=env)
    assert again.returncode == 0
    assert again.stdout.startswith("1 queued"), again.stdout
