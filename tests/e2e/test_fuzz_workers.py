"""Fuzzed files through real worker processes, with a time limit and a memory budget.

The in-process fuzz test (tests/e2e/test_fuzz_decode.py) checks the
decode path quickly; this one runs a smaller set of damaged files, plus a file
that decodes for seconds and one that would decode to hundreds of MiB, through
``thumbgen add`` and ``worker --burst --job-timeout --max-memory``, so a hang or
a blow-up shows as a job that fails with its one-line reason and a worker that
carries on. ``nox -s fuzz`` runs more batches (``THUMBGEN_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fuzzing import EXAMPLES, mutated, png_bomb, slow_progressive_jpeg
from support.procs import queue_jobs, run_thumbgen
from support.thumbs import decodes_completely

#: Batches of 24 damaged files (each batch starts real processes: seconds).
_BATCHES = max(1, EXAMPLES // 1000)


@settings(max_examples=_BATCHES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(), min_size=24, max_size=24))
def test_damaged_files_through_real_workers_end_done_or_failed_in_one_line(
    cases: list[tuple[str, bytes]],
) -> None:
    # A folder per example (tmp_path is one per test, shared by every example).
    with tempfile.TemporaryDirectory() as tmp:
        _run_batch(Path(tmp), cases)


def _run_batch(tmp: Path, cases: list[tuple[str, bytes]]) -> None:
    src, out = tmp / "src", tmp / "out"
    src.mkdir()
    for i, (ext, data) in enumerate(cases):
        (src / f"f{i:02d}.{ext}").write_bytes(data)
    slow_progressive_jpeg(src / "slow.jpg")
    png_bomb(src / "bomb.png")
    env = _env(tmp)
    added = run_thumbgen("add", str(src), "-o", str(out), "-s", "64", "-s", "16", env=env)
    assert added.returncode == 0, added.stderr
    drained = run_thumbgen(
        "worker", "--burst", "-w", "2", "--job-timeout", "3", "--max-memory", "256",
        "--retries", "1", env=env, timeout=240,
    )  # fmt: skip
    assert drained.returncode == 0, drained.stderr
    assert "Traceback" not in drained.stderr, drained.stderr[-3000:]
    jobs = {Path(job.source).name: job for job in queue_jobs(str(tmp / "queue.db"))}
    assert "--job-timeout" in (jobs["slow.jpg"].error or ""), jobs["slow.jpg"].error
    assert "--max-memory" in (jobs["bomb.png"].error or ""), jobs["bomb.png"].error
    outputs = []
    for name, job in jobs.items():
        assert job.state.value in ("done", "failed"), (name, job.state)
        if job.state.value == "failed":
            assert job.error, name
            assert "\n" not in job.error, (name, job.error)
            assert "Internal error" not in job.error, (name, job.error)
        else:
            outputs += job.outputs
    for path in outputs:
        assert decodes_completely(path)
    on_disk = sorted(str(p) for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(outputs), "a file in the output folder no job owns (temporary?)"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUMBGEN_")}
    env["THUMBGEN_QUEUE"] = str(tmp / "queue.db")
    return env
