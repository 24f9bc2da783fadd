"""Profiles the sources do not carry, or carry for grey and CIELab pixels.

- an untagged CMYK image is converted through the shipped default CMYK profile,
  as if it had been embedded (libvips and sharp do the same);
- a grey image's grey profile is converted like an RGB one;
- CIELab pixels (Pillow's mode LAB) become sRGB through a Lab profile.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms
from support import iccgen, imagegen
from support.thumbs import close, load, one, opts, rgb_at

from thumbgen.imaging import colour

# Cyan, magenta, yellow, black, a red and a brown: every ink and mixes of them.
SWATCHES = [
    (255, 0, 0, 0),
    (0, 255, 0, 0),
    (0, 0, 255, 0),
    (0, 0, 0, 255),
    (0, 255, 255, 0),
    (60, 140, 200, 40),
]


def cmyk_swatches(size: int = 16) -> Image.Image:
    im = Image.new("CMYK", (size * len(SWATCHES), size))
    for i, ink in enumerate(SWATCHES):
        im.paste(ink, (i * size, 0, (i + 1) * size, size))
    return im


def max_difference(a: Image.Image, b: Image.Image) -> int:
    low_high = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getextrema()
    return max(int(high) for _, high in low_high)  # type: ignore[misc]


def test_the_default_cmyk_profile_is_the_shipped_swop_like_one() -> None:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(colour.default_cmyk_profile()))
    assert ImageCms.getProfileDescription(profile).strip() == "Chemical proof"
    assert "public domain" in ImageCms.getProfileCopyright(profile)
    assert profile.profile.xcolor_space.strip() == "CMYK"


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_untagged_cmyk_looks_like_the_same_pixels_with_a_swop_like_profile(
    tmp_path: Path, fmt: str
) -> None:
    # Acceptance of issue 11: within 3/255 of each other. The old naive
    # conversion (C=255 -> pure cyan 0,255,255) is 100 levels off for cyan.
    swatches = cmyk_swatches()
    ext = fmt.lower()
    swatches.save(tmp_path / f"plain.{ext}", fmt, quality=100)
    swatches.save(
        tmp_path / f"tagged.{ext}", fmt, quality=100, icc_profile=colour.default_cmyk_profile()
    )
    options = opts(tmp_path, ("96x16",), format="png")
    plain = load(one(tmp_path / f"plain.{ext}", options).path)
    tagged = load(one(tmp_path / f"tagged.{ext}", options).path)
    assert max_difference(plain, tagged) <= 3
    assert not close(rgb_at(plain, 1 / 12, 0.5), (0, 255, 255), 40)  # not the naive cyan


def test_a_broken_cmyk_profile_falls_back_to_the_default_one() -> None:
    tagged = cmyk_swatches()
    tagged.info["icc_profile"] = colour.default_cmyk_profile()
    broken = cmyk_swatches()
    broken.info["icc_profile"] = b"not a profile" * 10
    assert max_difference(colour.to_srgb(broken, "b.jpg"), colour.to_srgb(tagged, "t.jpg")) == 0


def test_an_embedded_cmyk_profile_wins_over_the_default() -> None:
    # The test profile's toy ink model makes C=255 pure cyan; the default would not.
    im = Image.new("CMYK", (4, 4), (255, 0, 0, 0))
    im.info["icc_profile"] = iccgen.cmyk_profile()
    assert close(colour.to_srgb(im, "c.jpg").getpixel((0, 0)), (0, 255, 255), 8)  # type: ignore[arg-type]


def _gamma22_to_srgb(v: int) -> float:
    linear = (v / 255) ** 2.2
    encoded = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return encoded * 255


def grey_ramp() -> Image.Image:
    return Image.frombytes("L", (256, 1), bytes(range(256)))


def test_a_grey_profile_is_converted(tmp_path: Path) -> None:
    # Gray Gamma 2.2 is darker than sRGB in the shadows: 30 shows as 24.
    # (LittleCMS's 8-bit tables round a level or two off at the very bottom.)
    imagegen.tagged(grey_ramp(), tmp_path / "g.png", iccgen.grey_profile(2.2))
    out = load(one(tmp_path / "g.png", opts(tmp_path, ("256x1",), format="png")).path)
    assert out.mode == "L"
    values = list(out.tobytes())
    assert all(abs(v - _gamma22_to_srgb(i)) <= 1.5 for i, v in enumerate(values)), values
    assert values[30] == 24


def test_a_grey_profile_keeps_the_alpha_channel() -> None:
    im = Image.merge("LA", (Image.new("L", (4, 4), 30), Image.new("L", (4, 4), 77)))
    im.info["icc_profile"] = iccgen.grey_profile(2.2)
    out = colour.to_srgb(im, "g.png")
    assert out.mode == "LA"
    assert out.getpixel((0, 0)) == (24, 77)


def test_an_rgb_profile_on_grey_pixels_is_ignored() -> None:
    im = Image.new("L", (4, 4), 30)
    im.info["icc_profile"] = iccgen.display_p3()
    assert colour.to_srgb(im, "g.png").getpixel((0, 0)) == 30


def test_an_srgb_curve_grey_profile_changes_nothing() -> None:
    im = grey_ramp()
    im.info["icc_profile"] = iccgen.grey_profile("srgb")
    out = colour.to_srgb(im, "g.png")
    assert all(abs(a - b) <= 1 for a, b in zip(out.tobytes(), range(256), strict=True))


# CIELab -> sRGB of a few colours (D50 Lab, relative colorimetric), from the
# formulas in support.iccgen, which shares nothing with LittleCMS.
LAB_COLOURS = [(220, 30, 40), (30, 180, 60), (40, 60, 220), (128, 128, 128)]


def _lab_mode_pixel(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    big_l, a, b = iccgen._srgb_to_lab([c / 255 for c in rgb])
    return round(big_l * 255 / 100), round(a) + 128, round(b) + 128


@pytest.mark.parametrize("rgb", LAB_COLOURS)
def test_cielab_tiff_becomes_its_srgb_colour(tmp_path: Path, rgb: tuple[int, int, int]) -> None:
    Image.new("LAB", (32, 32), _lab_mode_pixel(rgb)).save(tmp_path / "lab.tif")
    with Image.open(tmp_path / "lab.tif") as im:
        assert im.mode == "LAB"
    out = load(one(tmp_path / "lab.tif", opts(tmp_path, ("16",), format="png")).path)
    assert out.mode == "RGB"
    assert close(rgb_at(out, 0.5, 0.5), rgb, 4)
