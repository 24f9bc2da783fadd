"""Decoding a source once: open, check its size, decode, turn upright, convert to sRGB.

Only the header is read before the ``--max-pixels`` check. The pixels then
come from the decoder registered for the source's format in
:data:`DECODERS` (JPEG shrinks while decoding; everything else loads in
full), so a new way of decoding (a DC-scan path for progressive JPEGs, HEIC,
RAW previews) is one new function and one new entry. The steps after it are
the same for every format: apply the EXIF orientation, convert to sRGB.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable

from PIL import Image

from thumbgen.errors import TooManyPixels
from thumbgen.naming import display_path
from thumbgen.options import Options, OutputSpec

from . import formats, geometry
from .colour import to_srgb
from .reading import open_image, pillow_errors

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: Orientations that turn the picture by 90 degrees: width and height swap.
_SWAPPING = (5, 6, 7, 8)
_ORIENTATION_TAG = 0x0112
# Keep at least this factor between the decoded and the final size: the last
# Lanczos step then has real pixels to work with (libvips keeps 2x too).
_DRAFT_GAP = 2.0


@dataclasses.dataclass(frozen=True)
class Decoded:
    """A source decoded once: upright 8-bit sRGB pixels and the size they stand for."""

    #: Possibly shrunk while decoding (JPEG DCT scaling), never below twice an output.
    image: Image.Image
    #: The source's upright size from its header. Outputs are planned from this,
    #: not from ``image.size``, so their pixel size never depends on how far the
    #: decoder happened to shrink (a JPEG and a PNG of one picture match).
    source_size: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Stored:
    """What a decoder returns: loaded pixels as the file stores them, not yet upright."""

    #: Loaded; possibly smaller than ``size`` when the decoder shrank while decoding.
    image: Image.Image
    #: The stored size the header announced.
    size: tuple[int, int]
    #: EXIF orientation 1-8.
    orientation: int


#: A decoder gets the opened image (header read, no pixels yet) and the outputs
#: wanted, and returns the loaded pixels. Pillow's exceptions may pass through:
#: the caller turns them into one-line errors.
Decoder = Callable[[Image.Image, tuple[OutputSpec, ...]], Stored]


def decode(source: str, options: Options) -> Decoded:
    """Open, size-check, decode small, orient and colour-convert ``source``."""
    shown = display_path(source)
    with open_image(source) as im:
        _check_pixels(im, shown, options.max_pixels)
        decoder = decoder_for(im.format)
        with pillow_errors(shown):
            stored = decoder(im, options.specs)
            pixels, upright = _turn_upright(stored)
        return Decoded(to_srgb(pixels, shown), upright)


def decoder_for(pillow_format: str | None) -> Decoder:
    """The decoder for Pillow's ``im.format``: its entry in :data:`DECODERS`, else the full one."""
    fmt = formats.by_pillow(pillow_format)
    return DECODERS.get(fmt.name, decode_full) if fmt is not None else decode_full


def decode_reduced(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode no larger than twice the largest output (JPEG DCT scaling: 1/2, 1/4, 1/8).

    The EXIF sits in the header, so the orientation is known before decoding;
    the box is planned in stored orientation (swapped for 90-degree turns).
    """
    orientation = _orientation(im)
    size = im.size
    swap = orientation in _SWAPPING
    _draft(im, specs, _upright_size(size, orientation), swap=swap)
    im.load()
    return Stored(_fix_cmyk_polarity(im), size, orientation)


def decode_full(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode every pixel: for formats that cannot shrink while decoding."""
    # Load first: PNG's getexif() would load anyway, and a decode error it
    # swallowed could leave a half-decoded image that a second load() accepts.
    im.load()
    # The size after loading: an ICO frame may turn out other than announced.
    return Stored(im, im.size, _orientation(im))


#: Decoders by format name (``formats.INPUTS``); formats not listed load in full.
DECODERS: dict[str, Decoder] = {"JPEG": decode_reduced}


def _check_pixels(im: Image.Image, shown: str, max_pixels: int) -> None:
    pixels = im.width * im.height
    if pixels > max_pixels:
        raise TooManyPixels(
            f"Too many pixels: {shown} is {im.width}x{im.height} "
            f"({pixels:,} pixels, limit {max_pixels:,}); "
            "raise --max-pixels if you trust this file"
        )


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _SWAPPING else size


def _turn_upright(stored: Stored) -> tuple[Image.Image, tuple[int, int]]:
    """The pixels turned by their EXIF orientation, and the upright header size."""
    pixels = stored.image
    if stored.orientation in _TRANSPOSE:
        pixels = pixels.transpose(_TRANSPOSE[stored.orientation])
    return pixels, _upright_size(stored.size, stored.orientation)


def _draft(
    im: Image.Image, specs: tuple[OutputSpec, ...], upright: tuple[int, int], *, swap: bool
) -> None:
    """Let the decoder shrink while decoding (JPEG: 1/2, 1/4 or 1/8 for free).

    A no-op for formats without reduced decoding.
    """
    want_w, want_h = geometry.decode_target([geometry.plan(spec, *upright) for spec in specs])
    if swap:
        want_w, want_h = want_h, want_w
    im.draft(None, (math.ceil(want_w * _DRAFT_GAP), math.ceil(want_h * _DRAFT_GAP)))


def _fix_cmyk_polarity(im: Image.Image) -> Image.Image:
    """Undo Pillow's inversion of CMYK JPEGs that are not Adobe-inverted.

    Photoshop stores CMYK JPEGs inverted and marks them with an APP14 "Adobe"
    segment; Pillow assumes that convention for every CMYK JPEG. Without the
    marker the samples are plain CMYK (libjpeg, libvips and browsers read them
    so), and Pillow's inversion would give a colour negative.
    """
    if im.mode == "CMYK" and im.format in ("JPEG", "MPO") and "adobe" not in im.info:
        return im.point(lambda v: 255 - v)
    return im


def _orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8; 0, missing or malformed EXIF count as 1 (upright)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
