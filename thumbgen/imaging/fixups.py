"""Decoders for formats Pillow opens but reads too literally: TIFF samples, BMP's fourth byte.

- A TIFF's signed samples (SampleFormat 2) come out of Pillow's 8-bit path
  reinterpreted as unsigned (-1 reads as 255); floats are clipped to 0..255.
  Both are mapped by their range instead: signed -128..127 onto 0..255,
  floats from their declared SMin/SMaxSampleValue, else 0..1 when every
  sample lies there (normalised data), else 0..255 as before.
- A 32-bit BMP stored as BI_RGB has a fourth byte per pixel that the format
  calls reserved but that Windows tools and browsers use as alpha; Pillow
  drops it. It is kept as alpha unless it holds one value everywhere (0 from
  most writers, or 255), which means "opaque", as browsers read it.
"""

from __future__ import annotations

from PIL import Image, ImageFile

from thumbgen.options import OutputSpec

from .decoders import Stored, decode_full

_SAMPLE_FORMAT, _BITS, _SMIN, _SMAX = 339, 258, 340, 341


def decode_tiff(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode in full, then map signed and float samples onto 8-bit levels by their range."""
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
        pixels = _signed_to_unsigned(pixels, int(bits))
    elif pixels.mode == "F":
        pixels = _float_by_range(pixels, declared)
    else:
        return stored
    pixels.info = dict(stored.image.info)
    return Stored(pixels, stored.size, stored.orientation)


def _signed_to_unsigned(im: Image.Image, bits: int) -> Image.Image:
    if im.mode == "L":
        # Pillow kept the raw two's-complement bytes: flipping the top bit is +128.
        return im.point([v ^ 0x80 for v in range(256)])
    if im.mode == "I":
        # Pillow decoded the signed values; shift the range to start at 0.
        half = 1 << (bits - 1)
        # +0.5: convert("L") truncates; round instead.
        return im.point(lambda v: (v + half) * 255 / (2 * half - 1) + 0.5).convert("L")
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


def decode_bmp(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode in full, keeping the fourth byte of 32-bit BI_RGB pixels as alpha when it varies."""
    with_alpha = _bgra_pixels(im)
    stored = decode_full(im, specs)
    if with_alpha is None:
        return stored
    low, high = with_alpha.getchannel("A").getextrema()
    if low == high:
        return stored  # one value everywhere: no alpha was meant
    with_alpha.info = dict(stored.image.info)
    return Stored(with_alpha, stored.size, stored.orientation)


def _bgra_pixels(im: Image.Image) -> Image.Image | None:
    """The pixels again with their fourth byte as alpha, for 32-bit BI_RGB BMPs; else None."""
    if not isinstance(im, ImageFile.ImageFile) or im.mode != "RGB":
        return None
    if im.info.get("compression") != 0 or len(im.tile) != 1:
        return None
    tile = im.tile[0]
    args = tile.args
    if tile.codec_name != "raw" or not isinstance(args, tuple) or len(args) != 3:
        return None
    rawmode, stride, direction = args
    if rawmode != "BGRX" or im.fp is None:
        return None
    im.fp.seek(tile.offset)
    data = im.fp.read(stride * im.height)
    if len(data) < stride * im.height:
        return None  # truncated: let the normal decoder report it
    return Image.frombuffer("RGBA", im.size, data, "raw", "BGRA", stride, direction)
