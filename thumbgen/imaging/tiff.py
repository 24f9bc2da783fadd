"""TIFF samples Pillow reads too literally (signed, float) or not at all (16-bit CIELab).

- Signed samples (SampleFormat 2) come out of Pillow's 8-bit path
  reinterpreted as unsigned (-1 reads as 255). They are read as libvips and
  sharp read them, and as microscopy and scientific files mean them: zero is
  black, negative values clip to black, positive ones keep the scale of
  unsigned samples of the same depth.
- Floats are mapped from their declared SMin/SMaxSampleValue, else 0..1 when
  every sample lies there (normalised data), else 0..255.
- 16-bit CIELab (PhotometricInterpretation 8) has no Pillow mode. Its
  samples are laid out as 16-bit RGB would be, which Pillow decodes (any
  compression) keeping the high byte of each: the file is read with its
  photometric tag set to RGB and the bytes taken back as 8-bit CIELab, which
  :mod:`.colour` converts to sRGB like any Lab picture.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from PIL import Image

from thumbgen.options import Options, OutputSpec

from . import headers
from .decoders import Stored, decode_full, exif_orientation
from .reading import check_pixels, pillow_errors

_SAMPLE_FORMAT, _BITS, _SMIN, _SMAX = 339, 258, 340, 341
_PHOTOMETRIC, _CIELAB, _RGB = 262, 8, 2
#: Largest TIFF read into memory to be reinterpreted (16-bit CIELab).
MAX_BYTES = 1 << 30


def decode_tiff(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode in full, then map signed and float samples onto 8-bit levels."""
    tags = getattr(im, "tag_v2", {})
    sample_format = tags.get(_SAMPLE_FORMAT, 1)
    if isinstance(sample_format, tuple):
        sample_format = sample_format[0]
    bits = tags.get(_BITS, 8)
    if isinstance(bits, tuple):
        bits = bits[0]
    declared = (tags.get(_SMIN), tags.get(_SMAX))
    stored = decode_full(im, specs)
    pixels = stored.image
    if sample_format == 2:
        pixels = _signed(pixels, int(bits))
    elif pixels.mode == "F":
        pixels = _float_by_range(pixels, declared)
    else:
        return stored
    pixels.info = dict(stored.image.info)
    return Stored(pixels, stored.size, stored.orientation)


def _signed(im: Image.Image, bits: int) -> Image.Image:
    if im.mode == "L":
        # Pillow kept the raw two's-complement bytes: 128..255 are the negatives.
        return im.point([v if v < 128 else 0 for v in range(256)])
    if im.mode == "I":
        # Pillow decoded the signed values; an unsigned sample of this depth
        # would be scaled by its full range, so the positive ones are too.
        scale = 255 / ((1 << bits) - 1)
        # +0.5: convert("L") truncates; round instead.
        return im.point(lambda v: v * scale + 0.5).convert("L")
    return im


def _float_by_range(im: Image.Image, declared: tuple[object, object]) -> Image.Image:
    low, high = (_number(v) for v in declared)
    if low is None or high is None or high <= low:
        lowest, highest = im.getextrema()
        assert isinstance(lowest, float)
        assert isinstance(highest, float)
        low, high = (0.0, 1.0) if lowest >= 0.0 and highest <= 1.0 else (0.0, 255.0)
    scale = 255 / (high - low)
    return im.point(lambda v: (v - low) * scale + 0.5).convert("L")


def _number(value: object) -> float | None:
    if isinstance(value, tuple):
        value = value[0] if value else None
    return float(value) if isinstance(value, int | float) else None


def decode_lab16(f: BinaryIO, shown: str, options: Options) -> Stored | None:
    """A 16-bit CIELab TIFF decoded as 8-bit CIELab; None for every other TIFF (Pillow's)."""
    tags = headers.tiff_tags(f)
    if not tags or tags.get(_PHOTOMETRIC) != (_CIELAB,) or tags.get(_BITS) != (16, 16, 16):
        return None
    if tags.get(_SAMPLE_FORMAT, (1,))[0] != 1:
        return None
    size = (tags.get(256, (0,))[0], tags.get(257, (0,))[0])
    check_pixels(size, shown, options.max_pixels)
    f.seek(0)
    data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return None  # too large to copy: Pillow's refusal says what it is
    patched = _as_rgb(data)
    if patched is None:
        return None
    with pillow_errors(shown), Image.open(io.BytesIO(patched), formats=("TIFF",)) as im:
        if im.mode != "RGB" or im.size != size:
            return None
        orientation = exif_orientation(im)
        im.load()
        light, a, b = im.split()
        # CIELab's a and b are signed; Pillow's LAB mode keeps them offset by 128.
        flip = [v ^ 0x80 for v in range(256)]
        lab = Image.merge("LAB", (light, a.point(flip), b.point(flip)))
    return Stored(lab, size, orientation)


def _as_rgb(data: bytes) -> bytes | None:
    """``data`` with IFD0's PhotometricInterpretation 8 (CIELab) changed to 2 (RGB)."""
    end = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(end + "I", data[4:8])
    (count,) = struct.unpack(end + "H", data[ifd : ifd + 2])
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag, kind = struct.unpack(end + "HH", data[at : at + 4])
        if tag == _PHOTOMETRIC and kind == 3:
            out = bytearray(data)
            struct.pack_into(end + "H", out, at + 8, _RGB)
            return bytes(out)
    return None
