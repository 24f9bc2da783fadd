"""Samples read for what they mean: signed, float and 16-bit CIELab TIFFs; BMP alpha."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PIL import Image
from support import formatgen
from support.thumbs import load, one, opts

from thumbgen.options import Format
from thumbgen.thumbnailing import make_thumbnails


def grey_row(src: Path, tmp_path: Path) -> list[int]:
    """The thumbnail's grey levels of a one-row source, at its own width."""
    out = load(one(src, opts(tmp_path, (f"{1000}x",), format="png")).path)
    assert out.mode == "L"
    return list(out.tobytes())


# Signed samples: zero is black, as libvips and sharp show them and as microscopy and
# scientific files mean them. The expected rows are what vipsthumbnail 8.14 gives
# (negatives clip to black; positives keep the unsigned scale of their depth); -1 was
# once read as 255, and then zero as mid-grey.


def test_signed_8_bit_tiff_shows_zero_as_black(tmp_path: Path) -> None:
    src = formatgen.signed_tiff(tmp_path / "s8.tif", [-128, -1, 0, 1, 127], bits=8)
    assert grey_row(src, tmp_path) == [0, 0, 0, 1, 127]


def test_signed_16_bit_tiff_shows_zero_as_black(tmp_path: Path) -> None:
    src = formatgen.signed_tiff(tmp_path / "s16.tif", [-32768, -257, 0, 256, 32767], bits=16)
    row = grey_row(src, tmp_path)
    assert row[:3] == [0, 0, 0]
    # vipsthumbnail: 1 and 128 (it divides by 256; thumbgen's 16-bit scale is 257).
    assert all(abs(a - b) <= 1 for a, b in zip(row, [0, 0, 0, 1, 128], strict=True)), row


def test_signed_32_bit_tiff_shows_zero_as_black(tmp_path: Path) -> None:
    src = formatgen.signed_tiff(tmp_path / "s32.tif", [-(2**31), -1, 0, 2**31 - 1], bits=32)
    row = grey_row(src, tmp_path)
    assert row[:3] == [0, 0, 0]
    assert row[3] in (127, 128)


# --- 16-bit CIELab: no Pillow mode, read as 8-bit Lab -----------------------------------

#: L*, a*, b*: mid grey, white, black, and three saturated colours.
LAB = [(50.0, 0.0, 0.0), (100.0, 0.0, 0.0), (0.0, 0.0, 0.0), (53.2, 80.1, 67.2),
       (87.7, -86.2, 83.2), (32.3, 79.2, -107.9)]  # fmt: skip


def lab_tiff(path: Path, bits: int) -> Path:
    """The colours of :data:`LAB` in one row, as a CIELab TIFF of ``bits`` per sample."""
    if bits == 16:
        data = b"".join(
            struct.pack("<Hhh", round(lum * 65535 / 100), round(a * 256), round(b * 256))
            for lum, a, b in LAB
        )
    else:
        data = b"".join(struct.pack("<Bbb", round(lum * 255 / 100), round(a), round(b))
                        for lum, a, b in LAB)  # fmt: skip
    return formatgen.tiff(path, (len(LAB), 1), data, bits=[bits] * 3, photometric=8)


def row_of(im: Image.Image) -> list[tuple[int, ...]]:
    rgb = im.convert("RGB")
    return [tuple(rgb.getpixel((x, 0))) for x in range(rgb.width)]  # type: ignore[arg-type]


def test_a_16_bit_cielab_tiff_reads_like_its_8_bit_twin(tmp_path: Path) -> None:
    # Pillow cannot open it at all; libvips and sharp read it. Greys are checked
    # against vipsthumbnail 8.14 (119 for L* 50); colours against the 8-bit CIELab
    # TIFF of the same values, which Pillow reads (libvips takes TIFF Lab as D65, thumbgen
    # as the ICC's D50, so saturated colours differ between the two by design).
    wide = lab_tiff(tmp_path / "lab16.tif", 16)
    narrow = lab_tiff(tmp_path / "lab8.tif", 8)
    (thumb,) = make_thumbnails(str(wide), opts(tmp_path, (f"{len(LAB)}x",), format="png"))
    got = row_of(load(thumb.path))
    (twin,) = make_thumbnails(str(narrow), opts(tmp_path, (f"{len(LAB)}x",), format="png",
                                                name="{stem}8.{ext}"))  # fmt: skip
    expected = row_of(load(twin.path))
    assert got[:3] == [(119, 119, 119), (255, 255, 255), (0, 0, 0)]
    for a, b in zip(got, expected, strict=True):
        assert all(abs(x - y) <= 2 for x, y in zip(a, b, strict=True)), (got, expected)


def test_float_tiff_in_0_to_1_spans_the_8_bit_range(tmp_path: Path) -> None:
    src = formatgen.float_tiff(tmp_path / "f.tif", [0.0, 0.25, 0.5, 1.0])
    assert grey_row(src, tmp_path) == [0, 64, 128, 255]


def test_float_tiff_with_a_declared_range_uses_it(tmp_path: Path) -> None:
    # SMinSampleValue / SMaxSampleValue say what black and white are.
    src = formatgen.float_tiff(tmp_path / "f.tif", [-1.0, 0.0, 1.0, 2.0], sample_range=(-1.0, 1.0))
    assert grey_row(src, tmp_path) == [0, 128, 255, 255]


def test_float_tiff_beyond_1_keeps_the_0_to_255_reading(tmp_path: Path) -> None:
    src = formatgen.float_tiff(tmp_path / "f.tif", [0.0, 100.0, 255.0, 300.0])
    assert grey_row(src, tmp_path) == [0, 100, 255, 255]


# --- BMP: 32 bits per pixel, the fourth byte holding alpha -------------------------------

CLEAR, HALF, BLUE = (255, 0, 255, 0), (0, 200, 0, 128), (0, 0, 255, 255)


@pytest.mark.parametrize(
    ("header", "mask"), [(40, 0), (108, 0xFF000000), (124, 0xFF000000)], ids=["v1", "v4", "v5"]
)
def test_32_bit_bmp_keeps_its_alpha(tmp_path: Path, header: int, mask: int) -> None:
    src = formatgen.bmp32(tmp_path / "a.bmp", [CLEAR, HALF, BLUE, BLUE] * 4, 4, header=header,
                          alpha_mask=mask)  # fmt: skip
    (thumb,) = make_thumbnails(str(src), opts(tmp_path, ("4",)))
    assert thumb.format is Format.PNG  # auto: transparency means PNG, as libvips writes
    out = load(thumb.path)
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert out.getpixel((1, 0)) == HALF
    assert out.getpixel((2, 0)) == BLUE


@pytest.mark.parametrize("fourth", [0, 255], ids=["zero", "opaque"])
def test_32_bit_bmp_with_a_constant_fourth_byte_is_opaque(tmp_path: Path, fourth: int) -> None:
    # Most writers leave the byte 0 ("reserved"): that is no alpha, not invisible.
    pixels = [(200, 10, 10, fourth), (10, 10, 200, fourth)] * 8
    src = formatgen.bmp32(tmp_path / "o.bmp", pixels, 4)
    (thumb,) = make_thumbnails(str(src), opts(tmp_path, ("4",)))
    assert thumb.format is Format.JPEG
    assert load(thumb.path).mode == "RGB"
