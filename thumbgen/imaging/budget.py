"""A memory budget per decode, estimated from the header before any pixel is decoded.

``--max-pixels`` alone lets small files blow up a worker: a 447 KB WebP of
13000x13000 decodes to RGBA in full, a progressive JPEG keeps every DCT
coefficient, a 16-bit grey PNG takes two bytes a pixel. The estimate is
width x height x the bytes Pillow stores per pixel, times two (the decoded
image and the converted or resized copy made from it); baseline JPEGs
decode reduced (``draft``) to the largest output, progressive ones also
hold their coefficients (two bytes per sample) at full size.

A JPEG XL is estimated from its codestream header alone: its Pillow plugin
decodes the whole picture while opening, so opening it here would spend the
memory (and the time: every JPEG XL was decoded twice) this check guards.
"""

from __future__ import annotations

import warnings
from typing import BinaryIO

from PIL import Image

from thumbgen.errors import ThumbgenError, TooManyPixels
from thumbgen.messages import display_path
from thumbgen.options import DEFAULT_MAX_MEMORY_MIB, Options

from . import formats

_MIB = 1024 * 1024
#: Default per-worker budget in bytes (see DEFAULT_MAX_MEMORY_MIB).
MAX_MEMORY = DEFAULT_MAX_MEMORY_MIB * _MIB


def estimate(im: Image.Image, options: Options) -> int:
    """Bytes a decode of the opened (not yet loaded) ``im`` needs at its peak."""
    w, h = im.size
    per_pixel = 1 if im.mode in ("1", "L", "P") else 2 if im.mode.startswith("I;16") else 4
    if im.format != "JPEG":
        return 2 * w * h * per_pixel
    scale = _jpeg_reduction(w, h, options)
    reduced = 2 * (w // scale + 1) * (h // scale + 1) * per_pixel
    if im.info.get("progressive") or im.info.get("progression"):
        reduced += w * h * len(im.getbands()) * 2
    return reduced


def _jpeg_reduction(w: int, h: int, options: Options) -> int:
    """The 1/2/4/8 reduction Pillow's draft can apply for the largest output."""
    need_w = max((s.size.width or 0) for s in options.specs) if options.specs else 0
    need_h = max((s.size.height or 0) for s in options.specs) if options.specs else 0
    scale = 8
    while scale > 1 and (w // scale < need_w or h // scale < need_h):
        scale //= 2
    return scale


def check(f: BinaryIO, name: str, options: Options, limit: int) -> None:
    """Raise :class:`TooManyPixels` if decoding the source open as ``f`` would need more than
    ``limit`` bytes; ``f`` is left at its start.

    Files Pillow cannot open are left to the decoder to report.
    """
    if limit <= 0:
        return
    from .sniff import identify

    try:
        fmt = identify(f, name)
    except OSError:
        fmt = None
    finally:
        f.seek(0)
    if fmt is not None and fmt.name == "JXL":
        _check_jxl(f, name, limit)
        return
    if fmt is not None and _check_video(f, fmt, name, limit):
        return
    try:
        # warnings: the pixel limit is decode()'s to apply and word.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f.seek(0)
            with Image.open(f) as im:
                needed = estimate(im, options)
                w, h = im.size
    except Exception:
        return  # not ours to word: decode() tells what is wrong with it
    finally:
        f.seek(0)
    if needed > limit:
        raise TooManyPixels(_over(name, f"{w}x{h}", needed, limit))


def _over(name: str, size: str, needed: int, limit: int) -> str:
    return (
        f"Too much memory to decode {display_path(name)} ({size}): about "
        f"{needed // _MIB} MiB, over the {limit // _MIB} MiB budget; raise --max-memory"
    )


def _check_jxl(f: BinaryIO, name: str, limit: int) -> None:
    """Check a JPEG XL from its header alone (an unreadable one is decode()'s to word).

    The plugin holds the file, its decoded samples and Pillow's copy of them
    (4 bytes a pixel at most: RGBA, or 32-bit float grey) at once.
    """
    from .jxl import header_size

    size = header_size(f)
    f.seek(0)
    if size is None:
        return
    w, h = size
    needed = 3 * w * h * 4
    if needed > limit:
        raise TooManyPixels(_over(name, f"{w}x{h}", needed, limit))


def _check_video(f: BinaryIO, fmt: formats.ImageFormat, name: str, limit: int) -> bool:
    """Check a video (PyAV decodes it, not Pillow); False for other formats."""
    from . import video

    if fmt.module != "av" or formats.missing(fmt) is not None:
        return False
    shown = display_path(name)
    try:
        needed, (w, h) = video.estimate(f, shown)
    except ThumbgenError:
        return True  # not ours to word: decode() tells what is wrong with it
    finally:
        f.seek(0)
    if needed > limit:
        raise TooManyPixels(_over(name, f"{w}x{h} video", needed, limit))
    return True
