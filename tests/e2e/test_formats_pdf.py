"""PDF first pages against the picture on the page and an independent renderer, poppler.

The page is one image (Pillow writes it), so its picture resized is the truest
reference; poppler's ``pdftoppm`` samples page images more coarsely than
PDFium does at a thumbnail's size, so it is asked for twice the size and
resized like the picture, and agrees within a looser bound.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from support import imagegen, pdfgen
from support.thumbs import load, mean_difference, one, opts

pytest.importorskip("pypdfium2")


def page() -> Image.Image:
    im = imagegen.asymmetric((600, 800))
    draw = ImageDraw.Draw(im)
    for y in range(40, 800, 60):
        draw.line((40, y, 560, y + 30), fill=(0, 0, 0), width=5)
    return im


def test_the_first_page_matches_pdftoppm(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing (apt-get install -y poppler-utils, as .ci/run does)")
    src = pdfgen.pdf(tmp_path / "d.pdf", [page(), Image.new("RGB", (100, 100))], resolution=150)
    ours = load(one(src, opts(tmp_path, ("300",), format="png")).path)
    assert ours.size == (225, 300)
    assert mean_difference(ours, page().resize(ours.size, Image.Resampling.LANCZOS)) < 3
    subprocess.run(
        ["pdftoppm", "-png", "-f", "1", "-l", "1", "-scale-to-x", "450", "-scale-to-y", "600",
         "-singlefile", str(src), str(tmp_path / "ref")],
        check=True,
    )  # fmt: skip
    theirs = load(tmp_path / "ref.png").resize(ours.size, Image.Resampling.LANCZOS)
    assert mean_difference(ours, theirs) < 6
