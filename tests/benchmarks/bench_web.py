"""Web outputs benchmark: placeholder cost per image, attention and face crops against sharp's.

On the ``make_corpus.sh`` photos (baseline JPEGs), in this process:

- a job: ``make()`` of one 256 px thumbnail, with and without
  ``--placeholder thumbhash`` / ``blurhash``, in pairs; the placeholder's
  cost is the median difference per photo (goal: under 5% of a job);
- crops: choosing a 256 x 256 window in the picture resampled for
  ``--fit cover`` (what the pipeline does): ``attention`` and ``faces``
  (OpenCV's cascade; skipped without the faces extra);
- sharp in the same run (``node``, one process): ``resize(256, 256, {fit:
  'cover', position: 'attention'})`` against ``position: 'centre'`` per
  photo, the difference being its attention cost. Skipped without sharp
  (``bash ../shared/bench/install_peers.sh``).

- the manifest: a batch of small JPEGs drained by one in-process worker
  (``runner.run_next``, what a worker process runs per job) on a SQLite
  queue, without ``--manifest``, with it (rewrites spaced out as workers do,
  and the final flush), and with a rewrite after every job (what workers did
  before): the wall time of each, and its ratio to the batch without.

Medians over photos of the per-photo medians.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench_common import Config, Reporter, Table, fmt_time, scratch, tiny_jpeg
from bench_peers import SHARED, SHARP_DIR
from PIL import Image

from thumbgen import build_options, commands
from thumbgen.imaging import saliency
from thumbgen.jobqueue.backend import open_queue
from thumbgen.thumbnailing import make
from thumbgen.workers.manifests import ManifestWriter
from thumbgen.workers.runner import RetryPolicy, run_next

_SHARP = r"""
const sharp = require(process.argv[2]);
const files = JSON.parse(process.argv[3]);
const runs = +process.argv[4];
(async () => {
  sharp.concurrency(1);
  const out = {};
  for (const f of files) {
    const t = {centre: [], attention: []};
    for (let r = 0; r < runs + 1; r++) {
      for (const pos of ["centre", "attention"]) {
        const s = process.hrtime.bigint();
        await sharp(f).resize(256, 256, {fit: "cover", position: pos}).jpeg().toBuffer();
        if (r > 0) t[pos].push(Number(process.hrtime.bigint() - s) / 1e9);
      }
    }
    out[f] = t;
  }
  console.log(JSON.stringify(out));
})();
"""


def _median_of(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _cover_resample(photo: Path) -> Image.Image:
    with Image.open(photo) as im:
        im.draft("RGB", (512, 512))
        scale = 256 / min(im.size)
        return im.convert("RGB").resize(
            (max(256, round(im.width * scale)), max(256, round(im.height * scale))),
            Image.Resampling.LANCZOS,
        )


def _drain_batch(tmp: Path, n: int, manifest: str) -> float:
    """Seconds to queue and drain ``n`` small JPEGs; ``manifest``: "", "spaced" or "each"."""
    folder = tmp / f"batch-{manifest or 'none'}"
    src = folder / "src"
    for i in range(n):
        tiny_jpeg(src / f"{i:05d}.jpg", i, (48, 32))
    where = str(folder / "site" / "thumbs.json") if manifest else None
    options = build_options(["32"], out_dir=folder / "out", manifest=where)
    queue = open_queue(str(folder / "queue.db"))
    writer = ManifestWriter() if manifest == "spaced" else None
    start = time.perf_counter()
    commands.add(queue, [str(src)], options)
    while run_next(queue.store, "w", RetryPolicy(), manifests=writer) is not None:
        pass
    if writer is not None:
        writer.flush(queue.store)  # what a worker does when it runs out of work
    took = time.perf_counter() - start
    if where is not None:
        listed = json.loads(Path(where).read_text())["sources"]
        assert len(listed) == n, f"manifest lists {len(listed)} of {n}"
    queue.close()
    return took


def _manifest_table(config: Config, report: Reporter, tmp: Path) -> None:
    n, rounds = config.size(2000, 200), config.runs(3, 1)
    table = Table(
        f"--manifest: a batch of {n} small JPEGs (48 x 32 -> 32 px), one in-process worker",
        ["", "batch (median)", "vs without"],
    )
    # Without and with alternate, so a busy moment of the machine hits both.
    times: dict[str, list[float]] = {"": [], "spaced": []}
    for r in range(rounds):
        for kind in times:
            times[kind].append(_drain_batch(tmp / f"round{r}", n, kind))
    base = statistics.median(times[""])
    spaced = statistics.median(times["spaced"])
    table.add("without --manifest", fmt_time(base), "1.00x")
    table.add("with (rewrites spaced out)", fmt_time(spaced), f"{spaced / base:.2f}x")
    each = _drain_batch(tmp, n, "each")
    table.add("rewrite per job (once)", fmt_time(each), f"{each / base:.2f}x")
    table.note(f"{rounds} rounds, alternating; 'rewrite per job' was the old way, run once")
    report.table(table)


def run(config: Config, report: Reporter) -> None:
    """Print the placeholder, crop and manifest tables."""
    runs = config.runs(7, 2)
    with scratch(config, "web") as tmp:
        corpus = tmp / "corpus"
        subprocess.run(
            ["bash", str(SHARED / "bench" / "make_corpus.sh"), str(corpus)],
            env={"BASELINE": "1", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            check=True,
        )
        photos = sorted(corpus.iterdir())[: config.size(100, 4)]
        out = tmp / "out"
        plain = build_options(["256"], out_dir=out)
        jobs: list[float] = []
        extra: dict[str, list[float]] = {"thumbhash": [], "blurhash": []}
        for photo in photos:
            make(str(photo), plain)  # warm: the file cache, Pillow's plugins
            for kind in extra:
                with_ph = build_options(["256"], out_dir=out, placeholder=kind)
                make(str(photo), with_ph)  # warm: the encoder's imports (numpy)
                # In pairs, so a busy moment of the shared machine hits both sides.
                base, diffs = [], []
                for _ in range(runs):
                    plain_took = _median_of(lambda photo=photo: make(str(photo), plain), 1)
                    more = _median_of(
                        lambda photo=photo, with_ph=with_ph: make(str(photo), with_ph), 1
                    )
                    base.append(plain_took)
                    diffs.append(more - plain_took)
                extra[kind].append(statistics.median(diffs))
                jobs.append(statistics.median(base))
        job = statistics.median(jobs)
        table = Table(
            f"Placeholders: {len(photos)} photos, 256 px job, median of {runs} per photo",
            ["", "per image", "share of a job"],
        )
        table.add("job (256 px, no placeholder)", fmt_time(job), "")
        for kind, costs in extra.items():
            cost = statistics.median(costs)
            table.add(f"+ {kind}", fmt_time(cost), f"{100 * cost / job:.1f}%")
        table.note("goal: under 5% of a job")
        report.table(table)

        crops = Table(
            f"Crops to 256 x 256 from the cover resample, {len(photos)} photos",
            ["", "per image"],
        )
        resampled = [_cover_resample(p) for p in photos]
        att = [
            _median_of(lambda im=im: saliency.attention_origin(im, (256, 256)), runs)
            for im in resampled
        ]
        crops.add("thumbgen attention (window choice)", fmt_time(statistics.median(att)))
        if saliency._cascade() is not None:
            faces = [
                _median_of(lambda im=im: saliency.faces_origin(im, (256, 256)), runs)
                for im in resampled
            ]
            crops.add("thumbgen faces (window choice)", fmt_time(statistics.median(faces)))
        else:
            crops.note("faces: skipped (no OpenCV: pip install '.[faces]')")
        if (SHARP_DIR / "node_modules" / "sharp").is_dir():
            script = tmp / "sharp_attention.js"
            script.write_text(_SHARP)
            done = subprocess.run(
                ["node", str(script), str(SHARP_DIR / "node_modules" / "sharp"),
                 json.dumps([str(p) for p in photos]), str(runs)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            timed = json.loads(done.stdout)
            diffs = [
                statistics.median(t["attention"]) - statistics.median(t["centre"])
                for t in timed.values()
            ]
            whole = [statistics.median(t["attention"]) for t in timed.values()]
            crops.add("sharp attention (minus centre)", fmt_time(statistics.median(diffs)))
            crops.add("sharp whole resize + attention", fmt_time(statistics.median(whole)))
        else:
            crops.note(f"sharp: skipped (none in {SHARP_DIR}; run install_peers.sh)")
        report.table(crops)
        _manifest_table(config, report, tmp)
