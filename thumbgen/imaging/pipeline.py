"""The imaging core: one source file in, every requested thumbnail out.

The source is decoded once, as small as the largest output allows (JPEG DCT
scaling through ``draft``), turned upright from its EXIF orientation and
converted to sRGB; then each output is resampled, cropped or padded and
written atomically (a file in the target folder that gets the thumbnail's name
only when complete, through ``link`` or ``os.replace``), so no reader ever sees
a partial thumbnail.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import warnings

from PIL import Image

from thumbgen.errors import OutputError, TooManyPixels, TransientError
from thumbgen.naming import display_path, render
from thumbgen.options import Format, Options, OutputSpec

from . import geometry
from .atomic import atomic_write
from .colour import has_transparency, to_srgb
from .formats import OUTPUTS
from .reading import open_image, pillow_errors, reason

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112
#: Formats whose decoder can shrink while decoding (Image.draft); their EXIF is in the header.
_DRAFT_FORMATS = ("JPEG", "MPO")
# Keep at least this factor between the decoded and the final size: the last
# Lanczos step then has real pixels to work with (libvips keeps 2x too).
_DRAFT_GAP = 2.0
_REDUCING_GAP = 3.0


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    """One written thumbnail."""

    path: str
    width: int
    height: int
    format: Format


@dataclasses.dataclass(frozen=True)
class Decoded:
    """A source decoded once: upright 8-bit sRGB pixels and the size they stand for."""

    #: Possibly shrunk while decoding (JPEG DCT scaling), never below twice an output.
    image: Image.Image
    #: The source's upright size from its header. Outputs are planned from this,
    #: not from ``image.size``, so their pixel size never depends on how far the
    #: decoder happened to shrink (a JPEG and a PNG of one picture match).
    source_size: tuple[int, int]


def make_thumbnails(source: str, options: Options, *, rel_dir: str = "") -> list[Thumbnail]:
    """Decode ``source`` once and write every thumbnail ``options`` asks for.

    ``rel_dir`` fills ``{dir}`` in the name template. Raises a
    :class:`~thumbgen.errors.ThumbgenError` subclass for every expected
    problem (missing, not an image, corrupt, too large, unwritable output).
    """
    if not options.specs:
        return []
    decoded = decode(source, options)
    return [write(decoded, spec, options, source=source, rel_dir=rel_dir) for spec in options.specs]


def decode(source: str, options: Options) -> Decoded:
    """Open, size-check, decode small, orient and colour-convert ``source``.

    Only the header is read before the ``--max-pixels`` check; the decoder is
    then asked for no more than twice the largest output (in the stored
    orientation, so 90-degree EXIF rotations get the box swapped).
    """
    shown = display_path(source)
    with open_image(source) as im:
        _check_pixels(im, shown, options.max_pixels)
        with pillow_errors(shown):
            if im.format not in _DRAFT_FORMATS:
                # Nothing to plan a reduced decode for. Load first: PNG's
                # getexif() would load anyway, and a decode error it swallowed
                # could leave a half-decoded image that a second load() accepts.
                im.load()
            orientation = _orientation(im)
            swap = orientation in (5, 6, 7, 8)
            upright = (im.height, im.width) if swap else im.size
            _draft(im, options.specs, upright, swap=swap)
            im.load()
            pixels = _fix_cmyk_polarity(im)
            if orientation in _TRANSPOSE:
                pixels = pixels.transpose(_TRANSPOSE[orientation])
        return Decoded(to_srgb(pixels, shown), upright)


def _check_pixels(im: Image.Image, shown: str, max_pixels: int) -> None:
    pixels = im.width * im.height
    if pixels > max_pixels:
        raise TooManyPixels(
            f"Too many pixels: {shown} is {im.width}x{im.height} "
            f"({pixels:,} pixels, limit {max_pixels:,}); "
            "raise --max-pixels if you trust this file"
        )


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


def write(
    decoded: Decoded, spec: OutputSpec, options: Options, *, source: str, rel_dir: str = ""
) -> Thumbnail:
    """Resample ``decoded`` for ``spec`` and write it atomically; return what was written."""
    thumb = _render(decoded, spec)
    fmt = spec.format
    if fmt is Format.AUTO:
        fmt = Format.PNG if has_transparency(thumb) else Format.JPEG
    thumb = _prepare(thumb, fmt, spec.background)
    rel = render(
        options.name,
        source=source,
        rel_dir=rel_dir,
        size_label=spec.size.label,
        width=thumb.width,
        height=thumb.height,
        ext=OUTPUTS[fmt].extension,
    )
    path = os.path.join(options.out_dir, rel)
    _save(thumb, path, fmt, spec.quality)
    return Thumbnail(path, thumb.width, thumb.height, fmt)


def _render(decoded: Decoded, spec: OutputSpec) -> Image.Image:
    plan = geometry.plan(spec, *decoded.source_size)
    im = decoded.image
    if im.size != plan.resize:
        # reducing_gap: integer box reduction first, then Lanczos on the last 3x:
        # as good as a full Lanczos at a fraction of the cost.
        im = im.resize(plan.resize, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    if plan.crop is not None:
        left, top = geometry.crop_origin(im, plan.crop, spec.crop)
        im = im.crop((left, top, left + plan.crop[0], top + plan.crop[1]))
    if plan.canvas is not None:
        canvas = Image.new("RGBA", plan.canvas, spec.background)
        offset = ((plan.canvas[0] - im.width) // 2, (plan.canvas[1] - im.height) // 2)
        canvas.paste(im.convert("RGBA"), offset)
        im = canvas if has_transparency(canvas) else canvas.convert("RGB")
    return im


def _prepare(im: Image.Image, fmt: Format, background: tuple[int, int, int, int]) -> Image.Image:
    """Fit the mode to the format: JPEG has no alpha, WebP and AVIF no grey."""
    out = OUTPUTS[fmt]
    if not out.alpha and im.mode in ("LA", "RGBA"):
        flat = Image.new("RGB", im.size, background[:3])
        rgba = im.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif not out.grey and im.mode in ("L", "LA"):
        im = im.convert("RGBA" if im.mode == "LA" else "RGB")
    elif im.mode in ("LA", "RGBA") and not has_transparency(im):
        im = im.convert("L" if im.mode == "LA" else "RGB")
    else:
        im = im.copy()
    # Thumbnails carry no metadata: no EXIF (GPS above all), no XMP, no
    # profile (the pixels are sRGB now, which is what untagged images mean).
    im.info = {}
    return im


def _save(im: Image.Image, path: str, fmt: Format, quality: int) -> None:
    """Encode ``im`` to ``path`` atomically, with one-line errors."""
    out = OUTPUTS[fmt]
    params = {"quality": quality} if out.takes_quality else {}
    try:
        with atomic_write(path) as f:
            im.save(f, format=out.pillow_format, **params)
    except OSError as exc:
        raise _output_error(path, exc) from None
    except Exception as exc:
        # Encoders raise ValueError and friends for what they cannot store.
        raise OutputError(f"Cannot encode {display_path(path)}: {reason(exc)}") from None


def _output_error(path: str, exc: OSError) -> Exception:
    shown = display_path(path)
    # No "(will retry)": the same text is stored when the last try fails too.
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return TransientError(f"Cannot write {shown}: {exc.strerror}; free some space there")
    if exc.errno in (errno.EIO, errno.EAGAIN, errno.EBUSY):
        return TransientError(f"Cannot write {shown}: {exc.strerror}")
    if exc.errno is None:
        return OutputError(f"Cannot encode {shown}: {reason(exc)}")
    return OutputError(f"Cannot write {shown}: {exc.strerror}; check --out and its permissions")


def _orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8; 0, missing or malformed EXIF count as 1 (upright)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
