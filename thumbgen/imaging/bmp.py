"""BMP with bitfields (BI_BITFIELDS, BI_ALPHABITFIELDS): any legal layout, alpha included.

Pillow decodes a handful of bitfield layouts and refuses the rest ("Unsupported
BMP bitfields layout"); with a 16-bit alpha layout (A1R5G5B5, A4R4G4B4) it
drops the alpha and reads the colours as the wrong fields. Every 16 and
32-bit bitfields BMP is decoded here instead, as browsers decode it: each
channel is its mask's bits, scaled to 8 bits by its width (n bits: value x
255 / (2^n - 1), wider fields keep their top 8 bits); an alpha mask counts
where the header carries one (V3 headers and later, or BI_ALPHABITFIELDS),
and alpha that is zero everywhere means "opaque", as chromium reads it. The
bit arithmetic is Pillow's own (``ImageMath``), on the whole picture at once.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from PIL import Image, ImageMath

from thumbgen.errors import CorruptImage
from thumbgen.options import Options

from .decoders import Stored
from .reading import check_pixels

_BITFIELDS, _ALPHABITFIELDS = 3, 6


def decode_bitfields(f: BinaryIO, shown: str, options: Options) -> Stored | None:
    """A 16 or 32-bit bitfields BMP decoded by its masks; None for every other BMP (Pillow's)."""
    f.seek(0)
    head = f.read(14 + 124 + 16)
    if len(head) < 54 or head[:2] != b"BM":
        return None
    (offset,) = struct.unpack("<I", head[10:14])
    header, width, height, _, bits, compression = struct.unpack("<IiiHHI", head[14:34])
    if compression not in (_BITFIELDS, _ALPHABITFIELDS) or bits not in (16, 32):
        return None
    if header >= 52:
        masks = list(struct.unpack("<3I", head[54:66]))
        masks.append(struct.unpack("<I", head[66:70])[0] if header >= 56 else 0)
    else:
        # BITMAPINFOHEADER: the masks follow it, with alpha only for BI_ALPHABITFIELDS.
        count = 4 if compression == _ALPHABITFIELDS else 3
        masks = [*struct.unpack(f"<{count}I", head[54 : 54 + 4 * count]), 0][:4]
    if width <= 0 or height == 0 or not any(masks[:3]):
        return None  # malformed: Pillow's refusal names it
    size = (width, abs(height))
    check_pixels(size, shown, options.max_pixels)
    stride = (bits * width + 31) // 32 * 4
    f.seek(offset)
    data = f.read(stride * size[1])
    if len(data) < stride * size[1]:
        raise CorruptImage(f"Corrupt image: {shown} (BMP pixel data cut short)")
    direction = -1 if height > 0 else 1  # positive heights are stored bottom row first
    if bits == 16:
        words = Image.frombuffer("I;16", size, data, "raw", "I;16", stride, direction)
        words = words.convert("I")
    else:
        words = Image.frombuffer("I", size, data, "raw", "I;32", stride, direction)
    channels = [_channel(words, mask) for mask in masks]
    alpha = channels[3]
    if alpha is not None and alpha.getextrema() == (0, 0):
        alpha = None  # an alpha mask whose pixels all say 0: written as "reserved", not clear
    black = Image.new("L", size, 0)
    red, green, blue = (c if c is not None else black for c in channels[:3])
    if alpha is None:
        return Stored(Image.merge("RGB", (red, green, blue)), size, 1)
    return Stored(Image.merge("RGBA", (red, green, blue, alpha)), size, 1)


def _channel(words: Image.Image, mask: int) -> Image.Image | None:
    """The field ``mask`` selects from each word, as 8-bit levels; None for an empty mask."""
    if mask == 0:
        return None
    shift = (mask & -mask).bit_length() - 1
    width = (mask >> shift).bit_length()
    signed = mask - (1 << 32) if mask >= 1 << 31 else mask  # ImageMath's ints are 32-bit signed
    top = (1 << width) - 1

    def field(args: dict[str, object]) -> object:
        value = ((args["w"] & signed) >> shift) & top  # type: ignore[operator]
        if width > 8:
            return value >> (width - 8)
        return (value * 255 + top // 2) / top

    result = ImageMath.lambda_eval(field, w=words)
    assert isinstance(result, Image.Image)
    return result.convert("L")
