"""Outputs on a disk that fills up: whatever is linked into place is complete.

A real tmpfs of 2 MiB and real worker processes: some thumbnails fit, the
rest fail with "No space left on device". No job may be done with a cut-short
file, and no file that exists may be cut short.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from support.disks import tmpfs
from support.procs import queue_jobs, run_thumbgen
from support.thumbs import decodes_completely


def _write_sources(folder: Path, count: int) -> None:
    """Blurred noise: each 512 px thumbnail is about 50 KB, one write() in Pillow's JPEG save.

    A short single write is what Pillow ignores (a longer file needs several
    writes, and the one after a short write fails loudly with ENOSPC).
    """
    folder.mkdir(parents=True)
    base = Image.effect_noise((64, 64), 60).convert("RGB")
    base = base.resize((640, 640), Image.Resampling.BICUBIC)
    for i in range(count):
        im = base.copy()
        im.putpixel((0, 0), (i % 256, (i // 256) % 256, 7))
        im.save(folder / f"img{i:04d}.jpg", quality=90)


def test_a_filling_disk_never_leaves_a_truncated_thumbnail_marked_done(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    # About 40 thumbnails fit: the disk fills part-way through and the
    # write that meets the end of the space is cut short.
    _write_sources(tmp_path / "src", 200)
    with tmpfs(tmp_path / "small", "2m") as out:
        added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(out), "-s", "512", env=env)
        assert added.returncode == 0, added.stderr
        drained = run_thumbgen(
            "worker", "--burst", "-w", "2", "--retries", "1", "--retry-delay", "0", env=env
        )
        assert drained.returncode == 0, drained.stderr
        jobs = queue_jobs(queue_path)
        states = {job.state.value for job in jobs}
        assert states <= {"done", "failed"}, states
        assert "failed" in states, "the disk never filled: the test proves nothing"
        outputs = sorted(p for p in out.rglob("*") if p.is_file())
        truncated = [p.name for p in outputs if not decodes_completely(p)]
        assert truncated == [], f"cut-short thumbnails in place: {truncated}"
        for job in jobs:
            if job.state.value == "done":
                for path in job.outputs:
                    assert decodes_completely(Path(path)), f"{path} done but not complete"
            else:
                assert "No space left on device" in (job.error or ""), job.error
        assert not [p.name for p in out.rglob(".*")], "a temporary file was left"


def test_a_job_whose_later_size_fails_leaves_none_of_its_thumbnails(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    # A file where the 1024 folder should be: the small size can be written,
    # the large one cannot (a permanent error, so the job fails at once).
    _write_sources(tmp_path / "src", 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "1024x1024").write_text("in the way")
    args = ("add", str(tmp_path / "src"), "-o", str(out), "-s", "64", "-s", "1024")
    added = run_thumbgen(*args, "--name", "{size}/{stem}.{ext}", "--upscale", env=env)
    assert added.returncode == 0, added.stderr
    drained = run_thumbgen("worker", "--burst", "-w", "1", "--retries", "1", env=env)
    assert drained.returncode == 0, drained.stderr
    jobs = queue_jobs(queue_path)
    assert {job.state.value for job in jobs} == {"failed"}
    assert all("1024x1024" in (job.error or "") for job in jobs), [j.error for j in jobs]
    assert not (out / "64x64").exists() or not list((out / "64x64").iterdir()), (
        "the 64 px thumbnails of failed jobs were left"
    )
