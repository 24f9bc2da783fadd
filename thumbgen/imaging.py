"""The imaging core: one source file in, every requested thumbnail out.

The source is decoded once, as small as the largest output allows (JPEG DCT
scaling through ``draft``), turned upright from its EXIF orientation and
converted to sRGB; then each output is resampled, cropped or padded and
written atomically (a temporary file in the target folder, then
``os.replace``), so no reader ever sees a partial thumbnail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import geometry
from .colour import has_transparency, to_srgb
from .errors import (
    CorruptImage,
    NotAnImage,
    OutputError,
    SourceError,
    SourceMissing,
    TooManyPixels,
    TransientError,
)
from .naming import render
from .options import Format, Options, OutputSpec

#: Formats thumbgen decodes; rarer Pillow decoders stay off (less attack surface).
READ_FORMATS = (
    "JPEG", "PNG", "GIF", "WEBP", "AVIF", "TIFF", "BMP", "DIB", "ICO", "PPM", "TGA",
    "JPEG2000", "PSD", "QOI", "PCX", "SGI", "DDS",
)  # fmt: skip

EXTENSIONS = {Format.JPEG: "jpg", Format.PNG: "png", Format.WEBP: "webp", Format.AVIF: "avif"}
_PILLOW_FORMAT = {Format.JPEG: "JPEG", Format.PNG: "PNG", Format.WEBP: "WEBP", Format.AVIF: "AVIF"}
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
# Keep at least this factor between the decoded and the final size: the last
# Lanczos step then has real pixels to work with (libvips keeps 2x too).
_DRAFT_GAP = 2.0
_REDUCING_GAP = 3.0
_PILLOW_LIMIT_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    """One written thumbnail."""

    path: str
    width: int
    height: int
    format: Format


def make_thumbnails(source: str, options: Options, *, rel_dir: str = "") -> list[Thumbnail]:
    """Decode ``source`` once and write every thumbnail ``options`` asks for.

    ``rel_dir`` fills ``{dir}`` in the name template. Raises a
    :class:`~thumbgen.errors.ThumbgenError` subclass for every expected
    problem (missing, not an image, corrupt, too large, unwritable output).
    """
    upright = decode(source, options)
    return [write(upright, spec, options, source=source, rel_dir=rel_dir) for spec in options.specs]


def decode(source: str, options: Options) -> Image.Image:
    """Open, size-check, decode small, orient and colour-convert ``source``."""
    with _open(source) as im:
        if im.width * im.height > options.max_pixels:
            raise TooManyPixels(
                f"Too many pixels: {source} is {im.width}x{im.height} "
                f"({im.width * im.height:,} pixels, limit {options.max_pixels:,}); "
                "raise --max-pixels if you trust this file"
            )
        orientation = _orientation(im)
        swap = orientation in (5, 6, 7, 8)
        upright = (im.height, im.width) if swap else im.size
        plans = [geometry.plan(spec, *upright) for spec in options.specs]
        want_w, want_h = geometry.decode_target(plans)
        if swap:
            want_w, want_h = want_h, want_w
        with _pillow_errors(source):
            # Shrink-on-load: libjpeg decodes at 1/2, 1/4 or 1/8 scale for free.
            im.draft(None, (int(want_w * _DRAFT_GAP), int(want_h * _DRAFT_GAP)))
            im.load()
        pixels = im if orientation not in _TRANSPOSE else im.transpose(_TRANSPOSE[orientation])
        return to_srgb(pixels, source)


def write(
    image: Image.Image, spec: OutputSpec, options: Options, *, source: str, rel_dir: str = ""
) -> Thumbnail:
    """Resample ``image`` (upright, sRGB) for ``spec`` and write it atomically."""
    thumb = _render(image, spec)
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
        ext=EXTENSIONS[fmt],
    )
    path = os.path.join(options.out_dir, rel)
    _save_atomic(thumb, path, fmt, spec.quality)
    return Thumbnail(path, thumb.width, thumb.height, fmt)


def _render(image: Image.Image, spec: OutputSpec) -> Image.Image:
    plan = geometry.plan(spec, image.width, image.height)
    im = image
    if im.size != plan.resize:
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
    if fmt is Format.JPEG and im.mode in ("LA", "RGBA"):
        flat = Image.new("RGB", im.size, background[:3])
        rgba = im.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif fmt in (Format.WEBP, Format.AVIF) and im.mode in ("L", "LA"):
        im = im.convert("RGBA" if im.mode == "LA" else "RGB")
    elif im.mode in ("LA", "RGBA") and not has_transparency(im):
        im = im.convert("L" if im.mode == "LA" else "RGB")
    else:
        im = im.copy()
    # Thumbnails carry no metadata: no EXIF (GPS above all), no XMP, no
    # profile (the pixels are sRGB now, which is what untagged images mean).
    im.info = {}
    return im


def _save_atomic(im: Image.Image, path: str, fmt: Format, quality: int) -> None:
    params: dict[str, Any] = {}
    if fmt in (Format.JPEG, Format.WEBP, Format.AVIF):
        params["quality"] = quality
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _output_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            im.save(f, format=_PILLOW_FORMAT[fmt], **params)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _output_error(path, exc) from None
        raise


def _output_error(path: str, exc: OSError) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.EBUSY):
        return TransientError(f"Cannot write {path}: {exc.strerror} (will retry)")
    if exc.errno is None:
        return OutputError(f"Cannot encode {path}: {exc}")
    return OutputError(f"Cannot write {path}: {exc.strerror}; check --out and its permissions")


@contextlib.contextmanager
def _open(source: str) -> Iterator[Image.Image]:
    """Open ``source`` reading only its header, with clear errors for every failure."""
    try:
        f = open(source, "rb")  # noqa: SIM115 - closed below, after the image
    except OSError as exc:
        raise _source_error(source, exc) from None
    with f:
        with _pillow_errors(source), _pillow_limit_lifted():
            try:
                im = Image.open(f, formats=READ_FORMATS)
            except UnidentifiedImageError:
                raise NotAnImage(
                    f"Not an image thumbgen can read: {source} "
                    "(content is not JPEG, PNG, GIF, WebP, AVIF, TIFF, BMP or another known format)"
                ) from None
        # Not closed here: close() would also drop the decoded pixels, and the
        # file handle it would release is ours and closed by ``with f``.
        yield im


def stat_source(source: str) -> os.stat_result:
    """``os.stat`` with the same one-line errors as reading the file."""
    try:
        return os.stat(source)
    except OSError as exc:
        raise _source_error(source, exc) from None


def _source_error(source: str, exc: OSError) -> Exception:
    if isinstance(exc, FileNotFoundError):
        return SourceMissing(f"Source file not found: {source} (moved or deleted?)")
    if isinstance(exc, IsADirectoryError):
        return NotAnImage(f"Not an image: {source} is a folder")
    if isinstance(exc, PermissionError):
        return SourceError(f"Permission denied reading {source}")
    return TransientError(f"Cannot read {source}: {exc.strerror or exc}")


@contextlib.contextmanager
def _pillow_limit_lifted() -> Iterator[None]:
    # Pillow's own decompression-bomb check is process-wide; thumbgen applies
    # --max-pixels itself right after reading the header, so the user can
    # raise the limit. The lock keeps concurrent callers from restoring early.
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


@contextlib.contextmanager
def _pillow_errors(source: str) -> Iterator[None]:
    """Turn whatever a decoder raises on damaged data into a one-line error."""
    try:
        with warnings.catch_warnings():
            # Odd EXIF or truncated metadata only warns; the pixels decide.
            warnings.simplefilter("ignore")
            yield
    except SourceError:
        raise
    except OSError as exc:
        if exc.errno is not None:
            raise TransientError(f"Cannot read {source}: {exc.strerror}") from None
        raise CorruptImage(f"Corrupt image: {source} ({_reason(exc)})") from None
    except MemoryError:
        raise TooManyPixels(f"Too large to decode in memory: {source}") from None
    except Exception as exc:
        # Decoders raise SyntaxError, ValueError, struct.error, EOFError...
        # on malformed input; all mean the same thing to the user.
        raise CorruptImage(f"Corrupt image: {source} ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8; 0, missing or malformed EXIF count as 1 (upright)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
