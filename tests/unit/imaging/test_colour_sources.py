"""Colour end to end: profiles, CMYK, 16-bit and 1-bit sources become the right sRGB pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import iccgen, imagegen
from support.thumbs import close, load, one, opts, rgb_at

from thumbgen.imaging import colour


@pytest.mark.parametrize("make_profile", [iccgen.display_p3, iccgen.adobe_rgb], ids=["p3", "adobe"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_tagged_colour_comes_out_as_the_same_srgb_colour(
    tmp_path: Path, make_profile: Any, fmt: str
) -> None:
    icc = make_profile()
    encoded = iccgen.from_srgb((220, 30, 40), icc)
    src = imagegen.tagged(
        Image.new("RGB", (64, 64), encoded), tmp_path / f"c.{fmt.lower()}", icc, fmt
    )
    out = load(one(src, opts(tmp_path, ("32",), format="png")).path)
    assert close(rgb_at(out, 0.5, 0.5), (220, 30, 40), 4)
    assert "icc_profile" not in out.info


def test_broken_profile_gives_the_plain_pixels(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), (200, 10, 10)).save(
        tmp_path / "b.png", icc_profile=b"not a profile" * 10
    )
    out = load(one(tmp_path / "b.png", opts(tmp_path, ("32",), format="png")).path)
    assert rgb_at(out, 0.5, 0.5) == (200, 10, 10)


def test_transform_cache_is_hit_across_files(tmp_path: Path) -> None:
    colour._transform.cache_clear()
    icc = iccgen.display_p3()
    for n in range(3):
        imagegen.tagged(Image.new("RGB", (32, 32), (200, 30, 40)), tmp_path / f"{n}.png", icc)
        one(tmp_path / f"{n}.png", opts(tmp_path, ("16",)))
    info = colour._transform.cache_info()
    assert (info.misses, info.hits) == (1, 2)


# C0 M100 Y100 K0 through the default (press) profile and through the toy one.
PRESS_RED = (231, 0, 17)


@pytest.mark.parametrize(
    ("make", "red"),
    [
        (lambda p: imagegen.cmyk_jpeg(p), PRESS_RED),
        (lambda p: imagegen.cmyk_jpeg(p, icc=iccgen.cmyk_profile()), (255, 0, 0)),
        (lambda p: imagegen.cmyk_jpeg_plain(p), PRESS_RED),
    ],
    ids=["adobe-inverted", "adobe-inverted+profile", "plain-no-adobe-marker"],
)
def test_cmyk_red_stays_red(tmp_path: Path, make: Any, red: tuple[int, int, int]) -> None:
    # A polarity mistake gives the negative (cyan), far from either red.
    src = make(tmp_path / "cmyk.jpg")
    out = load(one(src, opts(tmp_path, ("32",), format="png")).path)
    assert out.mode == "RGB"
    assert close(rgb_at(out, 0.5, 0.5), red, 8)


def test_16_bit_gradient_spans_the_full_8_bit_range(tmp_path: Path) -> None:
    src = imagegen.png16_gray(tmp_path / "g16.png", (256, 8))
    out = load(one(src, opts(tmp_path, ("256",), format="png")).path)
    assert out.mode == "L"
    assert out.getextrema() == (0, 255)
    assert [out.getpixel((x, 4)) for x in (0, 64, 128, 192, 255)] == [0, 64, 128, 192, 255]


def test_16_bit_rgb_keeps_its_levels(tmp_path: Path) -> None:
    src = imagegen.png16_rgb(tmp_path / "rgb16.png", (256, 8))
    out = load(one(src, opts(tmp_path, ("256",), format="png")).path)
    red, green, blue = out.split()
    assert red.getextrema() == (0, 255)
    assert green.getextrema() == (0x40, 0x40)
    assert blue.getextrema() == (0xC0, 0xC0)


def test_one_bit_source(tmp_path: Path) -> None:
    src = imagegen.one_bit_png(tmp_path / "bw.png")
    out = load(one(src, opts(tmp_path, ("32",), format="png")).path)
    assert out.mode == "L"
    assert (rgb_at(out.convert("RGB"), 0.1, 0.5), rgb_at(out.convert("RGB"), 0.9, 0.5)) == (
        (0, 0, 0),
        (255, 255, 255),
    )
