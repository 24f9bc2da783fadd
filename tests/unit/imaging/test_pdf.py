"""PDFs: the first page at the thumbnail's size, one line for encrypted or damaged files.

The PDFs are written here by Pillow (and by hand, for the encrypted one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from support import imagegen, pdfgen
from support.thumbs import UPRIGHT, load, mean_difference, one, opts, sniff_file

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.imaging.sniff import NotImage
from thumbgen.thumbnailing import make_thumbnails

pytest.importorskip("pypdfium2")

PAGE = imagegen.asymmetric((400, 300))


def test_the_first_page_is_rendered_at_the_thumbnail_size(tmp_path: Path) -> None:
    src = pdfgen.pdf(tmp_path / "d.pdf", [PAGE, Image.new("RGB", (300, 400), "black")])
    renamed = src.rename(tmp_path / "d.png")
    assert sniff_file(str(renamed)) == "PDF"
    made = one(renamed, opts(tmp_path, ("200",), format="png"))
    out = load(made.path)
    assert out.size == (200, 150)
    assert imagegen.quadrants(out) == UPRIGHT
    assert mean_difference(out, PAGE.resize((200, 150), Image.Resampling.LANCZOS)) < 4


def test_a_small_page_is_drawn_large_without_upscale(tmp_path: Path) -> None:
    # 400x300 pixels at 600 dpi: a page of 48x36 points, drawn at 512 px.
    src = pdfgen.pdf(tmp_path / "s.pdf", [PAGE], resolution=600)
    out = load(one(src, opts(tmp_path, ("512",), format="png")).path)
    assert out.size == (512, 384)
    assert imagegen.quadrants(out) == UPRIGHT


def test_an_encrypted_pdf_fails_in_one_line(tmp_path: Path) -> None:
    src = pdfgen.encrypted(tmp_path / "e.pdf")
    with pytest.raises(UnsupportedImage, match="unsupported: a PDF protected by a password"):
        make_thumbnails(str(src), opts(tmp_path))


def test_javascript_in_a_pdf_does_not_run(tmp_path: Path) -> None:
    src = pdfgen.with_javascript(tmp_path / "j.pdf")
    out = load(one(src, opts(tmp_path, ("200",), format="png")).path)
    assert out.getpixel((20, 50))[:3] == (255, 0, 0)  # the page as drawn, script or no script


@pytest.mark.parametrize("keep", [0.1, 0.3, 0.6])
def test_a_truncated_pdf_fails_in_one_line(tmp_path: Path, keep: float) -> None:
    src = pdfgen.pdf(tmp_path / "d.pdf", [PAGE])
    data = src.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises((CorruptImage, UnsupportedImage)) as caught:
        make_thumbnails(str(cut), opts(tmp_path))
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_max_pixels_applies_to_the_render_size(tmp_path: Path) -> None:
    src = pdfgen.pdf(tmp_path / "d.pdf", [PAGE])
    with pytest.raises(TooManyPixels, match="would be rendered at 1024x768"):
        make_thumbnails(str(src), opts(tmp_path, ("1024",), max_pixels=1000))


def test_without_the_pdf_extra_a_pdf_is_named_with_its_extra(
    tmp_path: Path, without_module: object
) -> None:
    src = pdfgen.pdf(tmp_path / "d.pdf", [PAGE])
    without_module("pypdfium2")  # type: ignore[operator]
    with pytest.raises(NotImage, match="pdf extra"):
        sniff_file(str(src))
