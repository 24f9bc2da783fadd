"""Peers benchmark: thumbgen through its queue against vipsthumbnail and sharp, one core each.

Optional: every peer that is not installed is skipped (``bash
../shared/bench/install_peers.sh`` installs them). The corpus is the one of
``../shared/bench/make_corpus.sh``; without it, the Unsplash photos of
``../shared/corpus``. Each tool gets one process and one thread where it
has a knob for it, and the same job: fit 256x256, JPEG quality 85.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench_common import (
    Config,
    Reporter,
    Stats,
    TimingTable,
    clean_env,
    run_timed,
    scratch,
    thumbgen_argv,
)

SHARED = Path(
    os.environ.get("THUMBGEN_BENCH_SHARED", Path(__file__).resolve().parents[3] / "shared")
)
SHARP_DIR = Path(
    os.environ.get("SHARP_DIR", Path(os.environ.get("TMPDIR", "/tmp")) / "thumb-peers" / "sharp")
)
_SHARP_JS = """
const fs = require('fs'), path = require('path'), sharp = require('sharp');
sharp.concurrency(1);
const [src, out] = process.argv.slice(1);
(async () => {
  for (const f of fs.readdirSync(src).filter((f) => /\\.jpe?g$/i.test(f)).sort()) {
    await sharp(path.join(src, f)).rotate()
      .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85 }).toFile(path.join(out, path.parse(f).name + '.jpg'));
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
"""
_PILLOW_PY = """
import os, sys
from PIL import Image
src, out = sys.argv[1:3]
for f in sorted(os.listdir(src)):
    with Image.open(os.path.join(src, f)) as im:
        im.thumbnail((256, 256))
        im.save(os.path.join(out, os.path.splitext(f)[0] + '.jpg'), quality=85)
"""
_THUMBGEN_PY = """
import os, sys
from thumbgen import build_options, make_thumbnails
src, out = sys.argv[1:3]
options = build_options(['256'], out_dir=out)
for f in sorted(os.listdir(src)):
    make_thumbnails(os.path.join(src, f), options)
"""


def make_corpus(folder: Path) -> str:
    """The peer corpus in ``folder``; returns a description of what it holds."""
    script = SHARED / "bench" / "make_corpus.sh"
    if script.is_file() and shutil.which("bash"):
        proc = subprocess.run(
            ["bash", str(script), str(folder)], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0:
            return f"make_corpus.sh: {proc.stdout.strip().splitlines()[-1]}"
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    for photo in sorted((SHARED / "corpus" / "unsplash-photos").glob("*.jpg")):
        shutil.copy(photo, folder / photo.name)
    return f"{len(list(folder.iterdir()))} Unsplash photos (make_corpus.sh unavailable)"


def peers(corpus: Path) -> dict[str, Callable[[Path, Path], list[str]]]:
    """argv builders (corpus, out) -> command, for every peer found on this machine."""
    found: dict[str, Callable[[Path, Path], list[str]]] = {}
    vips = shutil.which("vipsthumbnail")
    if vips:
        files = [str(p) for p in sorted(corpus.iterdir())]
        found["vipsthumbnail, one process for all files"] = lambda _, out: [
            vips,
            "-s",
            "256x256",
            "-o",
            f"{out}/%s.jpg[Q=85,strip]",
            *files,
        ]
    if shutil.which("node") and (SHARP_DIR / "node_modules" / "sharp").is_dir():
        found["sharp, one file at a time, concurrency 1"] = lambda src, out: [
            "node",
            "-e",
            _SHARP_JS,
            str(src),
            str(out),
        ]
    return found


def run(config: Config, report: Reporter) -> None:
    """Thumbgen (queue and direct) against the installed peers on the photo corpus, -w 1."""
    rounds = config.runs(3, 1)
    with scratch(config, "peers") as tmp:
        corpus = tmp / "corpus"
        described = make_corpus(corpus)
        files = len(list(corpus.iterdir()))
        found = peers(corpus)
        if not found:
            report.text("\npeers: skipped (no vipsthumbnail or sharp; see install_peers.sh)")
            return
        env = clean_env(tmp / "unused.db")
        # One core: libvips and libuv threads pinned to one, as thumbgen's -w 1.
        env.update(
            VIPS_CONCURRENCY="1", UV_THREADPOOL_SIZE="1", NODE_PATH=str(SHARP_DIR / "node_modules")
        )
        cases: dict[str, Callable[[Path, Path], list[str]]] = {
            **found,
            "Pillow open+thumbnail+save loop": lambda src, out: [
                sys.executable,
                "-c",
                _PILLOW_PY,
                str(src),
                str(out),
            ],
            "thumbgen make_thumbnails loop (no queue)": lambda src, out: [
                sys.executable,
                "-c",
                _THUMBGEN_PY,
                str(src),
                str(out),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in [*cases, "queue", "worker"]}
        for r in range(rounds):
            for name, argv in cases.items():
                out = tmp / f"out-{r}-{len(times[name])}-{abs(hash(name))}"
                out.mkdir()
                times[name].append(run_timed(argv(corpus, out), env=env)[0])
                _count(out, files, name)
            add_s, worker_s = _through_queue(tmp / f"queue{r}", corpus, env, files)
            times["queue"].append(add_s + worker_s)
            times["worker"].append(worker_s)

    baseline = next(iter(found))
    table = TimingTable(
        f"peers: {described}; one core each; medians of {rounds} rounds (wall, start-up included)"
    )
    table.baseline("peer", baseline, Stats.of(times[baseline]), count=files, unit=" img/s")
    for name in [*cases][1:]:
        table.row(name, Stats.of(times[name]), vs="peer", count=files, unit=" img/s")
    table.row(
        "thumbgen add + worker --burst -w 1",
        Stats.of(times["queue"]),
        vs="peer",
        count=files,
        unit=" img/s",
    )
    table.row(
        "  of which worker --burst -w 1",
        Stats.of(times["worker"]),
        vs="peer",
        count=files,
        unit=" img/s",
    )
    report.table(table)


def _through_queue(
    folder: Path, corpus: Path, env: dict[str, str], files: int
) -> tuple[float, float]:
    """(add seconds, worker seconds) on a fresh queue in ``folder``."""
    folder.mkdir()
    base = [*thumbgen_argv(), "--queue", str(folder / "queue.db")]
    add_s, _ = run_timed([*base, "add", str(corpus), "-o", str(folder / "out")], env=env)
    start = time.perf_counter()
    run_timed([*base, "worker", "--burst", "-w", "1"], env=env)
    worker_s = time.perf_counter() - start
    _count(folder / "out", files, "thumbgen queue")
    return add_s, worker_s


def _count(out: Path, files: int, name: str) -> None:
    made = sum(len(f) for _, _, f in os.walk(out))
    if made != files:
        raise RuntimeError(f"{name} wrote {made} thumbnails for {files} photos")
