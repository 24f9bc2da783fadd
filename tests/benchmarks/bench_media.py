"""Videos and PDFs benchmark: poster frames against ffmpeg, PDF first pages against pdftoppm.

Each case runs in a fresh process under ``/usr/bin/time -v`` (peak RSS):

- videos of 60 s (10 s with ``--quick``), 1080p and 4K, H.264 at 30 fps with a
  keyframe a second (as phones write them), made by PyAV here: thumbgen's
  ``make_thumbnails`` to fit 256 px against Debian's ``ffmpeg -ss T -i F
  -frames:v 1 -vf scale=256:-2`` at the poster time T thumbgen chose;
- a one-page A4 PDF (a 150 dpi photo-like page) against poppler's
  ``pdftoppm -r R -f 1 -l 1 -jpeg`` at the resolution that gives the same size;
- ``--animated`` on the 1080p video: a 3 s preview at 10 fps as animated WebP
  against ``ffmpeg -ss T -t 3 -i F -vf fps=10,scale=256:-2 -c:v libwebp_anim``.

"work" is the time inside the thumbgen child after its imports (what a
long-running worker pays per file); "wall" includes starting Python and
importing PyAV/pypdfium2. The goal (1.2x ffmpeg) is on work against ffmpeg's
wall, which is all an ``ffmpeg`` call costs. Medians of the runs.
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
from PIL import Image, ImageDraw

TIME = "/usr/bin/time"
_CHILD = (
    "import json, sys, time\n"
    "from thumbgen import build_options\n"
    "from thumbgen.thumbnailing import make_thumbnails\n"
    "import av, pypdfium2\n"
    "src, out = sys.argv[1:3]\n"
    "animated = sys.argv[3:] == ['--animated']\n"
    "t = time.perf_counter()\n"
    "make_thumbnails(src, build_options(['256'], out_dir=out, animated=animated))\n"
    "print(json.dumps(time.perf_counter() - t))\n"
)


def _video(path: Path, size: tuple[int, int], seconds: int) -> Path:
    import av

    base = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 80).convert("RGB")
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "x264-params": "keyint=30"}
        for i in range(seconds * 30):
            frame = base.copy()
            ImageDraw.Draw(frame).rectangle(
                (i * 8 % size[0], 40, i * 8 % size[0] + 200, 240), "red"
            )
            vf = av.VideoFrame.from_image(frame)
            vf.pts = i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


def _pdf(path: Path) -> Path:
    page = Image.effect_mandelbrot((1240, 1754), (-2.2, -1.5, 1.0, 1.5), 60).convert("RGB")
    draw = ImageDraw.Draw(page)
    for y in range(100, 1700, 40):
        draw.text((100, y), "The quick brown fox jumps over the lazy dog " * 3, fill="black")
    page.save(path, "PDF", resolution=150)
    return path


def _timed(argv: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, stdout) of one fresh process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-v", "-o", report.name, *argv], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed:\n{proc.stderr[-2000:]}")
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read())
        peak = int(found.group(1)) * 1024 if found else 0
    return wall, peak, proc.stdout


def _poster_time(src: Path) -> float:
    """The time of the keyframe thumbgen takes as the poster (for ffmpeg's -ss)."""
    import av

    from thumbgen.imaging import tonemap, video

    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for at in video.POSTER_TIMES:
            container.seek(int(at / stream.time_base), backward=False, stream=stream)
            frame = next(container.decode(stream))
            if video.contrast(tonemap.to_sdr(frame, (64, 36))) >= video.GOOD_CONTRAST:
                return float(frame.time)
    return 0.0


def run(config: Config, report: Reporter) -> None:
    """Poster frames against ffmpeg and PDF pages against pdftoppm, medians of fresh processes."""
    missing = [t for t in ("ffmpeg", "pdftoppm") if shutil.which(t) is None]
    if missing or not os.access(TIME, os.X_OK):
        needed = missing or [TIME]
        report.text(f"media: skipped, {needed} missing (apt-get install ffmpeg poppler-utils)")
        return
    runs = config.runs(5, 3)
    seconds = config.size(60, 10)
    table = Table(
        f"media: poster frame / first page to fit 256 px, fresh processes, medians of {runs}",
        ["file", "tool", "work", "wall", "peak RSS", "work vs peer", "wall vs peer", "goal"],
    )
    with scratch(config, "media") as tmp:
        cases = {
            f"1080p {seconds} s H.264": _video(tmp / "hd.mp4", (1920, 1080), seconds),
            f"4K {seconds} s H.264": _video(tmp / "uhd.mp4", (3840, 2160), seconds),
            "A4 PDF page": _pdf(tmp / "page.pdf"),
        }
        cases[f"1080p {seconds} s H.264, --animated"] = cases[f"1080p {seconds} s H.264"]
        for label, src in cases.items():
            out = tmp / "out"
            flags = ["--animated"] if label.endswith("--animated") else []
            if flags:
                at = _poster_time(src)
                peer = ["ffmpeg", "-v", "error", "-y", "-ss", f"{at:.3f}", "-t", "3", "-i",
                        str(src), "-vf", "fps=10,scale=256:-2", "-c:v", "libwebp_anim",
                        "-loop", "0", str(tmp / "peer.webp")]  # fmt: skip
                peer_name = f"ffmpeg -ss {at:g} -t 3 fps=10 webp"
            elif src.suffix == ".pdf":
                peer = ["pdftoppm", "-jpeg", "-f", "1", "-l", "1", "-scale-to", "256",
                        "-singlefile", str(src), str(tmp / "peer")]  # fmt: skip
                peer_name = "pdftoppm -scale-to 256"
            else:
                at = _poster_time(src)
                peer = ["ffmpeg", "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", str(src),
                        "-frames:v", "1", "-vf", "scale=256:-2", str(tmp / "peer.jpg")]  # fmt: skip
                peer_name = f"ffmpeg -ss {at:g}"
            ours, theirs = [], []
            for _ in range(runs):
                shutil.rmtree(out, ignore_errors=True)
                child = [sys.executable, "-c", _CHILD, str(src), str(out), *flags]
                wall, peak, said = _timed(child)
                ours.append((float(json.loads(said)), wall, peak))
                wall, peak, _ = _timed(peer)
                theirs.append((wall, wall, peak))
            work = Stats.of([r[0] for r in ours]).median
            wall = Stats.of([r[1] for r in ours]).median
            peer_wall = Stats.of([r[1] for r in theirs]).median
            goal = "met" if work <= 1.2 * peer_wall else "MISSED"
            table.add(label, "thumbgen", fmt_time(work), fmt_time(wall),
                      fmt_mib(Stats.of([r[2] for r in ours]).median),
                      fmt_ratio(work / peer_wall), fmt_ratio(wall / peer_wall),
                      f"<= 1.2x: {goal}")  # fmt: skip
            table.add(label, peer_name, "", fmt_time(peer_wall),
                      fmt_mib(Stats.of([r[2] for r in theirs]).median), "", "", "")  # fmt: skip
    table.note("work: inside the thumbgen child after imports (a worker's cost per file)")
    table.note("wall: the whole process, Python start-up and imports included")
    report.table(table)
