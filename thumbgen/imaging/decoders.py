"""What every decoder shares: the :class:`Stored` result and the two basic decoders.

A decoder gets the opened image (header read, no pixels yet) and the outputs
wanted, and returns the loaded pixels as the file stores them with the EXIF
orientation that turns them upright. ``decode_reduced`` lets the JPEG decoder
shrink while decoding; ``decode_full`` loads every pixel. Format-specific
decoders (:mod:`.fixups`, :mod:`.heif`, :mod:`.jxl`) build on these.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

from PIL import Image

from thumbgen.options import OutputSpec

from . import geometry, jpeg_dc

#: Orientations that turn the picture by 90 degrees: width and height swap.
SWAPPING = (5, 6, 7, 8)
_ORIENTATION_TAG = 0x0112
# Keep at least this factor between the decoded and the final size: the last
# Lanczos step then has real pixels to work with (libvips keeps 2x). A hair
# under 2 so that the most common photo, a phone's 4032x3024, decodes at 1/8
# for 256 px (504 px wide, 1.97x) and at 1/2 for 1024 px, not at 1/4 and in
# full: on the peers corpus 15% less CPU on progressive files (the 1/8
# decode comes from the DC scans), a quarter less for 1024 px, and a mean
# error of 5.146 instead of 5.140 (vipsthumbnail 5.164; 1.9 gave 5.167).
_DRAFT_GAP = 1.95


@dataclasses.dataclass(frozen=True)
class Stored:
    """What a decoder returns: loaded pixels as the file stores them, not yet upright."""

    #: Loaded; possibly smaller than ``size`` when the decoder shrank while decoding.
    image: Image.Image
    #: The stored size the header announced.
    size: tuple[int, int]
    #: EXIF orientation 1-8.
    orientation: int
    #: What a job records about a video or document besides its pixels
    #: (``{"video": {...}}``, ``{"pdf": {...}}``; JSON values): read from the
    #: header the decoder opened anyway, so it costs nothing more.
    media: dict[str, Any] = dataclasses.field(default_factory=dict)


#: A decoder gets the opened image (header read, no pixels yet) and the outputs
#: wanted, and returns the loaded pixels. Pillow's exceptions may pass through:
#: the caller turns them into one-line errors.
Decoder = Callable[[Image.Image, tuple[OutputSpec, ...]], Stored]


def decode_reduced(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode no larger than about twice the largest output (JPEG DCT scaling: 1/2, 1/4, 1/8).

    The EXIF sits in the header, so the orientation is known before decoding;
    the box is planned in stored orientation (swapped for 90-degree turns).
    A progressive JPEG that the draft shrinks to 1/8 is decoded from its DC
    scans (:mod:`.jpeg_dc`: the same pixels, twice as fast on photos); every
    doubt falls back to the normal decode.
    """
    orientation = exif_orientation(im)
    size = im.size
    box = decode_box(specs, upright_size(size, orientation), swap=orientation in SWAPPING)
    small = _from_dc_scans(im, box)
    if small is not None:
        return Stored(_fix_cmyk_polarity(small), size, orientation)
    im.draft(None, box)
    im.load()
    return Stored(_fix_cmyk_polarity(im), size, orientation)


def _from_dc_scans(im: Image.Image, box: tuple[int, int]) -> Image.Image | None:
    """``im`` decoded at 1/8 from its DC scans, or None to decode it normally."""
    width, height = im.size
    # Pillow's draft picks 1/8 only when the source is 8x the box on both sides;
    # below that the AC scans carry detail the thumbnail needs.
    if im.format != "JPEG" or not im.info.get("progressive"):
        return None
    if min(width // max(1, box[0]), height // max(1, box[1])) < 8:
        return None
    fp = getattr(im, "fp", None)
    if fp is None:
        return None
    try:
        fp.seek(0, os.SEEK_END)
        if fp.tell() > jpeg_dc.MAX_BYTES:
            return None
        fp.seek(0)
        data = fp.read()
    except (OSError, ValueError):
        return None
    rewritten = jpeg_dc.rewrite(data)
    # The original is not needed while libjpeg's coefficient buffer is: on a
    # 24 MP photo that is what keeps a worker under 100 MB.
    del data
    if rewritten is None:
        return None
    try:
        with Image.open(io.BytesIO(rewritten), formats=["JPEG"]) as small:
            if small.size != im.size or small.mode != im.mode:
                return None
            small.draft(None, box)
            if small.size != (-(-width // 8), -(-height // 8)):
                return None
            small.load()
    except Exception:
        # Whatever Pillow thinks of the rewrite, the original decides.
        return None
    # The original's info: the same segments, but read by the same code as before.
    small.info = dict(im.info)
    return small


def decode_full(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode every pixel: for formats that cannot shrink while decoding."""
    # Load first: PNG's getexif() would load anyway, and a decode error it
    # swallowed could leave a half-decoded image that a second load() accepts.
    im.load()
    # The size after loading: an ICO frame may turn out other than announced.
    return Stored(im, im.size, exif_orientation(im))


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def turn_upright(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` turned by EXIF ``orientation`` (as it is for 1 or an unknown value)."""
    return image.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else image


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """``size`` once turned by EXIF ``orientation``."""
    return (size[1], size[0]) if orientation in SWAPPING else size


def decode_box(
    specs: tuple[OutputSpec, ...], upright: tuple[int, int], *, swap: bool
) -> tuple[int, int]:
    """The least decoded size (stored orientation) that still serves every output well."""
    want_w, want_h = geometry.decode_target([geometry.plan(spec, *upright) for spec in specs])
    if swap:
        want_w, want_h = want_h, want_w
    return (math.ceil(want_w * _DRAFT_GAP), math.ceil(want_h * _DRAFT_GAP))


def draft(
    im: Image.Image, specs: tuple[OutputSpec, ...], upright: tuple[int, int], *, swap: bool
) -> None:
    """Let the decoder shrink while decoding (JPEG: 1/2, 1/4 or 1/8 for free).

    A no-op for formats without reduced decoding.
    """
    im.draft(None, decode_box(specs, upright, swap=swap))


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


def exif_orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8; 0, missing or malformed EXIF count as 1 (upright)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
