"""Tell images from other files by their first bytes, not their names.

``add`` looks at every file it is given; reading a few bytes is about 20 times
cheaper than asking Pillow, which matters at 100,000 files. Files whose bytes
match no signature are handed to Pillow as a last resort (TGA has no magic).
"""

from __future__ import annotations

import warnings

from PIL import Image, UnidentifiedImageError

from .reading import READ_FORMATS, pillow_limit_lifted

_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "JPEG"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"BM", "BMP"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"qoif", "QOI"),
    (0, b"8BPS", "PSD"),
    (0, b"DDS ", "DDS"),
    (0, b"\xff\x4f\xff\x51", "JPEG2000"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
)
_AVIF_BRANDS = (b"avif", b"avis", b"avio")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


class NotImage(Exception):
    """Raised by :func:`sniff` with the reason a file is not a readable image."""


def sniff(path: str) -> str:
    """Return the image format of ``path`` (``"JPEG"``, ``"PNG"``...) or raise NotImage.

    ``OSError`` from opening or reading the file is left to the caller.
    """
    with open(path, "rb") as f:
        head = f.read(64)  # enough for every signature and a typical ISO "ftyp" box
    if not head:
        raise NotImage("empty file")
    for offset, magic, name in _SIGNATURES:
        if head.startswith(magic, offset):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brands = _iso_brands(head)
        if any(b in _AVIF_BRANDS for b in brands):
            return "AVIF"
        if any(b in _HEIF_BRANDS for b in brands):
            raise NotImage("HEIC/HEIF is not supported; convert it to JPEG first")
    if head[:2] in (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6") and head[2:3].isspace():
        return "PPM"
    return _ask_pillow(path)


def _iso_brands(head: bytes) -> list[bytes]:
    """Major and compatible brands of the ISO-BMFF ``ftyp`` box at the start of ``head``.

    Many AVIF files carry the generic major brand ``mif1`` (shared with HEIC)
    and say ``avif`` only among their compatible brands, so all are needed.
    """
    size = int.from_bytes(head[:4], "big")
    end = min(size, len(head)) if size >= 16 else len(head)
    # major brand at 8, minor version at 12, compatible brands from 16 on
    return [head[8:12]] + [head[i : i + 4] for i in range(16, end - 3, 4)]


def _ask_pillow(path: str) -> str:
    try:
        with warnings.catch_warnings(), pillow_limit_lifted():
            warnings.simplefilter("ignore")
            # Without the lifted limit a huge header raises here; the imaging
            # core then refuses it with a clear --max-pixels message instead.
            with Image.open(path, formats=READ_FORMATS) as im:
                return str(im.format)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotImage("not an image (unrecognised content)") from None
