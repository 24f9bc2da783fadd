"""--manifest under real worker processes: many writers, a killed worker, re-added sources.

Whenever the manifest is read it must parse and list only finished sources
(it is replaced whole, never edited in place); once the queue is drained it
lists exactly the done ones, whichever worker wrote last and whichever died.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import queue_jobs, run_thumbgen, wait_until, watching, worker


def _done(queue_path: str) -> set[str]:
    return {j.source for j in queue_jobs(queue_path) if j.state.value == "done"}


def _listed(manifest: Path) -> set[str] | None:
    if not manifest.exists():
        return None
    return set(json.loads(manifest.read_text())["sources"])  # must always parse


def test_many_workers_a_kill_and_re_adds_leave_exactly_the_done_sources(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    src, out, manifest = tmp_path / "src", tmp_path / "out", tmp_path / "site" / "m.json"
    sources = write_jpegs(src, 60, size=(640, 480))
    args = ["-o", str(out), "-s", "64", "-s", "128", "--manifest", str(manifest)]
    args += ["--placeholder", "blurhash"]
    added = run_thumbgen("add", str(src), *args, env=env)
    assert added.returncode == 0, added.stderr

    with (
        worker(env, tmp_path / "a.log", "-w", "2") as first,
        worker(env, tmp_path / "b.log", "-w", "2"),
    ):
        assert wait_until(lambda: len(_done(queue_path)) >= 10, timeout=120)
        os.killpg(first.pid, signal.SIGKILL)  # mid-batch, mid-rewrite perhaps
        while True:
            listed = _listed(manifest)
            done = _done(queue_path)  # read after: done jobs stay done here
            if listed is not None:
                assert listed <= done
            if len(done) == len(sources):
                break
            time.sleep(0.05)
        # The surviving worker recovers the killed one's jobs; wait for the last write.
        assert wait_until(lambda: _listed(manifest) == _done(queue_path), timeout=60)

    # Re-add: five sources change; they leave the manifest until done again.
    write_jpegs(src, 5, size=(320, 240))
    readded = run_thumbgen("add", str(src), *args, env=env)
    assert readded.returncode == 0, readded.stderr
    printed = run_thumbgen("manifest", "--manifest", str(manifest), env=env)
    assert printed.returncode == 0, printed.stderr
    assert len(json.loads(printed.stdout)["sources"]) == len(sources) - 5

    burst = run_thumbgen("worker", "--burst", "-w", "2", env=env)
    assert burst.returncode == 0, burst.stderr
    final = json.loads(manifest.read_text())["sources"]
    assert set(final) == {str(s) for s in sources} == _done(queue_path)
    changed = final[str(sources[0])]
    assert (changed["source"]["width"], changed["source"]["height"]) == (320, 240)
    for entry in final.values():
        for output in entry["outputs"]:
            assert Path(output["path"]).stat().st_size == output["bytes"]


def test_watch_mirror_deletes_drops_a_deleted_source_from_the_manifest(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    # A real watch process with its observer and workers: the manifest lists
    # what arrived once done, and a source deleted afterwards leaves it (and
    # its thumbnail goes), while the others stay.
    inbox, out, manifest = tmp_path / "inbox", tmp_path / "out", tmp_path / "site" / "m.json"
    inbox.mkdir()
    made = write_jpegs(tmp_path / "photos", 4, size=(320, 240))
    argv = (str(inbox), "-o", str(out), "-s", "64", "-w", "1", "--mirror-deletes")
    with watching(env, tmp_path / "w.log", *argv, "--manifest", str(manifest),
                  queue_path=queue_path):  # fmt: skip
        for path in made:
            (inbox / path.name).write_bytes(path.read_bytes())
        arrived = {str(inbox / p.name) for p in made}
        assert wait_until(lambda: _listed(manifest) == arrived, timeout=120), _listed(manifest)
        gone = inbox / made[0].name
        thumb = out / f"{gone.stem}_64x64.jpg"
        assert thumb.exists()
        gone.unlink()
        assert wait_until(lambda: _listed(manifest) == arrived - {str(gone)}, timeout=120)
        assert wait_until(lambda: not thumb.exists(), timeout=30)
