"""Camera RAW: DNGs made here by hand, thumbnailed from their preview or from the sensor data.

The preview of each test DNG has a black top-left corner where the sensor
picture has a white one, so every thumbnail shows which path made it, and
its quadrants show it is upright.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from support import imagegen, rawgen
from support.thumbs import UPRIGHT, decode_file, files_under, load, one, opts, sniff_file

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.imaging.sniff import NotImage
from thumbgen.thumbnailing import make_thumbnails

pytest.importorskip("rawpy")

PICTURE = imagegen.asymmetric((96, 64))  # white top-left corner


def marked_preview(size: tuple[int, int]) -> Image.Image:
    preview = imagegen.asymmetric(size)
    mark = max(2, min(size) // 8)
    preview.paste((0, 0, 0), (0, 0, mark, mark))
    return preview


def corner(im: Image.Image) -> str:
    px = im.convert("L").getpixel((1, 1))
    assert isinstance(px, int)
    return "white" if px > 200 else "black" if px < 60 else f"grey {px}"


@pytest.mark.parametrize("orientation", [1, 3, 6, 8, 2, 5])
def test_a_large_enough_preview_is_used_upright(tmp_path: Path, orientation: int) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, orientation, preview=marked_preview((96, 64)))
    out = load(one(src, opts(tmp_path, ("48",), format="png")).path)
    assert out.size == (48, 32)
    assert imagegen.quadrants(out) == UPRIGHT
    assert corner(out) == "black"  # the preview's mark


@pytest.mark.parametrize("orientation", [1, 3, 6, 8, 2, 5])
def test_a_too_small_preview_gives_way_to_the_sensor_data(tmp_path: Path, orientation: int) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, orientation, preview=marked_preview((24, 16)))
    out = load(one(src, opts(tmp_path, ("48",), format="png")).path)
    assert out.size == (48, 32)
    assert imagegen.quadrants(out) == UPRIGHT
    assert corner(out) == "white"  # demosaiced: the picture's own corner


def test_demosaic_is_half_size_when_that_is_enough(tmp_path: Path) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, 6, preview=marked_preview((12, 8)))
    half = decode_file(str(src), opts(tmp_path, ("32",)))
    assert half.image.size == (48, 32)  # stored 64x96, halved, turned upright
    assert half.source_size == (96, 64)
    full = decode_file(str(src), opts(tmp_path, ("80",)))
    assert full.image.size == (96, 64)


def test_demosaiced_colours_are_the_pictures(tmp_path: Path) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, 1, preview=None)
    out = load(one(src, opts(tmp_path, ("48",), format="png")).path)
    assert imagegen.quadrants(out) == UPRIGHT


def test_max_pixels_is_checked_from_the_raw_header(tmp_path: Path) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, 1, preview=marked_preview((96, 64)))
    with pytest.raises(TooManyPixels, match=r"is 96x64 \(6,144 pixels, limit 6,000\)"):
        make_thumbnails(str(src), opts(tmp_path, max_pixels=6000))


def test_a_damaged_raw_is_corrupt(tmp_path: Path) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, 1, preview=None)
    data = src.read_bytes()
    src.write_bytes(data[:600])  # the sensor data is gone
    with pytest.raises((CorruptImage, UnsupportedImage)) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(src) in str(info.value)
    assert "\n" not in str(info.value)


# --- telling RAW files from TIFFs ---------------------------------------------------------


def _tiff(path: Path) -> Path:
    imagegen.asymmetric((16, 16)).save(path, "TIFF")
    return path


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (lambda p: rawgen.dng(p, PICTURE, 1, preview=None), "photo.tif", "RAW"),  # by its tag
        (_tiff, "photo.nef", "RAW"),  # TIFF inside: only the name can tell
        (_tiff, "photo.ARW", "RAW"),
        (_tiff, "photo.tif", "TIFF"),
    ],
)
def test_tiff_based_raws_are_told_from_tiffs(
    tmp_path: Path, make: Callable[[Path], Path], name: str, expected: str
) -> None:
    assert sniff_file(str(make(tmp_path / name))) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"II*\x00\x10\x00\x00\x00CR\x02\x00",  # Canon CR2
        b"IIRO\x08\x00\x00\x00",  # Olympus ORF
        b"IIU\x00\x18\x00\x00\x00",  # Panasonic RW2
        b"FUJIFILMCCD-RAW 0201",  # Fujifilm RAF
        struct.pack(">I", 24) + b"ftypcrx \x00\x00\x00\x01crx isom",  # Canon CR3
    ],
    ids=["cr2", "orf", "rw2", "raf", "cr3"],
)
def test_raw_signatures(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "file.bin"  # the name says nothing
    path.write_bytes(head + bytes(64))
    assert sniff_file(str(path)) == "RAW"


# --- without the raw extra --------------------------------------------------------------

NEEDS_EXTRA = (
    "camera RAW needs the raw extra: from the thumbgen checkout, pipx install --force '.[raw]', "
    "or pipx inject thumbgen-cli 'rawpy>=0.28' (in a virtual environment: pip install '.[raw]')"
)


def test_without_rawpy_a_raw_is_skipped_naming_the_extra(
    tmp_path: Path, without_module: Callable[[str], None]
) -> None:
    src = rawgen.dng(tmp_path / "p.dng", PICTURE, 1, preview=None)
    without_module("rawpy")
    with pytest.raises(NotImage) as info:
        sniff_file(str(src))
    assert str(info.value) == NEEDS_EXTRA
    with pytest.raises(UnsupportedImage) as refused:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(refused.value) == f"Cannot read {src}: {NEEDS_EXTRA}"


def test_a_raw_with_no_image_data_fails_with_one_line(tmp_path: Path) -> None:
    # Metadata-only DNGs keep an empty raw strip; LibRaw then "decodes" whatever
    # sits at offset 0 (here an XMP packet) into a striped thumbnail.
    src = rawgen.dng(tmp_path / "empty.dng", preview=None, image_data=False)
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == (
        f"Unsupported image: {src} (unsupported: a camera RAW with no image data "
        "(its sensor strips are empty))"
    )
    assert files_under(tmp_path / "out") == []
