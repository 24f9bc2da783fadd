"""The imaging core: one source stream in, every requested thumbnail out as bytes.

The source is decoded once (:mod:`.decode`: as small as the largest output
allows, upright, sRGB); then each output is resampled, cropped or padded and
encoded in memory. Storing them, together and atomically, is the caller's
(:mod:`thumbgen.storage`): Pillow's encoders write to a file unchecked, and
a short write on a full disk once went unnoticed.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from PIL import Image

from thumbgen.errors import OutputError, TooManyPixels
from thumbgen.messages import display_path, reason
from thumbgen.options import Format, Options, OutputSpec, Placeholder

from . import animation, geometry, placeholders
from .colour import finish, has_transparency
from .decode import Decoded, decode
from .formats import OUTPUTS
from .results import Encoded, NameFor, Rendered

__all__ = ["Encoded", "NameFor", "Rendered", "encode", "encode_all", "render_all"]

_REDUCING_GAP = 3.0
#: For a smaller output resampled from the largest one (already Lanczos-clean):
#: reducing by whole factors down to twice the size, libvips' own gap. On the
#: peers' photos, 256 and 128 px from 1024 px then take 6.2 ms instead of
#: 10.9, and the 256 px error in a three-size run goes from 4.940 to 4.965
#: (5.146 with 256 px alone, from the 1/8 decode).
_DERIVED_GAP = 2.0


def encode_all(f: BinaryIO, source: str, options: Options, name_for: NameFor) -> list[Encoded]:
    """Decode the source open as ``f`` once and encode every thumbnail ``options`` asks for.

    ``source`` names it in messages; ``name_for`` names each output. Nothing
    is written: the caller stores the set, all or none. Raises a
    :class:`~thumbgen.errors.ThumbgenError` subclass for every expected
    problem (not an image, corrupt, too large, not encodable).
    """
    return render_all(f, source, options, name_for).outputs


def render_all(
    f: BinaryIO, source: str, options: Options, name_for: NameFor, max_memory: int = 0
) -> Rendered:
    """:func:`encode_all`, with the source's size, orientation, average colour and placeholder.

    The colour and placeholder come from the pixels decoded for the
    thumbnails (the largest one's, when made): no second decode. With
    ``--animated`` an animation or video gives animated outputs
    (:mod:`.animation`), its frames held within ``max_memory`` bytes (0: no limit).
    """
    if not options.specs:
        return Rendered([])
    hashed = "{hash}" in options.name
    if options.animated:
        frames = animation.read(f, source, options, max_memory)
        if frames is not None:
            return animation.render(frames, source, options, name_for, hashed)
    decoded = decode(f, source, options)
    made = [_encode_spec(decoded, spec, source, name_for, hashed) for spec in options.specs]
    colour = text = ""
    if options.placeholder or options.manifest:
        small = placeholders.shrink(finish(_smallest_made(decoded), decoded.transform))
        colour = placeholders.average_colour(small)
        if options.placeholder:
            text = placeholders.encode(small, Placeholder(options.placeholder))
    return Rendered(made, decoded.source_size, decoded.orientation, colour, text, decoded.media)


def _smallest_made(decoded: Decoded) -> Image.Image:
    """The fewest pixels that still show the whole picture: a resampled step, or the decode."""
    steps = [im for im in decoded.steps.values() if im.width * im.height > 0]
    return min(steps, key=lambda im: im.width * im.height) if steps else decoded.image


def _encode_spec(
    decoded: Decoded, spec: OutputSpec, source: str, name_for: NameFor, hashed: bool
) -> Encoded:
    try:
        return encode(decoded, spec, name_for, hashed=hashed)
    except MemoryError:
        # Resampling or encoding a huge (but allowed) source: the same
        # advice as a decode that ran out of memory, not an internal error.
        raise TooManyPixels(
            f"Not enough memory to make the {spec.size.label} thumbnail of "
            f"{display_path(source)}; run fewer workers (-w), ask for smaller sizes "
            "or lower --max-pixels to refuse such files"
        ) from None


def encode(
    decoded: Decoded, spec: OutputSpec, name_for: NameFor, *, hashed: bool = False
) -> Encoded:
    """Resample ``decoded`` for ``spec`` and encode it.

    ``hashed``: the name holds ``{hash}``, so it is asked for again once the
    bytes (and so their hash) are known.
    """
    thumb, crop = _render(decoded, spec)
    fmt = spec.format
    if fmt is Format.AUTO:
        fmt = Format.PNG if has_transparency(thumb) else Format.JPEG
    thumb = _prepare(thumb, fmt, spec.background)
    name = name_for(spec, thumb.width, thumb.height, fmt, "")
    data = _save(thumb, name, fmt, spec.quality)
    digest = hashlib.sha256(data).hexdigest()
    if hashed:
        name = name_for(spec, thumb.width, thumb.height, fmt, digest)
    return Encoded(spec, name, thumb.width, thumb.height, fmt, data, digest, crop)


def _render(
    decoded: Decoded, spec: OutputSpec
) -> tuple[Image.Image, tuple[int, int, int, int] | None]:
    plan = geometry.plan(spec, *decoded.source_size)
    im = _resampled(decoded, plan.resize)
    # Colour after resizing: fewer pixels to convert, and before the crop
    # (entropy looks at the colours) and the pad (its background is sRGB).
    im = finish(im, decoded.transform)
    box = None
    if plan.crop is not None:
        left, top = geometry.crop_origin(im, plan.crop, spec.crop)
        window = (left, top, left + plan.crop[0], top + plan.crop[1])
        im = im.crop(window)
        box = geometry.in_source(window, plan.resize, decoded.source_size)
    if plan.canvas is not None:
        canvas = Image.new("RGBA", plan.canvas, spec.background)
        offset = ((plan.canvas[0] - im.width) // 2, (plan.canvas[1] - im.height) // 2)
        canvas.paste(im.convert("RGBA"), offset)
        im = canvas if has_transparency(canvas) else canvas.convert("RGB")
    return im, box


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


def _save(im: Image.Image, name: str, fmt: Format, quality: int) -> bytes:
    """Encode ``im`` (the output ``name``) into memory, with one-line errors."""
    out = OUTPUTS[fmt]
    params = {"quality": quality} if out.takes_quality else {}
    buf = io.BytesIO()
    try:
        im.save(buf, format=out.pillow_format, **params)
    except MemoryError:
        raise
    except Exception as exc:
        # Encoders raise ValueError, and OSError without an errno, and
        # friends for what they cannot store (writing is the caller's).
        raise OutputError(f"Cannot encode {display_path(name)}: {reason(exc)}") from None
    return buf.getvalue()
