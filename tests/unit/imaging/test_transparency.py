"""Transparency: kept where the output format has alpha, flattened on the background where not."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import close, load, one, opts, rgb_at, sniff_file

from thumbgen.options import Format


def test_transparent_png_as_jpeg_shows_the_background(tmp_path: Path) -> None:
    src = imagegen.transparent_png(tmp_path / "t.png")
    thumb = one(src, opts(tmp_path, ("64",), format="jpeg", background="#3366cc"))
    out = load(thumb.path)
    assert out.mode == "RGB"
    assert close(rgb_at(out, 0.2, 0.5), (0x33, 0x66, 0xCC), 6)  # not the hidden magenta
    assert close(rgb_at(out, 0.8, 0.5), (0, 0, 255), 6)


def test_auto_format_is_png_for_real_transparency(tmp_path: Path) -> None:
    thumb = one(imagegen.transparent_png(tmp_path / "t.png"), opts(tmp_path, ("64",)))
    assert thumb.format is Format.PNG
    assert thumb.path.endswith("t_64x64.png")
    out = load(thumb.path)
    assert rgb_at(out, 0.2, 0.5)[3] == 0
    assert rgb_at(out, 0.8, 0.5) == (0, 0, 255, 255)


def test_auto_format_is_jpeg_for_an_opaque_alpha_channel(tmp_path: Path) -> None:
    Image.new("RGBA", (64, 64), (10, 200, 30, 255)).save(tmp_path / "opaque.png")
    thumb = one(tmp_path / "opaque.png", opts(tmp_path, ("32",)))
    assert thumb.format is Format.JPEG
    assert sniff_file(thumb.path) == "JPEG"


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_alpha_is_kept_where_the_format_has_it(tmp_path: Path, fmt: str) -> None:
    thumb = one(imagegen.transparent_png(tmp_path / "t.png"), opts(tmp_path, ("64",), format=fmt))
    out = load(thumb.path).convert("RGBA")
    assert rgb_at(out, 0.2, 0.5)[3] <= 5
    assert rgb_at(out, 0.8, 0.5)[3] >= 250


def test_palette_transparency(tmp_path: Path) -> None:
    thumb = one(imagegen.palette_transparent_png(tmp_path / "p.png"), opts(tmp_path, ("32",)))
    assert thumb.format is Format.PNG
    out = load(thumb.path).convert("RGBA")
    assert rgb_at(out, 0.2, 0.5)[3] == 0
    assert rgb_at(out, 0.8, 0.5) == (0, 200, 0, 255)


def test_grey_with_alpha(tmp_path: Path) -> None:
    src = imagegen.la_png(tmp_path / "la.png")
    png = load(one(src, opts(tmp_path, ("64",))).path)
    assert png.mode == "LA"
    jpeg = load(one(src, opts(tmp_path, ("64",), format="jpeg", background="black")).path)
    # grey 128 over black, with alpha ramping 0 -> 255 from left to right
    assert rgb_at(jpeg.convert("L").convert("RGB"), 0.0, 0.5)[0] <= 6
    assert abs(rgb_at(jpeg.convert("RGB"), 0.99, 0.5)[0] - 128) <= 6
