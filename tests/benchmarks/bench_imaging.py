"""Imaging benchmark: one 24 MP JPEG (baseline and progressive) to 256 px, per process.

Every measurement runs in a fresh interpreter under ``/usr/bin/time -v`` so
that "Maximum resident set size" is that one image's peak memory. The child
times its own work (after imports); the process wall time is kept as well.
Startup-only children give the memory floor of the interpreter and imports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import Config, Reporter, Stats, Table, fmt_mib, fmt_ratio, fmt_time, scratch
from PIL import Image

SIZE = (6000, 4000)
#: Where the shared photo corpus lives (``../shared`` seen from the project), if anywhere.
CORPUS = Path(
    os.environ.get(
        "THUMBGEN_BENCH_CORPUS",
        Path(__file__).resolve().parents[3] / "shared" / "corpus" / "unsplash-photos",
    )
)
TIME = "/usr/bin/time"

# What each child does after ``src`` and ``out`` are set; its imports are not timed.
_IMPORTS = {
    "pillow": "from PIL import Image",
    "thumbgen": "from thumbgen import build_options, make_thumbnails",
}
CHILDREN = {
    "startup (import PIL)": ("pillow", "pass"),
    "startup (import thumbgen)": ("thumbgen", "pass"),
    "thumbgen make_thumbnails": (
        "thumbgen",
        "make_thumbnails(src, build_options(['256'], out_dir=out))",
    ),
    # The same without the DC-scan decode of progressive files (jpeg_dc): what
    # it saves in time, and that it costs no memory (libjpeg's coefficient
    # buffer is the whole image's either way). No difference on baseline files.
    "thumbgen, DC-scan decode off": (
        "thumbgen",
        "from thumbgen.imaging import decoders\n"
        "decoders._from_dc_scans = lambda im, box: None\n"
        "make_thumbnails(src, build_options(['256'], out_dir=out))",
    ),
    "Pillow open+thumbnail+save": (
        "pillow",
        "im = Image.open(src)\nim.thumbnail((256, 256))\nim.save(out + '/p.jpg', quality=85)",
    ),
    "Pillow full decode (reducing_gap=None)": (
        "pillow",
        "im = Image.open(src)\nim.thumbnail((256, 256), reducing_gap=None)\n"
        "im.save(out + '/f.jpg', quality=85)",
    ),
}
BASELINE = "Pillow open+thumbnail+save"


def child_code(case: str) -> str:
    """The ``python -c`` program of one case: imports, the timed work, then its time and peak.

    The child prints ``[seconds, peak bytes]``: its own VmHWM, the high-water
    mark of this program only (ru_maxrss would also count the pages of the
    parent it was forked from, before exec).
    """
    imports, work = CHILDREN[case]
    return (
        f"import json, resource, sys, time\n{_IMPORTS[imports]}\nsrc, out = sys.argv[1:3]\n"
        f"t = time.perf_counter()\n{work}\nt = time.perf_counter() - t\n"
        "try:\n"
        "    with open('/proc/self/status') as f:\n"
        "        hwm = [int(x.split()[1]) for x in f if x.startswith('VmHWM:')][0]\n"
        "except (OSError, IndexError):\n"
        "    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps([t, hwm * 1024]))\n"
    )


def make_images(folder: Path) -> dict[str, Path]:
    """A 24 MP photo saved as a baseline and as a progressive JPEG (quality 90, 4:2:0)."""
    picture, origin = _picture()
    images = {}
    for name, progressive in (("baseline", False), ("progressive", True)):
        path = folder / f"{name}-24mp.jpg"
        picture.save(path, quality=90, progressive=progressive, optimize=progressive)
        images[f"{name} ({fmt_mib(path.stat().st_size)}, {origin})"] = path
    return images


def _picture() -> tuple[Image.Image, str]:
    photos = sorted(CORPUS.glob("*.jpg")) if CORPUS.is_dir() else []
    if photos:
        sizes = {p: Image.open(p).size for p in photos}
        exact = [p for p, s in sizes.items() if s == SIZE] or [
            p for p, s in sizes.items() if s == SIZE[::-1]
        ]
        chosen = exact[0] if exact else max(photos, key=lambda p: sizes[p][0] * sizes[p][1])
        with Image.open(chosen) as im:
            picture = im.convert("RGB")
        if picture.size == SIZE[::-1]:
            picture = picture.transpose(Image.Transpose.ROTATE_90)
        if picture.size != SIZE:
            picture = picture.resize(SIZE, Image.Resampling.LANCZOS)
        return picture, chosen.name.split("-unsplash")[0]
    # No corpus: smooth noise, upscaled so that it compresses roughly like a photo.
    small = Image.merge("RGB", [Image.effect_noise((1500, 1000), 50) for _ in range(3)])
    return small.resize(SIZE, Image.Resampling.BICUBIC), "synthetic noise"


def measure(case: str, src: Path, out: Path) -> tuple[float, float, int]:
    """One fresh child: (work seconds, process wall seconds, peak RSS bytes).

    Peak RSS is /usr/bin/time's "Maximum resident set size"; without it, the
    child's own VmHWM (RUSAGE_CHILDREN would be the maximum over every child
    so far, and a forked child's ru_maxrss includes its parent's pages).
    """
    argv = [sys.executable, "-c", child_code(case), str(src), str(out)]
    use_time = os.access(TIME, os.X_OK)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-v", "-o", report.name, *argv] if use_time else argv,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        _check(proc.returncode, proc.stderr, case)
        seconds, peak = json.loads(proc.stdout)
        if use_time:
            found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read())
            if not found:
                raise RuntimeError(f"no peak RSS in {TIME} -v output for {case}")
            peak = int(found.group(1)) * 1024
    return float(seconds), wall, int(peak)


def _check(code: int, stderr: str, case: str) -> None:
    if code != 0:
        raise RuntimeError(f"{case} failed ({code}):\n{stderr.strip()[-2000:]}")


def run(config: Config, report: Reporter) -> None:
    """Per-image time and peak memory: thumbgen against plain Pillow, medians of fresh processes."""
    runs = config.runs(7, 3)
    with scratch(config, "imaging") as tmp:
        images = make_images(tmp)
        results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
        for _ in range(runs):
            for label, src in images.items():
                for case in CHILDREN:
                    out = tmp / "out"
                    out.mkdir(exist_ok=True)
                    results.setdefault((label, case), []).append(measure(case, src, out))
                    shutil.rmtree(out)
    method = f"{TIME} -v" if os.access(TIME, os.X_OK) else "the child's VmHWM"
    table = Table(
        f"imaging: {SIZE[0]}x{SIZE[1]} JPEG to fit 256x256 (JPEG q85), one fresh process per "
        f"run, medians of {runs} runs; peak RSS from {method}",
        ["image", "case", "work", "min", "vs Pillow", "process wall", "peak RSS", "vs Pillow"],
    )
    for label in images:
        base = results[(label, BASELINE)]
        base_work = Stats.of([r[0] for r in base]).median
        base_rss = Stats.of([r[2] for r in base]).median
        for case in CHILDREN:
            rows = results[(label, case)]
            work = Stats.of([r[0] for r in rows])
            rss = Stats.of([r[2] for r in rows]).median
            startup = case.startswith("startup")
            table.add(
                label,
                case,
                "" if startup else fmt_time(work.median),
                "" if startup else fmt_time(work.min),
                "" if startup else fmt_ratio(work.median / base_work),
                fmt_time(Stats.of([r[1] for r in rows]).median),
                fmt_mib(rss),
                fmt_ratio(rss / base_rss),
            )
    table.note("work = time inside the child after its imports; process wall includes start-up")
    table.note("baseline: Pillow Image.open(p).thumbnail((256, 256)); save(quality=85)")
    report.table(table)
