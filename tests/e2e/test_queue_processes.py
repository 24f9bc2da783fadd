"""The queue end to end: real thumbgen processes, real SQLite files, real signals."""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image
from support.imagegen import slow_pngs, write_jpegs
from support.procs import (
    background,
    group_alive,
    queue_counts,
    queue_jobs,
    queue_workers,
    run_thumbgen,
    status_json,
    thumbgen_argv,
    wait_until,
    worker,
)

REPO = Path(__file__).resolve().parents[2]


def counts(queue_path: str) -> dict[str, int]:
    """Jobs per state, through the job store (cheaper than a process per poll)."""
    return queue_counts(queue_path)


def big_jpegs(folder: Path, count: int, size: tuple[int, int] = (1600, 1200)) -> list[Path]:
    """``count`` real-size JPEG files (copies of one noisy photo-sized picture)."""
    folder.mkdir(parents=True)
    first = folder / "photo0000.jpg"
    Image.effect_noise(size, 40).convert("RGB").save(first, quality=90)
    paths = [first]
    for i in range(1, count):
        path = folder / f"photo{i:04d}.jpg"
        shutil.copyfile(first, path)
        paths.append(path)
    return paths


def outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def test_add_wait_makes_the_examples_in_an_empty_folder(
    tmp_path: Path, env: dict[str, str]
) -> None:
    cwd = tmp_path / "empty"
    cwd.mkdir()
    result = run_thumbgen("add", str(REPO / "examples"), "--wait", "-w", "2", env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    made = outputs(cwd / "thumbnails")
    assert [p.name for p in made] == [
        "Landscape_1_256x256.jpg",
        "Landscape_6_256x256.jpg",
        "Portrait_3_256x256.jpg",
        "Portrait_8_256x256.jpg",
    ]
    # Landscape_6 is stored as a portrait and shown as a landscape (EXIF 6).
    with Image.open(cwd / "thumbnails" / "images" / "Landscape_6_256x256.jpg") as im:
        assert im.size == (256, 171)
    assert "4 done, 0 failed" in result.stderr


@pytest.mark.slow
def test_nothing_is_lost_when_the_whole_worker_group_is_killed(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    big_jpegs(src, 300)
    added = run_thumbgen("add", str(src), "-o", str(out), env=env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("300 queued")

    running_at_kill = []
    for target in (40, 160):
        with worker(env, tmp_path / "worker.log", "-w", "2") as proc:
            assert wait_until(lambda t=target: counts(queue_path)["done"] >= t, timeout=240)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        running_at_kill.append(counts(queue_path)["running"])
    # The kills really did cut jobs off mid-run (left "running" by dead workers).
    assert any(running_at_kill), running_at_kill

    drained = run_thumbgen("worker", "--burst", "-w", "2", env=env, timeout=400)
    assert drained.returncode == 0, drained.stderr

    final = status_json(env)
    assert (final["done"], final["queued"], final["running"], final["failed"]) == (300, 0, 0, 0)
    made = outputs(out)
    assert [p.name for p in made] == [f"photo{i:04d}_256x256.jpg" for i in range(300)]
    for path in made:
        with Image.open(path) as im:
            im.load()
            assert im.size == (256, 192)
    assert not list(out.rglob(".*")), "temporary files were left behind"


def test_two_adds_and_two_workers_share_one_queue(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        write_jpegs(folder, 150, size=(320, 240), prefix=folder.name)
    out = tmp_path / "out"
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    with worker(env, logs[0], "-w", "1") as w1, worker(env, logs[1], "-w", "1") as w2:
        adds = [
            subprocess.Popen(
                thumbgen_argv("add", str(folder), "-o", str(out)),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for folder in folders
        ]
        results = [p.communicate(timeout=120) for p in adds]
        assert [p.returncode for p in adds] == [0, 0], results
        assert [r[0].strip() for r in results] == ["150 queued", "150 queued"]
        assert wait_until(lambda: counts(queue_path)["done"] == 300, timeout=240)
        for proc in (w1, w2):
            proc.send_signal(signal.SIGINT)
        assert [w1.wait(60), w2.wait(60)] == [130, 130]
    tries = collections.Counter(job.attempts for job in queue_jobs(queue_path))
    assert tries == {1: 300}, "a job ran more than once"
    assert len(outputs(out)) == 300
    text = "".join(r[1] for r in results) + "".join(p.read_text() for p in logs)
    assert "locked" not in text
    assert "Traceback" not in text


def test_a_second_add_never_overwrites_another_sources_thumbnails(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_jpegs(tmp_path / "2023", 2)
    write_jpegs(tmp_path / "2024", 3)  # img0000 and img0001 again, and img0002
    first = run_thumbgen("add", str(tmp_path / "2023"), env=env, cwd=tmp_path)
    assert first.stdout.strip() == "2 queued"
    second = run_thumbgen("add", str(tmp_path / "2024"), env=env, cwd=tmp_path)
    assert second.stdout.strip() == "1 queued, 2 skipped"
    assert (
        f"skipped {tmp_path / '2024' / 'img0000.jpg'}: its thumbnails would overwrite those of "
        f"{tmp_path / '2023' / 'img0000.jpg'}" in second.stderr
    )
    # Measured from their common parent, the two folders keep apart.
    both = run_thumbgen(
        "add", str(tmp_path / "2023"), str(tmp_path / "2024"), env=env, cwd=tmp_path
    )
    assert both.stdout.strip() == "5 queued"


def test_a_source_deleted_after_add_vanishes_quietly_and_comes_back_with_retry(
    tmp_path: Path, env: dict[str, str]
) -> None:
    paths = write_jpegs(tmp_path / "src", 3)
    assert run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path).returncode == 0
    kept = tmp_path / "kept.jpg"
    paths[1].rename(kept)
    drained = run_thumbgen("worker", "--burst", "-w", "1", env=env)
    assert drained.returncode == 0, drained.stderr
    final = status_json(env)
    assert (final["done"], final["failed"], final["vanished"]) == (2, 0, 1)
    assert final["failures"] == []
    listed = run_thumbgen("jobs", "--state", "vanished", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (job,) = json.loads(listed.stdout)
    assert job["source"] == str(paths[1])
    assert job["error"] == f"Source file not found: {paths[1]} (moved or deleted?)"
    shown = run_thumbgen("status", env=env)
    assert "vanished" in shown.stdout
    # Back again: a named retry queues it, and a worker makes its thumbnail.
    kept.rename(paths[1])
    again = run_thumbgen("retry", str(job["id"]), env=env)
    assert again.stdout.strip() == "1 queued again", again.stderr
    assert run_thumbgen("worker", "--burst", "-w", "1", env=env).returncode == 0
    final = status_json(env)
    assert (final["done"], final["failed"], final["vanished"]) == (3, 0, 0)


def test_add_wait_does_not_count_a_vanished_source_as_failed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    paths = write_jpegs(tmp_path / "src", 3)
    # Paused, the waiting add's own worker claims nothing until the file is gone
    # (another add makes the queue to pause).
    write_jpegs(tmp_path / "other", 1)
    assert run_thumbgen("add", str(tmp_path / "other"), env=env, cwd=tmp_path).returncode == 0
    assert run_thumbgen("pause", env=env).returncode == 0
    log = tmp_path / "add.log"
    argv = ("add", str(tmp_path / "src"), "--wait", "-w", "1")
    with background(*argv, env=env, log=log) as adding:
        assert wait_until(lambda: counts(env["THUMBGEN_QUEUE"])["queued"] == 4, 60)
        paths[2].unlink()
        assert run_thumbgen("resume", env=env).returncode == 0
        assert adding.wait(timeout=120) == 0, log.read_text()
    assert "2 done, 0 failed, 1 vanished" in log.read_text()


def test_failures_exit_3_and_retry_queues_them_again(tmp_path: Path, env: dict[str, str]) -> None:
    src = tmp_path / "src"
    write_jpegs(src, 2)
    broken = src / "broken.jpg"
    broken.write_bytes((src / "img0000.jpg").read_bytes()[:300])
    result = run_thumbgen("add", str(src), "--wait", "-w", "1", env=env, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert f"failed: Corrupt image: {broken}" in result.stderr

    listed = run_thumbgen("status", "--failed", env=env)
    assert str(broken) in listed.stdout

    shutil.copyfile(src / "img0000.jpg", broken)
    os.utime(broken, ns=(10**18, 10**18))  # the mtime the failure was recorded with no longer holds
    again = run_thumbgen("retry", env=env)
    assert again.stdout.strip() == "1 queued again"
    assert run_thumbgen("worker", "--burst", "-w", "1", env=env).returncode == 0
    assert status_json(env)["failed"] == 0


def _running(queue_path: str) -> bool:
    return counts(queue_path)["running"] > 0


def test_first_ctrl_c_lets_running_jobs_finish(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 6, size=(3000, 2000))
    assert run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path).returncode == 0
    with worker(env, tmp_path / "w.log", "-w", "1") as proc:
        assert wait_until(lambda: _running(queue_path), timeout=60)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
        assert wait_until(lambda: not group_alive(proc.pid), timeout=10)
    final = counts(queue_path)
    assert final["running"] == 0
    assert final["done"] >= 1  # the job that was running when Ctrl-C came
    assert final["queued"] == 6 - final["done"]


def test_second_ctrl_c_stops_at_once_and_puts_jobs_back(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 6, size=(3000, 2000))
    assert run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path).returncode == 0
    with worker(env, tmp_path / "w.log", "-w", "2") as proc:
        assert wait_until(lambda: counts(queue_path)["running"] == 2, timeout=60)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 130
        assert wait_until(lambda: not group_alive(proc.pid), timeout=10)
    final = counts(queue_path)
    assert final["running"] == 0
    assert final["queued"] + final["done"] == 6


def test_sigterm_is_a_graceful_stop_too(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 3, size=(3000, 2000))
    assert run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path).returncode == 0
    with worker(env, tmp_path / "w.log", "-w", "1") as proc:
        assert wait_until(lambda: _running(queue_path), timeout=60)
        os.killpg(proc.pid, signal.SIGTERM)  # the whole group, as a service manager would
        assert proc.wait(60) == 130
    final = counts(queue_path)
    assert (final["running"], final["done"] >= 1) == (0, True)


def test_workers_exit_when_their_parent_is_killed(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 4, size=(3000, 2000))
    assert run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path).returncode == 0
    with worker(env, tmp_path / "w.log", "-w", "2") as proc:
        assert wait_until(lambda: _running(queue_path), timeout=60)
        proc.kill()  # the main process only; its children must notice
        proc.wait(10)
        assert wait_until(lambda: not group_alive(proc.pid), timeout=15), "orphans remain"
    # Orphaned jobs were handed back by the workers or are recovered now.
    drained = run_thumbgen("worker", "--burst", "-w", "2", env=env)
    assert drained.returncode == 0
    assert counts(queue_path)["done"] == 4


def test_status_json_has_the_documented_keys(tmp_path: Path, env: dict[str, str]) -> None:
    write_jpegs(tmp_path / "src", 2)
    (tmp_path / "src" / "notes.jpg").write_text("not an image")
    added = run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path)
    assert added.stdout.strip() == "2 queued, 1 skipped"
    assert "notes.jpg: not an image" in added.stderr
    data = status_json(env)
    for key in ("queued", "running", "done", "failed", "workers"):
        assert isinstance(data[key], int)
    assert data["queued"] == 2
    assert data["failures"] == []


def test_re_adding_unchanged_sources_queues_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    paths = write_jpegs(tmp_path / "src", 3)
    first = run_thumbgen("add", str(tmp_path / "src"), "--wait", "-w", "1", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path)
    assert again.stdout.strip() == "0 queued, 3 up to date"
    forced = run_thumbgen("add", str(tmp_path / "src"), "--force", env=env, cwd=tmp_path)
    assert forced.stdout.strip() == "3 queued"
    run_thumbgen("worker", "--burst", "-w", "1", env=env)
    os.utime(paths[0], ns=(10**18, 10**18))
    changed = run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path)
    assert changed.stdout.strip() == "1 queued, 2 up to date"


def _ctrl_c_add_wait(
    tmp_path: Path, env: dict[str, str], queue_path: str, *paths: str
) -> dict[str, int]:
    """``add PATHS --wait -w 1`` (output in add.log), Ctrl-C once a job runs; counts then.

    Asserts the command exits 130.
    """
    with open(tmp_path / "add.log", "wb") as log:
        proc = subprocess.Popen(
            thumbgen_argv("--queue", queue_path, "add", *paths, "--wait", "-w", "1"),
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(lambda: _running(queue_path), timeout=60)
        at_first_job = counts(queue_path)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
    finally:
        proc.kill()
        proc.wait()
    return at_first_job


def test_ctrl_c_during_add_wait_exits_130_and_leaves_no_process(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 6, size=(3000, 2000))
    _ctrl_c_add_wait(tmp_path, env, queue_path, str(tmp_path / "src"))
    final = counts(queue_path)
    assert final["running"] == 0
    assert final["done"] >= 1  # the running job was allowed to finish
    assert final["queued"] == 6 - final["done"]
    assert "Interrupted; unfinished jobs stay queued" in (tmp_path / "add.log").read_text()
    assert queue_workers(queue_path) == 0


def test_add_wait_starts_its_workers_with_the_first_jobs_and_ctrl_c_then_stops_all(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    # 16 slow files come first (the first submit), then 30,000 more to find
    # and queue: the workers must be at work before the last of them is in.
    slow_pngs(tmp_path / "a", 16, size=(3000, 2000))
    many = tmp_path / "b"
    many.mkdir()
    tiny = many / "t00000.jpg"
    Image.new("RGB", (8, 8), "red").save(tiny)
    for i in range(1, 30_000):
        os.link(tiny, many / f"t{i:05d}.jpg")
    at_first_job = _ctrl_c_add_wait(tmp_path, env, queue_path, "a", "b")
    assert sum(at_first_job.values()) < 30_016
    final = counts(queue_path)
    assert final["running"] == 0
    assert final["failed"] == 0
    assert final["done"] >= 1  # the running job was allowed to finish
    assert "Interrupted; unfinished jobs stay queued" in (tmp_path / "add.log").read_text()
    assert "Traceback" not in (tmp_path / "add.log").read_text()
    assert queue_workers(queue_path) == 0


def test_status_watch_refreshes_until_ctrl_c(tmp_path: Path, env: dict[str, str]) -> None:
    write_jpegs(tmp_path / "src", 2)
    run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path)
    proc = subprocess.Popen(
        thumbgen_argv("status", "--watch"), env=env, stdout=subprocess.PIPE, text=True
    )
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130  # interrupted, as documented
    assert [line.split() for line in out.splitlines() if line.split()[:1] == ["queued"]][-1] == [
        "queued",
        "2",
    ]
