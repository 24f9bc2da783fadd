"""thumbgen watch end to end: real file system, real watchdog observer, real processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image
from support.imagegen import write_jpegs
from support.procs import (
    processes_using,
    queue_jobs,
    run_thumbgen,
    wait_until,
    watching,
)

from thumbgen.watch.watcher import WatchConfig, Watcher, WatchError, filesystem_type, network_hints


def jobs(queue_path: str) -> list[tuple[str, str, int]]:
    """(source, state, size) of every job, sorted by source."""
    rows = [(j.source, j.state.value, j.size) for j in queue_jobs(queue_path)]
    return sorted(rows)


def inotify_watches(pid: int) -> int:
    """How many inotify watches process ``pid`` holds (its observer is live once > 0)."""
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fdinfo"):
            with contextlib.suppress(OSError):
                count += Path(f"/proc/{pid}/fdinfo/{fd}").read_text().count("inotify wd:")
    return count


def photo(path: Path, colour: str = "red", size: tuple[int, int] = (400, 300)) -> Path:
    Image.new("RGB", size, colour).save(path, format="JPEG", quality=90)
    return path


def size_of(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as im:
            return im.size
    except OSError:
        return None


def all_done(queue_path: str, count: int) -> bool:
    rows = jobs(queue_path)
    return len(rows) == count and all(state == "done" for _, state, _ in rows)


def test_every_way_of_arriving_gives_one_job_and_one_thumbnail(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox, elsewhere, out = tmp_path / "inbox", tmp_path / "elsewhere", tmp_path / "out"
    inbox.mkdir()
    elsewhere.mkdir()
    photo(inbox / "edited.jpg", "red")  # there before the watcher starts
    with watching(env, tmp_path / "w.log", str(inbox), "-o", str(out), "-w", "1",
                  queue_path=queue_path):  # fmt: skip
        assert wait_until(lambda: all_done(queue_path, 1), timeout=60)
        # cp (a new file written in place)
        subprocess.run(["cp", str(photo(elsewhere / "copied.jpg")), str(inbox)], check=True)
        # mv from the same file system: only a "created" event
        photo(elsewhere / "moved.jpg", "green").rename(inbox / "moved.jpg")
        # written under a temporary name, then renamed (browsers, rsync)
        photo(elsewhere / "tmp.jpg", "blue")
        shutil.copyfile(elsewhere / "tmp.jpg", inbox / "download.jpg.part")
        (inbox / "download.jpg.part").rename(inbox / "download.jpg")
        # an editor's atomic save over the file that is already done
        photo(inbox / ".edited.jpg.swp", "yellow", size=(300, 400))
        (inbox / ".edited.jpg.swp").rename(inbox / "edited.jpg")
        assert wait_until(lambda: all_done(queue_path, 4), timeout=60), jobs(queue_path)
        edited = out / "edited_256x256.jpg"
        assert wait_until(lambda: size_of(edited) == (192, 256), timeout=30)
    sources = [Path(s).name for s, _, _ in jobs(queue_path)]
    assert sources == ["copied.jpg", "download.jpg", "edited.jpg", "moved.jpg"]
    assert sorted(p.name for p in out.iterdir()) == [
        "copied_256x256.jpg",
        "download_256x256.jpg",
        "edited_256x256.jpg",
        "moved_256x256.jpg",
    ]
    with Image.open(out / "edited_256x256.jpg") as im:
        assert im.getpixel((96, 128))[:2] == pytest.approx((255, 255), abs=8)  # yellow


def test_a_slow_writer_is_queued_only_when_it_has_finished(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = photo(tmp_path / "source.jpg", size=(1200, 900)).read_bytes()
    with watching(env, tmp_path / "w.log", str(inbox), "-w", "0", queue_path=queue_path):
        # A probe file's job shows the watcher is observing (a file begun
        # before the watch starts has no events to tell that it is still open).
        photo(inbox / "probe.jpg")
        assert wait_until(lambda: len(jobs(queue_path)) == 1, timeout=30)
        chunks = [data[i : i + len(data) // 4 + 1] for i in range(0, len(data), len(data) // 4 + 1)]
        with open(inbox / "slow.jpg", "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                f.flush()
                # Longer than the settle time: only "still open for writing" holds it back.
                time.sleep(1.6)
                assert len(jobs(queue_path)) == 1, "queued while still being written"
        assert wait_until(lambda: len(jobs(queue_path)) == 2, timeout=30)
    assert jobs(queue_path)[1] == (str(inbox / "slow.jpg"), "queued", len(data))


def test_folders_copied_or_moved_in_are_watched_recursively(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox, staging = tmp_path / "inbox", tmp_path / "staging"
    inbox.mkdir()
    write_jpegs(staging / "copied" / "sub", 3, prefix="c")
    write_jpegs(staging / "moved" / "deeper" / "still", 2, prefix="m")
    with watching(env, tmp_path / "w.log", str(inbox), "-r", "-w", "1", "-o",
                  str(tmp_path / "out"), queue_path=queue_path):  # fmt: skip
        assert wait_until(lambda: os.path.exists(queue_path), timeout=30)
        subprocess.run(["cp", "-r", str(staging / "copied"), str(inbox)], check=True)
        (staging / "moved").rename(inbox / "moved")
        assert wait_until(lambda: all_done(queue_path, 5), timeout=60), jobs(queue_path)
        # A file written later inside the moved-in folder is seen too (watchdog >= 7.1).
        photo(inbox / "moved" / "deeper" / "later.jpg")
        assert wait_until(lambda: all_done(queue_path, 6), timeout=60), jobs(queue_path)
    made = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.jpg"))
    assert made == [
        "copied/sub/c0000_256x256.jpg",
        "copied/sub/c0001_256x256.jpg",
        "copied/sub/c0002_256x256.jpg",
        "moved/deeper/later_256x256.jpg",
        "moved/deeper/still/m0000_256x256.jpg",
        "moved/deeper/still/m0001_256x256.jpg",
    ]


def _drop(tmp_path: Path, inbox: Path, count: int) -> None:
    staging = tmp_path / "staging"
    (first,) = write_jpegs(staging, 1, size=(16, 16))
    for i in range(1, count):
        shutil.copyfile(first, staging / f"f{i:04d}.jpg")
    subprocess.run(["cp", "-r", f"{staging}/.", str(inbox)], check=True)


def test_5000_files_dropped_at_once_are_queued_exactly_once(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with watching(env, tmp_path / "w.log", str(inbox), "-w", "0", queue_path=queue_path):
        assert wait_until(lambda: os.path.exists(queue_path), timeout=30)
        _drop(tmp_path, inbox, 5000)
        assert wait_until(lambda: len(jobs(queue_path)) >= 5000, timeout=120)
        time.sleep(2)  # a late duplicate would show up here
    sources = [s for s, _, _ in jobs(queue_path)]
    assert len(sources) == len(set(sources)) == 5000


def test_events_lost_while_the_watcher_stalls_are_found_by_a_rescan(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    log = tmp_path / "w.log"
    with watching(env, log, str(inbox), "-w", "0", queue_path=queue_path) as proc:
        assert wait_until(lambda: inotify_watches(proc.pid) > 0, timeout=30)
        # A stalled reader (GC pause, suspended VM) overflows the kernel's event
        # queue: 8,000 files make about 24,000 events, over the default 16,384.
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            _drop(tmp_path, inbox, 8000)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert wait_until(lambda: len(jobs(queue_path)) >= 8000, timeout=120)
    assert len({s for s, _, _ in jobs(queue_path)}) == 8000
    if Path("/proc/sys/fs/inotify/max_queued_events").read_text().strip() == "16384":
        assert "events were lost (kernel queue overflow); rescanning" in log.read_text()


def test_restart_queues_what_arrived_meanwhile_and_not_what_is_done(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    write_jpegs(inbox, 3)
    with watching(env, tmp_path / "w1.log", str(inbox), "-w", "1", queue_path=queue_path) as p:
        assert wait_until(lambda: all_done(queue_path, 3), timeout=60)
        p.send_signal(signal.SIGINT)
        assert p.wait(20) == 130
    write_jpegs(inbox, 2, prefix="new")  # arrives while nobody watches
    with watching(env, tmp_path / "w2.log", str(inbox), "-w", "0", queue_path=queue_path):
        assert wait_until(lambda: len(jobs(queue_path)) == 5, timeout=60)
        time.sleep(1.5)
    states = {Path(s).name: state for s, state, _ in jobs(queue_path)}
    assert states == {
        "img0000.jpg": "done",
        "img0001.jpg": "done",
        "img0002.jpg": "done",
        "new0000.jpg": "queued",
        "new0001.jpg": "queued",
    }


def test_watch_w0_queues_for_a_separate_worker(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    with watching(env, tmp_path / "w.log", str(inbox), "-w", "0", "-o", str(out),
                  queue_path=queue_path):  # fmt: skip
        assert wait_until(lambda: os.path.exists(queue_path), timeout=30)
        write_jpegs(inbox, 3)
        assert wait_until(lambda: len(jobs(queue_path)) == 3, timeout=60)
        time.sleep(1)
        assert {state for _, state, _ in jobs(queue_path)} == {"queued"}, "watch made thumbnails"
        drained = run_thumbgen("--queue", queue_path, "worker", "--burst", "-w", "1", env=env)
        assert drained.returncode == 0
    assert len(list(out.iterdir())) == 3


def test_ctrl_c_exits_130_within_seconds_and_leaves_no_process(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = tmp_path / "big.png"
    Image.effect_noise((3000, 2000), 80).convert("RGB").save(big, compress_level=1)
    for i in range(4):
        shutil.copyfile(big, inbox / f"big{i}.png")
    with watching(env, tmp_path / "w.log", str(inbox), "-w", "2", queue_path=queue_path) as p:
        assert wait_until(lambda: any(st == "running" for _, st, _ in jobs(queue_path)), 60)
        started = time.monotonic()
        p.send_signal(signal.SIGINT)
        assert p.wait(15) == 130
        assert time.monotonic() - started < 10
        assert wait_until(lambda: not processes_using(queue_path), timeout=5)
    assert "running" not in {state for _, state, _ in jobs(queue_path)}


def test_a_worker_that_dies_is_reported_not_ignored(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    log = tmp_path / "w.log"
    with watching(env, log, str(inbox), "-w", "1", queue_path=queue_path) as p:
        assert wait_until(lambda: len(processes_using(queue_path)) >= 3, timeout=30)
        workers = [pid for pid in processes_using(queue_path) if pid != p.pid]
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert p.wait(20) == 1
    assert "Error: The worker processes stopped unexpectedly" in log.read_text()


def test_a_real_observer_sees_every_file_of_copied_trees(tmp_path: Path) -> None:
    """Pitfall 10 of notes/watch.md: runs under pytest's warnings-as-errors."""
    inbox, staging = tmp_path / "inbox", tmp_path / "staging"
    inbox.mkdir()
    for d in range(5):
        write_jpegs(staging / f"d{d}", 40, size=(8, 8))
    seen: list[str] = []
    watcher = Watcher(
        WatchConfig((str(inbox),), recursive=True, settle=0.5, rescan=3600),
        lambda root, paths: seen.extend(paths),
    )
    watcher.start()
    try:
        for copy in range(3):
            shutil.copytree(staging, inbox / f"copy{copy}")
        deadline = time.monotonic() + 60
        while len(seen) < 600 and time.monotonic() < deadline:
            watcher.tick()
            time.sleep(0.1)
    finally:
        watcher.stop()
    assert len(seen) == len(set(seen)) == 600


def test_polling_mode_finds_arrivals_without_os_events(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with watching(env, tmp_path / "w.log", str(inbox), "-w", "0", "--poll", "0.5",
                  queue_path=queue_path):  # fmt: skip
        assert wait_until(lambda: os.path.exists(queue_path), timeout=30)
        write_jpegs(inbox, 2)
        assert wait_until(lambda: len(jobs(queue_path)) == 2, timeout=30)


def test_a_dead_observer_is_an_error_not_a_deaf_watcher(tmp_path: Path) -> None:
    watcher = Watcher(WatchConfig((str(tmp_path),)), lambda root, paths: None)
    watcher.start()
    watcher.stop()  # the observer thread is gone, as if it had crashed
    with pytest.raises(WatchError, match="The file watcher stopped unexpectedly"):
        watcher.tick()


@pytest.mark.parametrize(
    ("kind", "hinted"),
    [("nfs4", True), ("cifs", True), ("fuse.sshfs", True), ("ext4", False), (None, False)],
)
def test_network_file_systems_get_a_poll_hint(kind: str | None, hinted: bool) -> None:
    hints = network_hints(["/mnt/share"], fstype=lambda _: kind)
    expected = [f"/mnt/share is on {kind}: changes made by other machines send no events here;"
                " use --poll 5"]  # fmt: skip
    assert hints == (expected if hinted else [])


def test_filesystem_type_reads_the_mount_table(tmp_path: Path) -> None:
    assert filesystem_type("/proc") == "proc"
    assert filesystem_type(str(tmp_path)) not in (None, "proc")
