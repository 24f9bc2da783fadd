"""Web outputs benchmark: placeholder cost per image, attention and face crops against sharp's.

On the ``make_corpus.sh`` photos (baseline JPEGs), in this process:

- a job: ``make()`` of one 256 px thumbnail, with and without
  ``--placeholder thumbhash`` / ``blurhash``, alternating, medians per
  photo; the placeholder's cost is the difference (goal: under 5% of a job);
- crops: choosing a 256 x 256 window in the picture resampled for
  ``--fit cover`` (what the pipeline does): ``attention`` and ``faces``
  (OpenCV's cascade; skipped without the faces extra);
- sharp in the same run (``node``, one process): ``resize(256, 256, {fit:
  'cover', position: 'attention'})`` against ``position: 'centre'`` per
  photo, the difference being its attention cost. Skipped without sharp
  (``bash ../shared/bench/install_peers.sh``).

Medians over photos of the per-photo medians.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench_common import Config, Reporter, Table, fmt_time, scratch
from bench_peers import SHARED, SHARP_DIR
from PIL import Image

from thumbgen import build_options
from thumbgen.imaging import saliency
from thumbgen.thumbnailing import make

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


def run(config: Config, report: Reporter) -> None:
    """Print the placeholder and crop tables."""
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
                base = [
                    _median_of(lambda photo=photo: make(str(photo), plain), 1) for _ in range(runs)
                ]
                more = [
                    _median_of(lambda photo=photo, with_ph=with_ph: make(str(photo), with_ph), 1)
                    for _ in range(runs)
                ]
                extra[kind].append(statistics.median(more) - statistics.median(base))
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
