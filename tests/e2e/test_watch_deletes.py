"""Sources that go while ``thumbgen watch`` runs: vanished, not failed; ``--mirror-deletes``.

The issue's scenario scaled down: a tree of 200 images copied in with
``cp -r``, some deleted and some renamed right after they arrived, through a
real ``thumbgen watch`` process, its real watchdog observer and real workers;
and the watcher itself (a real observer) reporting what went without an event.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import (
    queue_counts,
    queue_jobs,
    run_thumbgen,
    status_json,
    wait_until,
    watching,
)

from thumbgen.watch.watcher import WatchConfig, Watcher

FOLDERS, PER_FOLDER = 4, 50


def tree(folder: Path) -> list[Path]:
    """``FOLDERS`` x ``PER_FOLDER`` small JPEGs under ``folder``."""
    return [path for i in range(FOLDERS) for path in write_jpegs(folder / f"sub{i}", PER_FOLDER)]


def thumbnail(out: Path, inbox: Path, source: Path) -> Path:
    """Where the default ``--name`` puts ``source``'s 256 thumbnail."""
    rel = source.relative_to(inbox)
    return out / rel.parent / f"{source.stem}_256x256.jpg"


def thumbnails(out: Path) -> set[Path]:
    return set(out.rglob("*.jpg")) if out.exists() else set()


def survivors(inbox: Path) -> list[Path]:
    return sorted(inbox.rglob("*.jpg"))


def arrive_and_churn(inbox: Path, copied: Path, n: int) -> tuple[list[Path], list[Path]]:
    """``cp -r`` the tree in, then at once delete ``n`` files and rename ``n`` others."""
    subprocess.run(["cp", "-r", str(copied), str(inbox)], check=True)
    arrived = sorted((inbox / copied.name).rglob("*.jpg"))
    deleted, renamed = arrived[1 : 4 * n : 4], arrived[3 : 4 * n : 4]
    for path in deleted:
        path.unlink()
    for path in renamed:
        path.rename(path.with_name(f"renamed-{path.name}"))
    return deleted, renamed


def test_sources_deleted_or_renamed_before_their_jobs_ran_vanish_and_none_fails(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    tree(tmp_path / "photos")
    argv = (str(inbox), "-r", "-o", str(out), "-w", "0")  # workers come later
    with watching(env, tmp_path / "w.log", *argv, queue_path=queue_path):
        # The first arrivals' jobs are queued; then 20 go and 20 change names.
        subprocess.run(["cp", "-r", str(tmp_path / "photos"), str(inbox)], check=True)
        assert wait_until(lambda: queue_counts(queue_path)["queued"] == 200, timeout=120)
        arrived = sorted(inbox.rglob("*.jpg"))
        for path in arrived[1:80:4]:
            path.unlink()
        for path in arrived[3:80:4]:
            path.rename(path.with_name(f"renamed-{path.name}"))
        # The new names are queued too (the old names' jobs stay queued: no mirroring).
        assert wait_until(lambda: queue_counts(queue_path)["queued"] == 220, timeout=120)
    drained = run_thumbgen("worker", "--burst", "-w", "2", env=env)
    assert drained.returncode == 0, drained.stderr
    final = status_json(env)
    assert (final["done"], final["failed"], final["vanished"]) == (180, 0, 40), final
    assert final["failures"] == []
    # Every survivor thumbnailed once; nothing was made for the names that went.
    done = [j.source for j in queue_jobs(queue_path) if j.state.value == "done"]
    assert sorted(done) == [str(p) for p in survivors(inbox)]
    assert thumbnails(out) == {thumbnail(out, inbox, p) for p in survivors(inbox)}


def test_mirror_deletes_leaves_no_stale_thumbnail_after_deletes_and_renames(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    tree(tmp_path / "photos")
    argv = (str(inbox), "-r", "-o", str(out), "-w", "2", "--mirror-deletes")

    def settled() -> bool:
        counts = queue_counts(queue_path)
        expected = {thumbnail(out, inbox, p) for p in survivors(inbox)}
        return counts["queued"] + counts["running"] == 0 and thumbnails(out) == expected

    with watching(env, tmp_path / "w.log", *argv, queue_path=queue_path):
        # Racing the workers: deleted and renamed right after arriving.
        arrive_and_churn(inbox, tmp_path / "photos", 20)
        assert wait_until(settled, timeout=180), sorted(
            thumbnails(out) ^ {thumbnail(out, inbox, p) for p in survivors(inbox)}
        )[:10]
        # Then some whose thumbnails exist: deleted, renamed, a folder renamed.
        done = survivors(inbox)
        gone, moved = done[5:25:2], done[6:26:2]
        before = thumbnails(out)
        assert all(thumbnail(out, inbox, p) in before for p in gone + moved)
        for path in gone:
            path.unlink()
        for path in moved:
            path.rename(path.with_name(f"moved-{path.name}"))
        (inbox / "photos" / "sub3").rename(inbox / "photos" / "sub3-renamed")
        assert wait_until(settled, timeout=180), sorted(
            thumbnails(out) ^ {thumbnail(out, inbox, p) for p in survivors(inbox)}
        )[:10]
    final = status_json(env)
    assert final["failed"] == 0, final["failures"]
    assert final["failures"] == []
    # Each survivor has exactly one job, done; no thumbnail is left for a name that went.
    jobs = queue_jobs(queue_path)
    done_sources = sorted(j.source for j in jobs if j.state.value == "done")
    assert [s for s in done_sources if Path(s).exists()] == [str(p) for p in survivors(inbox)]
    assert thumbnails(out) == {thumbnail(out, inbox, p) for p in survivors(inbox)}
    assert not (out / "photos" / "sub3").exists()  # its folder went with its thumbnails
    # A source that went before its job ran is vanished, never failed.
    states = {j.state.value for j in jobs if not Path(j.source).exists()}
    assert states <= {"vanished", "done"}, states


def test_a_rescan_reports_sources_gone_without_an_event_and_unfinished_ones_come_back(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    first, second, _ = write_jpegs(inbox, 3)
    ready: list[str] = []
    offers: list[list[str]] = []

    def on_gone(root: str, paths: list[str]) -> list[str]:
        assert root == str(inbox)
        offers.append(paths)
        return paths if len(offers) == 1 else []  # "still running" the first time

    # Polling once an hour: no event comes, only the scans see anything.
    config = WatchConfig((str(inbox),), poll=3600, settle=0)
    watcher = Watcher(config, lambda root, paths: ready.extend(paths), on_gone)
    watcher.start()
    try:
        assert wait_until(lambda: watcher.tick() >= 0 and len(ready) == 3, timeout=30)
        first.unlink()
        second.rename(inbox / "elsewhere.txt")  # not an image name: away as far as we know
        watcher.scan()
        watcher.tick()
        assert [sorted(o) for o in offers] == [sorted([str(first), str(second)])]
        # Unfinished, so offered again (about once a second), then done with.
        assert wait_until(lambda: watcher.tick() >= 0 and len(offers) == 2, timeout=30)
        assert sorted(offers[1]) == sorted(offers[0])
        time.sleep(1.5)
        watcher.tick()
        assert len(offers) == 2
    finally:
        watcher.stop()
