"""Samples read for what they mean: signed and float TIFFs by range, BMP's fourth byte as alpha."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import formatgen
from support.thumbs import load, one, opts

from thumbgen.options import Format
from thumbgen.thumbnailing import make_thumbnails


def grey_row(src: Path, tmp_path: Path) -> list[int]:
    """The thumbnail's grey levels of a one-row source, at its own width."""
    out = load(one(src, opts(tmp_path, (f"{1000}x",), format="png")).path)
    assert out.mode == "L"
    return list(out.tobytes())


def test_signed_8_bit_tiff_is_mapped_by_its_range(tmp_path: Path) -> None:
    # -1 was read as 255 (white text that should be dark); -128..127 spans 0..255.
    src = formatgen.signed_tiff(tmp_path / "s8.tif", [-128, -1, 0, 1, 127], bits=8)
    assert grey_row(src, tmp_path) == [0, 127, 128, 129, 255]


def test_signed_16_bit_tiff_is_mapped_by_its_range(tmp_path: Path) -> None:
    src = formatgen.signed_tiff(tmp_path / "s16.tif", [-32768, -257, 0, 256, 32767], bits=16)
    row = grey_row(src, tmp_path)
    assert row[0] == 0
    assert row[-1] == 255
    assert all(abs(a - b) <= 1 for a, b in zip(row, [0, 127, 128, 129, 255], strict=True)), row


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
