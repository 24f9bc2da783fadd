"""Sniffing: formats come from the bytes, never from the file name."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import sniff_file

from thumbgen.imaging.sniff import NotImage


@pytest.mark.parametrize(
    ("fmt", "pillow", "mode"),
    [
        ("JPEG", "JPEG", "RGB"),
        ("PNG", "PNG", "RGB"),
        ("GIF", "GIF", "P"),
        ("WEBP", "WEBP", "RGB"),
        ("AVIF", "AVIF", "RGB"),
        ("TIFF", "TIFF", "RGB"),
        ("BMP", "BMP", "RGB"),
        ("ICO", "ICO", "RGBA"),
        ("QOI", "QOI", "RGB"),
        ("PPM", "PPM", "RGB"),
        ("JPEG2000", "JPEG2000", "RGB"),
        ("TGA", "TGA", "RGB"),  # no magic number: Pillow is asked
    ],
)
def test_known_formats_whatever_the_name(tmp_path: Path, fmt: str, pillow: str, mode: str) -> None:
    path = tmp_path / "picture.txt"  # a misleading extension on purpose
    Image.new(mode, (16, 16), 1 if mode == "P" else None).save(path, pillow)
    assert sniff_file(str(path)) == fmt


def test_png_named_jpg(tmp_path: Path) -> None:
    assert sniff_file(str(imagegen.png_named_jpg(tmp_path / "photo.jpg"))) == "PNG"


def test_text_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(NotImage, match="not an image"):
        sniff_file(str(imagegen.text_as_jpg(tmp_path / "photo.jpg")))


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(NotImage, match="empty file"):
        sniff_file(str(tmp_path / "empty.jpg"))


def test_avif_with_generic_major_brand(tmp_path: Path) -> None:
    # Major brand "mif1" is shared with HEIC; "avif" among the compatible brands decides.
    path = imagegen.avif_with_major_brand(tmp_path / "a.avif", b"mif1")
    assert sniff_file(str(path)) == "AVIF"


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


@pytest.mark.parametrize(
    "head", [_ftyp(b"heic", b"mif1", b"heic"), _ftyp(b"mif1", b"mif1", b"heic", b"miaf")]
)
def test_heic_is_told_by_its_brands(tmp_path: Path, head: bytes) -> None:
    (tmp_path / "IMG_0001.HEIC").write_bytes(head + bytes(64))
    assert sniff_file(str(tmp_path / "IMG_0001.HEIC")) == "HEIF"


def test_huge_header_without_magic_is_still_an_image(tmp_path: Path) -> None:
    # A TGA (no signature, so Pillow is asked) declaring 60000x60000: Pillow's bomb
    # check must not turn it into "not an image"; the core refuses it later, clearly.
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 60000, 60000, 24, 0)
    (tmp_path / "big.tga").write_bytes(header + bytes(300))
    assert sniff_file(str(tmp_path / "big.tga")) == "TGA"


def test_missing_file_is_left_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sniff_file(str(tmp_path / "gone.jpg"))
