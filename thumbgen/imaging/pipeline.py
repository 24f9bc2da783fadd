"""The imaging core: one source file in, every requested thumbnail out.

The source is decoded once (:mod:`.decode`: as small as the largest output
allows, upright, sRGB); then each output is resampled, cropped or padded and
encoded, and all are written together and atomically (files in the target
folder that get the thumbnails' names only when complete and fsynced, through
``link`` or ``os.replace``), so no reader ever sees a partial thumbnail or
part of a job's set.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import os

from PIL import Image

from thumbgen.errors import OutputError, TooManyPixels, TransientError
from thumbgen.messages import display_path, reason
from thumbgen.naming import render
from thumbgen.options import Format, Options, OutputSpec

from . import geometry
from .atomic import write_files
from .colour import finish, has_transparency
from .decode import Decoded, decode
from .formats import OUTPUTS

_REDUCING_GAP = 3.0
#: For a smaller output resampled from the largest one (already Lanczos-clean):
#: reducing by whole factors down to twice the size, libvips' own gap. On the
#: peers' photos, 256 and 128 px from 1024 px then take 6.2 ms instead of
#: 10.9, and the 256 px error in a three-size run goes from 4.940 to 4.965
#: (5.146 with 256 px alone, from the 1/8 decode).
_DERIVED_GAP = 2.0


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    """One written thumbnail."""

    path: str
    width: int
    height: int
    format: Format


def make_thumbnails(source: str, options: Options, *, rel_dir: str = "") -> list[Thumbnail]:
    """Decode ``source`` once and write every thumbnail ``options`` asks for.

    The thumbnails appear together or not at all: every size is encoded
    first, then all are written (:func:`~.atomic.write_files`), so a failure
    on a later size leaves none of the earlier ones. ``rel_dir`` fills
    ``{dir}`` in the name template. Raises a
    :class:`~thumbgen.errors.ThumbgenError` subclass for every expected
    problem (missing, not an image, corrupt, too large, unwritable output).
    """
    if not options.specs:
        return []
    decoded = decode(source, options)
    encoded = [_encode_spec(decoded, spec, options, source, rel_dir) for spec in options.specs]
    try:
        write_files([(thumb.path, data) for thumb, data in encoded])
    except OSError as exc:
        raise _output_error(exc.filename or encoded[0][0].path, exc) from None
    return [thumb for thumb, _ in encoded]


def _encode_spec(
    decoded: Decoded, spec: OutputSpec, options: Options, source: str, rel_dir: str
) -> tuple[Thumbnail, bytes]:
    try:
        return encode(decoded, spec, options, source=source, rel_dir=rel_dir)
    except MemoryError:
        # Resampling or encoding a huge (but allowed) source: the same
        # advice as a decode that ran out of memory, not an internal error.
        raise TooManyPixels(
            f"Not enough memory to make the {spec.size.label} thumbnail of "
            f"{display_path(source)}; run fewer workers (-w), ask for smaller sizes "
            "or lower --max-pixels to refuse such files"
        ) from None


def write(
    decoded: Decoded, spec: OutputSpec, options: Options, *, source: str, rel_dir: str = ""
) -> Thumbnail:
    """Resample ``decoded`` for ``spec`` and write it atomically; return what was written."""
    thumb, data = encode(decoded, spec, options, source=source, rel_dir=rel_dir)
    try:
        write_files([(thumb.path, data)])
    except OSError as exc:
        raise _output_error(thumb.path, exc) from None
    return thumb


def encode(
    decoded: Decoded, spec: OutputSpec, options: Options, *, source: str, rel_dir: str = ""
) -> tuple[Thumbnail, bytes]:
    """Resample ``decoded`` for ``spec`` and encode it: the thumbnail-to-be and its bytes."""
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
    try:
        # Before encoding: an output folder that cannot be made fails the job
        # without the cost of an encode (write_files makes it again if it went).
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError as exc:
        raise _output_error(path, exc) from None
    data = _save(thumb, path, fmt, spec.quality)
    return Thumbnail(path, thumb.width, thumb.height, fmt), data


def _render(decoded: Decoded, spec: OutputSpec) -> Image.Image:
    plan = geometry.plan(spec, *decoded.source_size)
    im = _resampled(decoded, plan.resize)
    # Colour after resizing: fewer pixels to convert, and before the crop
    # (entropy looks at the colours) and the pad (its background is sRGB).
    im = finish(im, decoded.transform)
    if plan.crop is not None:
        left, top = geometry.crop_origin(im, plan.crop, spec.crop)
        im = im.crop((left, top, left + plan.crop[0], top + plan.crop[1]))
    if plan.canvas is not None:
        canvas = Image.new("RGBA", plan.canvas, spec.background)
        offset = ((plan.canvas[0] - im.width) // 2, (plan.canvas[1] - im.height) // 2)
        canvas.paste(im.convert("RGBA"), offset)
        im = canvas if has_transparency(canvas) else canvas.convert("RGB")
    return im


def _resampled(decoded: Decoded, size: tuple[int, int]) -> Image.Image:
    """``decoded.image`` at ``size``: from the largest output when that is twice as large."""
    im = decoded.image
    big = decoded.largest
    gap = _REDUCING_GAP
    if big is not None and im.size != big and big[0] >= 2 * size[0] and big[1] >= 2 * size[1]:
        im = _resize(im, big) if big not in decoded.steps else decoded.steps[big]
        decoded.steps[big] = im
        gap = _DERIVED_GAP
    elif big is not None and size == big and big in decoded.steps:
        return decoded.steps[big]
    return im if im.size == size else _resize(im, size, gap)


def _resize(im: Image.Image, size: tuple[int, int], gap: float = _REDUCING_GAP) -> Image.Image:
    # reducing_gap: integer box reduction first, then Lanczos on the last 3x:
    # as good as a full Lanczos at a fraction of the cost.
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)


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


def _save(im: Image.Image, path: str, fmt: Format, quality: int) -> bytes:
    """Encode ``im`` for ``path`` into memory (thumbnails are small), with one-line errors.

    In memory, because Pillow's encoders write to a real file descriptor
    unchecked: a short write on a full disk would go unnoticed.
    """
    out = OUTPUTS[fmt]
    params = {"quality": quality} if out.takes_quality else {}
    buf = io.BytesIO()
    try:
        im.save(buf, format=out.pillow_format, **params)
    except OSError as exc:
        raise _output_error(path, exc) from None
    except MemoryError:
        raise
    except Exception as exc:
        # Encoders raise ValueError and friends for what they cannot store.
        raise OutputError(f"Cannot encode {display_path(path)}: {reason(exc)}") from None
    return buf.getvalue()


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
