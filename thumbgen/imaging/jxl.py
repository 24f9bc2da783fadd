"""JPEG XL through pillow-jxl-plugin (libjxl): the jxl extra.

The plugin decodes the whole picture while *opening* the file, before any
``--max-pixels`` check could run, so the size is read first from the
codestream's SizeHeader (:func:`header_size`) and a bomb is refused unread.

Orientation: libjxl applies the orientation of the codestream header, which
the JPEG XL standard makes normative (an EXIF box inside is informative and
must not turn the picture again). A JPEG recompressed losslessly into JPEG XL
is decoded back to that JPEG, whose pixels are stored as the camera wrote
them, so there the JPEG's own EXIF orientation applies.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from PIL import Image

from thumbgen.options import OutputSpec

from .decoders import Stored, exif_orientation

_CODESTREAM = b"\xff\x0a"
_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
# SizeHeader aspect ratios 1-7 (ISO/IEC 18181-1, table D.5): width = height * n / d.
_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
#: How far boxes are walked to find the codestream (Exif or XML boxes may come first).
_BOX_LIMIT = 1 << 24


class _Bits:
    """LSB-first bit reader, as JPEG XL packs its headers."""

    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "little")
        self.pos = 0
        self.size = 8 * len(data)

    def read(self, n: int) -> int:
        if self.pos + n > self.size:
            raise ValueError("header cut short")
        out = (self.value >> self.pos) & ((1 << n) - 1)
        self.pos += n
        return out

    def dimension(self, small: bool) -> int:
        if small:
            return (self.read(5) + 1) * 8
        return self.read((9, 13, 18, 30)[self.read(2)]) + 1


def header_size(f: BinaryIO) -> tuple[int, int] | None:
    """The picture size a JPEG XL file declares, or None when its header cannot be read."""
    here = f.tell()
    try:
        start = _codestream(f)
        if start is None:
            return None
        bits = _Bits(start[2:16])
        small = bool(bits.read(1))
        height = bits.dimension(small)
        ratio = bits.read(3)
        if ratio == 0:
            return bits.dimension(small), height
        num, den = _RATIOS[ratio]
        return height * num // den, height
    except (ValueError, struct.error):
        return None
    finally:
        f.seek(here)


def _codestream(f: BinaryIO) -> bytes | None:
    """The first bytes of the codestream: the file itself, or inside a jxlc/jxlp box."""
    f.seek(0)
    head = f.read(16)
    if head.startswith(_CODESTREAM):
        return head
    if not head.startswith(_CONTAINER):
        return None
    offset = len(_CONTAINER)
    while offset < _BOX_LIMIT:
        f.seek(offset)
        box = f.read(16)
        if len(box) < 8:
            return None
        size, kind = struct.unpack(">I4s", box[:8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", box[8:16])
            header = 16
        if kind in (b"jxlc", b"jxlp"):
            f.seek(offset + header + (4 if kind == b"jxlp" else 0))  # jxlp: part index first
            data = f.read(16)
            return data if data.startswith(_CODESTREAM) else None
        if size < header:
            return None  # size 0 (to the end) on a box that is not the codestream
        offset += size
    return None


def decode_jxl(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """The pixels the plugin decoded on open, with the orientation still to apply."""
    im.load()
    reconstructed_jpeg = bool(getattr(im, "jpeg", False))
    return Stored(im, im.size, exif_orientation(im) if reconstructed_jpeg else 1)
