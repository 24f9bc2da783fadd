"""Quality at every source size: thumbgen's 256 px error against vipsthumbnail's.

The peers benchmark measures error on 8-24 MP photos only, where the decode
runs at 1/8 or 1/4. Smaller sources decode at 1/4, 1/2 or in full, each
choice made by the gap the decode keeps above the output (``_DRAFT_GAP``
in ``thumbgen/imaging/decoders.py``). Here the same photos are first made
800-2600 px on their long side (Lanczos from the full decode, JPEG q92,
sRGB, upright), then thumbnailed to 256 px by thumbgen's imaging core and by
vipsthumbnail (q85 both); the error is the mean per channel against each
source's full decode resized with Lanczos to the output's size.

Why the gap is what it is: 1.45 instead of 1.95 at 1/4 and 1/2 made 1024 px
outputs of the big photos a third faster (error 2.885 -> 2.903, vipsthumbnail
2.920), but here it took 900 px sources from 4.720 to 5.015 and 1900 px ones
from 4.994 to 5.446, above vipsthumbnail's 4.811 and 5.083.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from bench_common import Config, Reporter, Table
from bench_peers import SHARED, _mean_error, _reference
from PIL import Image

#: Long sides that straddle the decode scales' thresholds for 256 px (at a
#: 1.95 gap: full below 998 px, 1/2 below 1996, 1/4 below 3992).
LONG_SIDES = (800, 900, 1200, 1600, 1900, 2600)


def missing() -> list[str]:
    """What is missing to run this benchmark (empty: all there)."""
    gaps = []
    if not (SHARED / "bench" / "make_corpus.sh").is_file():
        gaps.append(f"{SHARED / 'bench'} (the shared bench scripts)")
    if not shutil.which("vipsthumbnail"):
        gaps.append("vipsthumbnail")
    return gaps


def run(config: Config, report: Reporter) -> None:
    """Every source size: thumbgen's and vipsthumbnail's error, and which is lower."""
    gaps = missing()
    if gaps:
        report.text("\nquality: skipped, missing: " + ", ".join(gaps))
        return
    from thumbgen import build_options, make_thumbnails

    sides = LONG_SIDES[::2] if config.quick else LONG_SIDES
    table = Table(
        "quality: mean error of 256 px thumbnails by source size (the peers' photos "
        "made smaller first), thumbgen against vipsthumbnail",
        ["long side", "photos", "thumbgen", "vipsthumbnail", "thumbgen at or below"],
    )
    with tempfile.TemporaryDirectory(prefix="thumbgen-bench-quality-", dir=config.tmp) as tmp_s:
        tmp = Path(tmp_s)
        photos = tmp / "photos"
        subprocess.run(
            ["bash", str(SHARED / "bench" / "make_corpus.sh"), str(photos)],
            env={"BASELINE": "1", "PATH": "/usr/bin:/bin:/usr/local/bin"},
            capture_output=True,
            check=True,
        )
        found = sorted(photos.iterdir())[: 12 if config.quick else None]
        largest = {path.stem: _reference(path) for path in found}
        for side in sides:
            src, ours, vips = tmp / f"src{side}", tmp / f"tg{side}", tmp / f"vips{side}"
            for folder in (src, ours, vips):
                folder.mkdir()
            for stem, full in largest.items():
                scale = side / max(full.size)
                size = (round(full.width * scale), round(full.height * scale))
                full.resize(size, Image.Resampling.LANCZOS).save(src / f"{stem}.jpg", quality=92)
            options = build_options(["256"], out_dir=str(ours), name="{stem}.{ext}")
            for path in sorted(src.iterdir()):
                make_thumbnails(str(path), options)
            subprocess.run(
                [
                    "vipsthumbnail",
                    *map(str, sorted(src.iterdir())),
                    "-s",
                    "256x256",
                    "-o",
                    f"{vips}/%s.jpg[Q=85]",
                ],
                capture_output=True,
                check=True,
            )
            errors: dict[str, list[float]] = {"thumbgen": [], "vips": []}
            for path in sorted(src.iterdir()):
                truth = _reference(path)
                for name, folder in (("thumbgen", ours), ("vips", vips)):
                    with Image.open(folder / path.name) as thumb:
                        thumb.load()
                        ref = truth.resize(thumb.size, Image.Resampling.LANCZOS)
                        errors[name].append(_mean_error(thumb, ref))
            tg = sum(errors["thumbgen"]) / len(errors["thumbgen"])
            vp = sum(errors["vips"]) / len(errors["vips"])
            table.add(
                f"{side} px", len(largest), f"{tg:.3f}", f"{vp:.3f}", "yes" if tg <= vp else "NO"
            )
    table.note("mean error: per channel, 0-255, against full decode + Lanczos to the same size")
    report.table(table)
